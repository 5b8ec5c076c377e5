package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Lifecycle holds the release lifecycle's settings: guards, strategy,
// the lock and cleanup.
type Lifecycle struct {
	DefaultBranch   string        // SLIPWAY_DEFAULT_BRANCH: "" means ask git (origin's HEAD), else main
	AllowDirty      bool          // SLIPWAY_ALLOW_DIRTY
	AllowBranch     bool          // SLIPWAY_ALLOW_BRANCH
	Strategy        string        // SLIPWAY_STRATEGY: all-at-once or canary
	CanarySteps     []int         // SLIPWAY_CANARY_STEPS
	CanaryBake      time.Duration // SLIPWAY_CANARY_BAKE
	MaxErrorRate    float64       // SLIPWAY_CANARY_MAX_ERROR_RATE
	MaxLatencyRatio float64       // SLIPWAY_CANARY_MAX_LATENCY_RATIO
	MinRequests     int           // SLIPWAY_CANARY_MIN_REQUESTS
	CanaryMaxBake   time.Duration // SLIPWAY_CANARY_MAX_BAKE: 5× CanaryBake when unset
	AllowUnjudged   bool          // SLIPWAY_CANARY_ALLOW_UNJUDGED
	Warm            time.Duration // SLIPWAY_WARM
	PreviewTTL      time.Duration // SLIPWAY_PREVIEW_TTL
	CleanupParallel int           // SLIPWAY_CLEANUP_PARALLEL
	CleanupDryRun   bool          // SLIPWAY_CLEANUP_DRY_RUN
	LockWait        time.Duration // SLIPWAY_LOCK_WAIT
	LockTTL         time.Duration // SLIPWAY_LOCK_TTL
}

// Strategies a release can use.
const (
	StrategyAllAtOnce = "all-at-once"
	StrategyCanary    = "canary"
)

var lifecycleSettings = []Setting{
	{"SLIPWAY_DEFAULT_BRANCH", "origin's HEAD, else main", "the branch production follows; release refuses others", false},
	{"SLIPWAY_ALLOW_DIRTY", "0", "1: release a working tree with uncommitted changes (the stack is marked dirty)", false},
	{"SLIPWAY_ALLOW_BRANCH", "0", "1: release a branch other than the default one", false},
	{"SLIPWAY_STRATEGY", "all-at-once", "how a release moves traffic: all-at-once or canary", false},
	{"SLIPWAY_CANARY_STEPS", "10,50,100", "canary: the new stack's share at each step, in percent", false},
	{"SLIPWAY_CANARY_BAKE", "60s", "canary: time at each step before the analysis", false},
	{"SLIPWAY_CANARY_MAX_ERROR_RATE", "0.01", "canary: how much the new stack's 5xx rate may exceed the old one's", false},
	{"SLIPWAY_CANARY_MAX_LATENCY_RATIO", "2", "canary: the new stack's mean latency may be at most this times the old one's (0: not checked)", false},
	{"SLIPWAY_CANARY_MIN_REQUESTS", "50", "canary: fewer requests in a step than this are too few to judge", false},
	{"SLIPWAY_CANARY_MAX_BAKE", "5× SLIPWAY_CANARY_BAKE", "canary: a step too few requests reached bakes on up to this long in all, then fails", false},
	{"SLIPWAY_CANARY_ALLOW_UNJUDGED", "0", "1: a canary step still too few to judge at SLIPWAY_CANARY_MAX_BAKE goes on with a note instead of failing (release -allowUnjudged)", false},
	{"SLIPWAY_WARM", "1h", "previous production stacks are scaled to zero after this long without traffic", false},
	{"SLIPWAY_PREVIEW_TTL", "168h", "previews are deleted this long after their last deploy", false},
	{"SLIPWAY_CLEANUP_PARALLEL", "4", "stacks cleanup deletes at once", false},
	{"SLIPWAY_CLEANUP_DRY_RUN", "0", "1: cleanup only prints its plan", false},
	{"SLIPWAY_LOCK_WAIT", "5m", "how long a release, rollback, traffic change or cleanup waits for another one's lock", false},
	{"SLIPWAY_LOCK_TTL", "2m", "the lock's lease; renewed every third of it, taken over after it expires", false},
}

