package scaffold

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// writeTree writes files (path: content) under dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, content := range files {
		path := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

const dockerfile5000 = "FROM debian:bookworm-slim\nEXPOSE 5000\nHEALTHCHECK CMD curl -f http://localhost:5000/health\n"

func TestDetectFindsTheAppsSettings(t *testing.T) {
	pytest := []string{"python3", "-m", "pytest", "--junitxml=test-results/junit.xml"}
	for _, tc := range []struct {
		name   string
		files  map[string]string
		o      Options
		want   Spec   // App, Port, Health, Test and JUnit are compared
		testBy string // a substring of TestFrom
	}{
		{
			name:  "Dockerfile EXPOSE and HEALTHCHECK, unittest files in tests/",
			files: map[string]string{"Dockerfile": dockerfile5000, "tests/test_app.py": ""},
			want:  Spec{App: "shop", Port: 5000, Health: "/health", Test: []string{"python3", "-m", "unittest", "discover", "-s", "tests", "-v"}},
		},
		{
			name:  "package.json's test script: npm test",
			files: map[string]string{"Dockerfile": "FROM node\nEXPOSE 3000\n", "package.json": `{"scripts": {"test": "node --test"}}`},
			want:  Spec{App: "shop", Port: 3000, Health: "/healthz", Test: []string{"npm", "test"}},
		},
		{
			name: "npm init's placeholder test script is no test command",
			files: map[string]string{"Dockerfile": "FROM node\nEXPOSE 3000\n", "test/test_api.py": "",
				"package.json": `{"scripts": {"test": "echo \"Error: no test specified\" && exit 1"}}`},
			want: Spec{App: "shop", Port: 3000, Health: "/healthz", Test: []string{"python3", "-m", "unittest", "discover", "-s", "test", "-v"}},
		},
		{
			name:  "pyproject.toml with pytest: pytest with a JUnit report",
			files: map[string]string{"Dockerfile": dockerfile5000, "pyproject.toml": "[tool.pytest.ini_options]\naddopts = \"-q\"\n", "tests/test_app.py": ""},
			want:  Spec{App: "shop", Port: 5000, Health: "/health", Test: pytest, JUnit: "test-results/junit.xml"},
		},
		{
			name:  "setup.cfg with [tool:pytest]",
			files: map[string]string{"Dockerfile": dockerfile5000, "setup.cfg": "[metadata]\nname = shop\n[tool:pytest]\ntestpaths = tests\n"},
			want:  Spec{App: "shop", Port: 5000, Health: "/health", Test: pytest, JUnit: "test-results/junit.xml"},
		},
		{
			name:  "pytest.ini",
			files: map[string]string{"Dockerfile": dockerfile5000, "pytest.ini": "[pytest]\n"},
			want:  Spec{App: "shop", Port: 5000, Health: "/health", Test: pytest, JUnit: "test-results/junit.xml"},
		},
		{
			name:  "a pyproject.toml without pytest is not a pytest configuration",
			files: map[string]string{"Dockerfile": dockerfile5000, "pyproject.toml": "[project]\nname = \"shop\"\n", "tests/test_app.py": ""},
			want:  Spec{App: "shop", Port: 5000, Health: "/health", Test: []string{"python3", "-m", "unittest", "discover", "-s", "tests", "-v"}},
		},
		{
			name:  "go.mod with packages: go test",
			files: map[string]string{"Dockerfile": "FROM scratch\nEXPOSE 8080\n", "go.mod": "module example.com/shop\n", "cmd/shop/main.go": "package main\n"},
			want:  Spec{App: "shop", Port: 8080, Health: "/healthz", Test: []string{"go", "test", "-count=1", "-json", "./..."}},
		},
		{
			name: "a go.mod init wrote for the magefiles is not a Go app",
			files: map[string]string{"Dockerfile": dockerfile5000, "go.mod": "module shop\n", "mage.go": "//go:build ignore\n",
				"magefiles/magefile.go": "//go:build mage\n", "tests/test_app.py": ""},
			want: Spec{App: "shop", Port: 5000, Health: "/health", Test: []string{"python3", "-m", "unittest", "discover", "-s", "tests", "-v"}},
		},
		{
			name:  "flags win over what is found",
			files: map[string]string{"Dockerfile": dockerfile5000, "package.json": `{"scripts": {"test": "jest"}}`},
			o:     Options{App: "storefront", Port: 8000, Health: "/up", Test: []string{"make", "e2e"}},
			want:  Spec{App: "storefront", Port: 8000, Health: "/up", Test: []string{"make", "e2e"}},
		},
		{
			name:  "-port stands in for a Dockerfile without EXPOSE",
			files: map[string]string{"Dockerfile": "FROM debian\n", "tests/test_app.py": ""},
			o:     Options{Port: 9000},
			want:  Spec{App: "shop", Port: 9000, Health: "/healthz", Test: []string{"python3", "-m", "unittest", "discover", "-s", "tests", "-v"}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "shop")
			writeTree(t, dir, tc.files)
			got, err := Detect(dir, tc.o)
			if err != nil {
				t.Fatalf("Detect: %v", err)
			}
			if got.App != tc.want.App || got.Port != tc.want.Port || got.Health != tc.want.Health || !slices.Equal(got.Test, tc.want.Test) || got.JUnit != tc.want.JUnit {
				t.Errorf("Detect = app %q, port %d, health %q, test %q, junit %q;\nwant app %q, port %d, health %q, test %q, junit %q",
					got.App, got.Port, got.Health, got.Test, got.JUnit, tc.want.App, tc.want.Port, tc.want.Health, tc.want.Test, tc.want.JUnit)
			}
			if got.AppFrom == "" || got.PortFrom == "" || got.HealthFrom == "" || got.TestFrom == "" {
				t.Errorf("Detect = %+v; want where each value came from", got)
			}
			if data, err := renderManifest(dir, got); err != nil {
				t.Errorf("the slipway.yaml of %+v: %v\n%s", got, err, data)
			}
		})
	}
}

