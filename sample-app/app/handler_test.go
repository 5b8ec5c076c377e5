package app

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func testConfig() Config {
	return Config{Message: "Hello PR 42", Color: "#336699", Stack: "pr-42-green",
		Version: "v1.2.3", Commit: "0123abcd"}
}

func get(t *testing.T, h http.Handler, method, path string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec
}

func TestPageShowsWhichBuildAndStackAnswered(t *testing.T) {
	rec := get(t, New(testConfig(), nil), http.MethodGet, "/")
	if rec.Code != http.StatusOK {
		t.Fatalf("GET / status = %d, want 200", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type = %q, want text/html", ct)
	}
	body := rec.Body.String()
	for _, want := range []string{
		`<meta name="slipway-commit" content="0123abcd">`,
		`<meta name="slipway-stack" content="pr-42-green">`,
		`data-commit="0123abcd"`,
		`<h1>Hello PR 42</h1>`,
		`<dd id="version">v1.2.3</dd>`,
		`<dd id="stack">pr-42-green</dd>`,
		`background: #336699;`,
		`border-top: 12px solid #336699;`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page does not contain %q:\n%s", want, body)
		}
	}
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("Content-Security-Policy = %q, want scripts forbidden", csp)
	}
}

func TestPageEscapesEverythingItShows(t *testing.T) {
	tests := map[string]struct {
		edit    func(*Config)
		mustNot []string
		must    []string
	}{
		"a script tag in the message is shown as text": {
			edit:    func(c *Config) { c.Message = `<script>alert("x")</script>` },
			mustNot: []string{"<script>"},
			must:    []string{"&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"},
		},
		"a quote in the commit cannot leave the attribute": {
			edit:    func(c *Config) { c.Commit = `abc" onload="alert(1)` },
			mustNot: []string{`" onload="`},
			must:    []string{`content="abc&#34; onload=&#34;alert(1)"`},
		},
		"markup in the stack name is escaped": {
			edit:    func(c *Config) { c.Stack = `</title><img src=x>` },
			mustNot: []string{"<img"},
			must:    []string{"&lt;/title&gt;&lt;img src=x&gt;"},
		},
		"an unsafe colour never reaches the style sheet": {
			edit:    func(c *Config) { c.Color = `red}</style><script>alert(1)</script>` },
			mustNot: []string{"<script>", "red}"},
			must:    []string{"background: " + DefaultColor + ";"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cfg := testConfig()
			tc.edit(&cfg)
			body := get(t, New(cfg, nil), http.MethodGet, "/").Body.String()
			for _, s := range tc.mustNot {
				if strings.Contains(body, s) {
					t.Errorf("page contains %q unescaped:\n%s", s, body)
				}
			}
			for _, s := range tc.must {
				if !strings.Contains(body, s) {
					t.Errorf("page does not contain %q:\n%s", s, body)
				}
			}
		})
	}
}

func TestVersionReportsBuildAndStackAsJSON(t *testing.T) {
	rec := get(t, New(testConfig(), nil), http.MethodGet, "/version")
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /version status = %d, want 200", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	var got VersionInfo
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatalf("decode %q: %v", rec.Body.String(), err)
	}
	want := VersionInfo{Version: "v1.2.3", Commit: "0123abcd", Stack: "pr-42-green", Message: "Hello PR 42"}
	if got != want {
		t.Errorf("/version = %+v, want %+v", got, want)
	}
}