func init() { Settings = append(Settings, lifecycleSettings...) }

// LoadLifecycle reads the lifecycle settings and returns every problem.
func LoadLifecycle(env func(string) string) (Lifecycle, error) {
	p := &parser{env: env}
	l := Lifecycle{
		DefaultBranch:   p.str("SLIPWAY_DEFAULT_BRANCH", ""),
		AllowDirty:      p.flag("SLIPWAY_ALLOW_DIRTY"),
		AllowBranch:     p.flag("SLIPWAY_ALLOW_BRANCH"),
		Strategy:        strings.ToLower(p.str("SLIPWAY_STRATEGY", StrategyAllAtOnce)),
		CanarySteps:     p.steps("SLIPWAY_CANARY_STEPS", []int{10, 50, 100}),
		CanaryBake:      p.duration("SLIPWAY_CANARY_BAKE", time.Minute),
		MaxErrorRate:    p.fraction("SLIPWAY_CANARY_MAX_ERROR_RATE", 0.01, 1),
		MaxLatencyRatio: p.fraction("SLIPWAY_CANARY_MAX_LATENCY_RATIO", 2, 100),
		MinRequests:     p.count("SLIPWAY_CANARY_MIN_REQUESTS", 50),
		Warm:            p.duration("SLIPWAY_WARM", time.Hour),
		PreviewTTL:      p.duration("SLIPWAY_PREVIEW_TTL", 7*24*time.Hour),
		CleanupParallel: p.count("SLIPWAY_CLEANUP_PARALLEL", 4),
		CleanupDryRun:   p.flag("SLIPWAY_CLEANUP_DRY_RUN"),
		LockWait:        p.duration("SLIPWAY_LOCK_WAIT", 5*time.Minute),
		LockTTL:         p.duration("SLIPWAY_LOCK_TTL", 2*time.Minute),
	}
	l.CanaryMaxBake = p.duration("SLIPWAY_CANARY_MAX_BAKE", 5*l.CanaryBake)
	l.AllowUnjudged = p.flag("SLIPWAY_CANARY_ALLOW_UNJUDGED")
	if l.CanaryMaxBake < l.CanaryBake {
		p.problem(fmt.Errorf("SLIPWAY_CANARY_MAX_BAKE=%s is shorter than SLIPWAY_CANARY_BAKE=%s: set it to at least the bake", l.CanaryMaxBake, l.CanaryBake))
	}
	if l.Strategy != StrategyAllAtOnce && l.Strategy != StrategyCanary {
		p.problem(fmt.Errorf("SLIPWAY_STRATEGY=%q is not a strategy: set it to all-at-once or canary", l.Strategy))
	}
	if l.CleanupParallel < 1 {
		p.problem(fmt.Errorf("SLIPWAY_CLEANUP_PARALLEL=%d: set it to at least 1", l.CleanupParallel))
	}
	return l, errors.Join(p.errs...)
}

func (p *parser) flag(k string) bool {
	v := strings.ToLower(strings.TrimSpace(p.env(k)))
	if v != "" {
		p.set(k, Source{Env: k})
	}
	switch v {
	case "", "0", "false", "no":
		return false
	case "1", "true", "yes":
		return true
	default:
		p.problem(fmt.Errorf("%s=%q is not a yes/no setting: set it to 1 or 0", k, v))
		return false
	}
}

func (p *parser) fraction(k string, def, max float64) float64 {
	v := p.env(k)
	if v == "" {
		return def
	}
	p.set(k, Source{Env: k})
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || f > max {
		p.problem(fmt.Errorf("%s=%q is not a number from 0 to %g", k, v, max))
		return def
	}
	return f
}

// steps reads increasing percentages ending at 100, e.g. 10,50,100.
func (p *parser) steps(k string, def []int) []int {
	v := p.env(k)
	if v == "" {
		return def
	}
	p.set(k, Source{Env: k})
	var out []int
	for _, s := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 || n > 100 || (len(out) > 0 && n <= out[len(out)-1]) {
			p.problem(fmt.Errorf("%s=%q: want increasing percentages from 1 to 100, e.g. 10,50,100", k, v))
			return def
		}
		out = append(out, n)
	}
	if out[len(out)-1] != 100 {
		out = append(out, 100)
	}
	return out
}
