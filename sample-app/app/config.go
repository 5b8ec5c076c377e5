package app

import (
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"time"
)

// Defaults used when a variable is unset (or, for the colour, invalid).
const (
	DefaultPort            = "8080"
	DefaultMessage         = "Hello from Slipway"
	DefaultColor           = "#1f6feb"
	DefaultStack           = "local"
	DefaultShutdownTimeout = 10 * time.Second
	// MaxDelay bounds APP_DELAY: a drill must not hold connections for long.
	MaxDelay = 10 * time.Second
)

// Config is what the app shows and how it shuts down. Version and Commit are
// not read from the environment: the binary's build sets them.
type Config struct {
	Port            string        // PORT: TCP port to listen on ("0" picks a free one)
	Message         string        // APP_MESSAGE: greeting on the page
	Color           string        // APP_COLOR: page accent, a CSS colour name or #rgb/#rrggbb
	Stack           string        // SLIPWAY_STACK: the stack serving this copy
	ShutdownTimeout time.Duration // SHUTDOWN_TIMEOUT: how long in-flight requests may run after SIGTERM
	FailPercent     int           // APP_FAIL_PERCENT: share of page and /version requests answered 500, for canary drills
	Delay           time.Duration // APP_DELAY: added to every request but /healthz (at most MaxDelay), for canary latency drills
	Version         string        // build version (-X main.version)
	Commit          string        // build commit (-X main.commit)
	Dirty           bool          // built from uncommitted changes on top of Commit (-X main.dirty=true)
}

// DefaultConfig returns the configuration used when no variable is set.
func DefaultConfig() Config {
	return Config{
		Port:            DefaultPort,
		Message:         DefaultMessage,
		Color:           DefaultColor,
		Stack:           DefaultStack,
		ShutdownTimeout: DefaultShutdownTimeout,
		Version:         "dev",
		Commit:          "unknown",
	}
}

// colorPattern accepts a CSS colour keyword (letters only) or a hex colour.
// Anything else could break out of the style sheet, so it is refused.
var colorPattern = regexp.MustCompile(`^(?:[A-Za-z]{1,32}|#[0-9A-Fa-f]{3}|#[0-9A-Fa-f]{6})$`)

// ValidColor reports whether c is a colour the page may use: a name made of
// letters, or #rgb, or #rrggbb.
func ValidColor(c string) bool { return colorPattern.MatchString(c) }

// LoadConfig reads the configuration from getenv (os.Getenv in main). An
// unsafe APP_COLOR falls back to the default and is logged; a PORT or
// SHUTDOWN_TIMEOUT that cannot be used is an error, because guessing would
// make the app listen or stop somewhere nobody expects.
func LoadConfig(getenv func(string) string, log *slog.Logger) (Config, error) {
	cfg := DefaultConfig()
	if v := getenv("PORT"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 65535 {
			return Config{}, fmt.Errorf("load config: PORT=%q is not a port number (0-65535)", v)
		}
		cfg.Port = strconv.Itoa(n)
	}
	if v := getenv("APP_MESSAGE"); v != "" {
		cfg.Message = v
	}
	if v := getenv("APP_COLOR"); v != "" {
		if ValidColor(v) {
			cfg.Color = v
		} else {
			log.Warn("APP_COLOR is not a colour name or #rgb/#rrggbb; using the default",
				"value", v, "default", DefaultColor)
		}
	}
	if v := getenv("SLIPWAY_STACK"); v != "" {
		cfg.Stack = v
	}
	if v := getenv("APP_FAIL_PERCENT"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 100 {
			return Config{}, fmt.Errorf("load config: APP_FAIL_PERCENT=%q is not a percentage (0-100)", v)
		}
		cfg.FailPercent = n
	}
	if v := getenv("APP_DELAY"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || d > MaxDelay {
			return Config{}, fmt.Errorf("load config: APP_DELAY=%q is not a Go duration from 0s to %s such as 200ms", v, MaxDelay)
		}
		cfg.Delay = d
	}
	if v := getenv("SHUTDOWN_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return Config{}, fmt.Errorf("load config: SHUTDOWN_TIMEOUT=%q is not a positive Go duration such as 10s", v)
		}
		cfg.ShutdownTimeout = d
	}
	return cfg, nil
}

// withDefaults fills empty fields, so that a Config built in a test or by
// hand is always safe to serve.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Port == "" {
		c.Port = d.Port
	}
	if c.Message == "" {
		c.Message = d.Message
	}
	if !ValidColor(c.Color) {
		c.Color = d.Color
	}
	if c.Stack == "" {
		c.Stack = d.Stack
	}
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = d.ShutdownTimeout
	}
	if c.Version == "" {
		c.Version = d.Version
	}
	if c.Commit == "" {
		c.Commit = d.Commit
	}
	return c
}