// A build from uncommitted changes is never shown as the clean commit: the
// page and /version both say dirty.
func TestADirtyBuildSaysSoOnThePageAndInVersion(t *testing.T) {
	cfg := testConfig()
	cfg.Version, cfg.Dirty = "v1.2.3-dirty", true
	a := New(cfg, nil)
	var got VersionInfo
	rec := get(t, a, http.MethodGet, "/version")
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatalf("decode %q: %v", rec.Body.String(), err)
	}
	if !got.Dirty || got.Version != "v1.2.3-dirty" || got.Commit != "0123abcd" {
		t.Errorf("/version = %+v, want dirty true, version v1.2.3-dirty, commit 0123abcd", got)
	}
	page := get(t, a, http.MethodGet, "/").Body.String()
	for _, want := range []string{`<meta name="slipway-dirty" content="true">`, `<dd id="dirty">dirty: built with uncommitted changes`, `<dd id="version">v1.2.3-dirty</dd>`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s:\n%s", want, page)
		}
	}
	clean := get(t, New(testConfig(), nil), http.MethodGet, "/").Body.String()
	if !strings.Contains(clean, `<meta name="slipway-dirty" content="false">`) || strings.Contains(clean, `id="dirty"`) {
		t.Errorf("a clean build's page must not say dirty:\n%s", clean)
	}
}

func TestHealthIsOKUntilShutdownStarts(t *testing.T) {
	a := New(testConfig(), nil)
	if rec := get(t, a, http.MethodGet, "/healthz"); rec.Code != http.StatusOK || rec.Body.String() != "ok\n" {
		t.Fatalf("before shutdown: /healthz = %d %q, want 200 \"ok\\n\"", rec.Code, rec.Body.String())
	}
	a.StartShutdown()
	if rec := get(t, a, http.MethodGet, "/healthz"); rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("after shutdown started: /healthz = %d, want 503", rec.Code)
	}
	if a.Healthy() {
		t.Error("Healthy() = true after StartShutdown")
	}
}

func TestRoutes(t *testing.T) {
	tests := map[string]struct {
		method, path string
		want         int
	}{
		"the page answers HEAD for cheap probes": {http.MethodHead, "/", http.StatusOK},
		"an unknown path is not found":           {http.MethodGet, "/nope", http.StatusNotFound},
		"a POST to the page is not allowed":      {http.MethodPost, "/", http.StatusMethodNotAllowed},
		"a POST to health is not allowed":        {http.MethodPost, "/healthz", http.StatusMethodNotAllowed},
	}
	a := New(testConfig(), nil)
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			rec := get(t, a, tc.method, tc.path)
			if rec.Code != tc.want {
				t.Errorf("%s %s status = %d, want %d", tc.method, tc.path, rec.Code, tc.want)
			}
			if rec.Header().Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", rec.Header().Get("Cache-Control"))
			}
		})
	}
}

func TestSlowAnswersAfterTheDelayAndRefusesUnboundedOnes(t *testing.T) {
	a := New(Config{Commit: "abc1234"}, nil)
	tests := []struct {
		name, query string
		want        int
	}{
		{"short delay answers with the version", "?ms=20", http.StatusOK},
		{"missing delay is refused", "", http.StatusBadRequest},
		{"over thirty seconds is refused", "?ms=30001", http.StatusBadRequest},
		{"negative delay is refused", "?ms=-1", http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			start := time.Now()
			a.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/slow"+tt.query, nil))
			if rec.Code != tt.want {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.want, rec.Body)
			}
			if tt.want == http.StatusOK && (time.Since(start) < 20*time.Millisecond || !strings.Contains(rec.Body.String(), "abc1234")) {
				t.Fatalf("answered too early or without the version: %s", rec.Body)
			}
		})
	}
}

func TestFailPercentFailsThatShareOfRequestsSpreadEvenlyButNeverHealth(t *testing.T) {
	a := New(Config{FailPercent: 20}, nil)
	var failed []int
	for i := 1; i <= 20; i++ {
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/version", nil))
		if rec.Code == http.StatusInternalServerError {
			failed = append(failed, i)
		}
	}
	if fmt.Sprint(failed) != "[5 10 15 20]" {
		t.Fatalf("failed requests %v, want every fifth", failed)
	}
	for i := 0; i < 10; i++ {
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
		if rec.Code != http.StatusOK {
			t.Fatalf("/healthz answered %d with APP_FAIL_PERCENT set", rec.Code)
		}
	}
}