func TestDetectSaysWhichFlagToPass(t *testing.T) {
	for _, tc := range []struct {
		name  string
		dir   string // the directory's name; "shop" when empty
		files map[string]string
		o     Options
		want  []string // substrings of the error
	}{
		{name: "nothing found: -port and -test, at once", files: map[string]string{"Dockerfile": "FROM debian\n"},
			want: []string{"no EXPOSE: pass -port=N", "no test command found", "pass -test="}},
		{name: "no Dockerfile", files: map[string]string{"app.py": ""}, want: []string{"no Dockerfile in", "add it"}},
		{name: "two exposed ports", files: map[string]string{"Dockerfile": "FROM debian\nEXPOSE 80 443\n", "tests/test_a.py": ""},
			want: []string{"exposes 80 and 443", "pass -port=N"}},
		{name: "a directory name that makes no app name", dir: "___", files: map[string]string{"Dockerfile": dockerfile5000, "tests/test_a.py": ""},
			want: []string{"pass -app=NAME"}},
		{name: "an invalid -app", o: Options{App: "Shop_1"}, files: map[string]string{"Dockerfile": dockerfile5000, "tests/test_a.py": ""},
			want: []string{`invalid app name "Shop_1"`, "pass -app=NAME"}},
		{name: "a -health that is not a URL path", o: Options{Health: "health\nsecrets: {}"}, files: map[string]string{"Dockerfile": dockerfile5000, "tests/test_a.py": ""},
			want: []string{"want an absolute URL path", "pass -health=PATH"}},
		{name: "a -port out of range", o: Options{Port: 70000}, files: map[string]string{"Dockerfile": dockerfile5000, "tests/test_a.py": ""},
			want: []string{"-port=70000: want a port from 1 to 65535"}},
		{name: "a package.json that is not JSON", files: map[string]string{"Dockerfile": dockerfile5000, "package.json": "{"},
			want: []string{"read package.json", "pass -test="}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := tc.dir
			if name == "" {
				name = "shop"
			}
			dir := filepath.Join(t.TempDir(), name)
			writeTree(t, dir, tc.files)
			_, err := Detect(dir, tc.o)
			if err == nil {
				t.Fatal("Detect succeeded; want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Detect error:\n%v\nwant it to contain %q", err, w)
				}
			}
		})
	}
}

func TestAppNameFromADirectoryName(t *testing.T) {
	for in, want := range map[string]string{
		"python-shop":                 "python-shop",
		"My_Shop.v2":                  "my-shop-v2",
		"2fast":                       "app-2fast",
		"a-very-long-repository-name": "a-very-long-reposito",
		"abcdefghijklmnopqrs-tuv":     "abcdefghijklmnopqrs",
	} {
		if got := appName(in); got != want {
			t.Errorf("appName(%q) = %q; want %q", in, got, want)
		}
	}
}
