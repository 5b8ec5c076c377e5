package app

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

var loadConfigCases = map[string]struct {
	env     map[string]string
	want    Config
	wantErr string
	wantLog string
}{
	"no variables set gives the defaults": {
		env:  map[string]string{},
		want: DefaultConfig(),
	},
	"every variable set is used": {
		env: map[string]string{
			"PORT": "9090", "APP_MESSAGE": "Hi", "APP_COLOR": "#abc",
			"SLIPWAY_STACK": "pr-42-blue", "SHUTDOWN_TIMEOUT": "1m30s",
		},
		want: Config{Port: "9090", Message: "Hi", Color: "#abc", Stack: "pr-42-blue",
			ShutdownTimeout: 90 * time.Second, Version: "dev", Commit: "unknown"},
	},
	"a colour name and a six-digit hex colour are accepted": {
		env:  map[string]string{"APP_COLOR": "RebeccaPurple"},
		want: with(DefaultConfig(), func(c *Config) { c.Color = "RebeccaPurple" }),
	},
	"an unsafe colour falls back to the default and is logged": {
		env:     map[string]string{"APP_COLOR": "red;}</style><script>"},
		want:    DefaultConfig(),
		wantLog: "APP_COLOR is not a colour name",
	},
	"a colour with a function call falls back to the default": {
		env:     map[string]string{"APP_COLOR": "url(http://evil)"},
		want:    DefaultConfig(),
		wantLog: "APP_COLOR",
	},
	"a port that is not a number is an error": {
		env:     map[string]string{"PORT": "http"},
		wantErr: `PORT="http" is not a port number`,
	},
	"a port out of range is an error": {
		env:     map[string]string{"PORT": "70000"},
		wantErr: `PORT="70000"`,
	},
	"a shutdown timeout without a unit is an error": {
		env:     map[string]string{"SHUTDOWN_TIMEOUT": "10"},
		wantErr: `SHUTDOWN_TIMEOUT="10" is not a positive Go duration`,
	},
	"a negative shutdown timeout is an error": {
		env:     map[string]string{"SHUTDOWN_TIMEOUT": "-1s"},
		wantErr: `SHUTDOWN_TIMEOUT="-1s"`,
	},
}

func TestLoadConfig(t *testing.T) {
	for name, tc := range loadConfigCases {
		t.Run(name, func(t *testing.T) {
			var logs bytes.Buffer
			log := slog.New(slog.NewTextHandler(&logs, nil))
			got, err := LoadConfig(func(k string) string { return tc.env[k] }, log)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("LoadConfig() error = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("LoadConfig() error = %v", err)
			}
			if got != tc.want {
				t.Errorf("LoadConfig() = %+v, want %+v", got, tc.want)
			}
			if tc.wantLog == "" && logs.Len() > 0 {
				t.Errorf("unexpected log output: %s", logs.String())
			}
			if !strings.Contains(logs.String(), tc.wantLog) {
				t.Errorf("log = %q, want it to contain %q", logs.String(), tc.wantLog)
			}
		})
	}
}

func TestValidColor(t *testing.T) {
	tests := map[string]bool{
		"red": true, "RebeccaPurple": true, "#fff": true, "#1F6FEB": true,
		"": false, "#ffff": false, "#gggggg": false, "red blue": false, "rgb(1,2,3)": false,
		"red;background:url(x)": false, "#fff\n": false,
	}
	for c, want := range tests {
		if got := ValidColor(c); got != want {
			t.Errorf("ValidColor(%q) = %v, want %v", c, got, want)
		}
	}
}

func TestNewFillsEmptyAndUnsafeFieldsWithDefaults(t *testing.T) {
	got := New(Config{Commit: "abc123", Color: "javascript:alert(1)"}, nil).Config()
	want := with(DefaultConfig(), func(c *Config) { c.Commit = "abc123" })
	if got != want {
		t.Errorf("New().Config() = %+v, want %+v", got, want)
	}
}

func with(c Config, edit func(*Config)) Config {
	edit(&c)
	return c
}

func TestAppFailPercentMustBeAPercentage(t *testing.T) {
	for _, v := range []string{"-1", "101", "ten"} {
		env := map[string]string{"APP_FAIL_PERCENT": v}
		if _, err := LoadConfig(func(k string) string { return env[k] }, nil); err == nil || !strings.Contains(err.Error(), "APP_FAIL_PERCENT") {
			t.Errorf("APP_FAIL_PERCENT=%s: err = %v, want one naming the variable", v, err)
		}
	}
	env := map[string]string{"APP_FAIL_PERCENT": "30"}
	if c, err := LoadConfig(func(k string) string { return env[k] }, nil); err != nil || c.FailPercent != 30 {
		t.Fatalf("APP_FAIL_PERCENT=30: %+v %v", c, err)
	}
}
