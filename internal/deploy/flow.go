package deploy

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/slipway/slipway/internal/manifest"
)

// Image is a built (and maybe pushed) image, referenced immutably.
type Image struct {
	Ref     string // what a stack runs: repo@sha256:... or a local image ID
	Digest  string // registry digest, or the image ID when not pushed
	Commit  string
	Version string
	// Platform is what the image runs on, "os/arch" as the engine reports
	// it ("linux/amd64", "linux/arm64"): the aws target sets the task's
	// RuntimePlatform from it. "" when unknown.
	Platform string
}

// Builder builds the app image for a commit.
type Builder interface {
	Build(ctx context.Context, purpose string) (Image, error)
}

// TestResult is the outcome of the integration tests against a stack.
type TestResult struct {
	Passed, Failed int
	OK             bool
	Summary        string
	Failures       []string // "TestName: first line it wrote", one per failed test
}

// Tester runs the integration tests against a URL. host, when set, is sent
// as the Host header; stack, when set, is sent as X-Slipway-Stack.
type Tester interface {
	Test(ctx context.Context, t TestTarget) (TestResult, error)
}

// TestTarget says where the integration tests send requests and what they
// expect to find there.
type TestTarget struct {
	BaseURL, Host, Commit, Stack, StackHeader string
	// Database: the stack has DATABASE_URL, so the tests check it reaches
	// a database on a schema it runs on (SLIPWAY_EXPECT_DATABASE).
	Database bool
	// Production: the stack runs on production's data (a release
	// candidate, a live stack): the tests are told (SLIPWAY_ENV=production)
	// and must not write.
	Production bool
}

// EventStatus is what happened to a preview. Package github shows these
// same values on the pull request: this is their one definition.
type EventStatus string

// Event statuses.
const (
	StatusDeploying EventStatus = "deploying"
	StatusDeployed  EventStatus = "deployed"
	StatusFailed    EventStatus = "failed"
	StatusDestroyed EventStatus = "destroyed"
)

// Event is what a Reporter is told about a preview.
type Event struct {
	PR         int
	Stack, URL string
	// StackURL is the preview stack's own URL (Stack.URL): any client
	// reaches it without DNS or a header; "" when the target gives none.
	StackURL string
	Status   EventStatus
	Image    Image
	Tests    *TestResult
	Database *PreviewDB   // the preview's database, when it has one
	Compat   *CompatCheck // the schema-compat check; nil: none (no database)
	Timing   *Timing      // where the deploy's time went; nil: not measured
	Err      error
	At       time.Time
}

// Reporter tells people what happened (the PR comment, GitHub Deployments,
// a commit status). A reporter's failure never fails a deploy.
type Reporter interface {
	Report(ctx context.Context, e Event) error
}

// Flow is the orchestration, written once for every target. A command
// builds it once, with everything it needs, and never changes it after.
type Flow struct {
	App      string
	Target   Target
	Builder  Builder
	Tester   Tester
	Reporter Reporter         // nil: nobody to tell
	Routing  Routing          // where URLs point
	Log      io.Writer        // progress, one line per event
	Now      func() time.Time // for tests; time.Now when nil
	// Clock measures the phases of a deploy (Timing): time.Now when nil,
	// whose readings carry the monotonic clock. Apart from Now, which
	// tests freeze.
	Clock func() time.Time

	TargetName string        // "local" or "aws", for messages
	Owner      string        // who holds the lock: user@host, or the Actions run
	LockWait   time.Duration // how long to wait for another holder; 0: fail at once
	LockTTL    time.Duration // lease expiry without a heartbeat; 0: 2 minutes
	Strategy   Strategy      // how a release moves traffic; zero: all at once
	Database   bool          // SLIPWAY_DATABASE: the app has Postgres (see Databases)
	// Manifest is the app as its slipway.yaml describes it, effective
	// (config.Config.Manifest): every stack gets its port, health check,
	// environment and secrets. nil: the sample app's defaults.
	Manifest *manifest.Manifest
}

// Routing turns host names into URLs the tests and people use.
type Routing interface {
	// PreviewHost is the host name of a preview host label (pr-42).
	PreviewHost(label string) string
	// ProductionHost is the host name production answers on.
	ProductionHost() string
	// URL is what a person opens for a host name.
	URL(host string) string
	// Dial is what the tests connect to for a host name, with the Host
	// header to send ("" when URL is enough).
	Dial(host string) (baseURL, hostHeader string)
}

func (f *Flow) logf(format string, a ...any) {
	if f.Log != nil {
		fmt.Fprintf(f.Log, format+"\n", a...)
	}
}

func (f *Flow) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

func (f *Flow) report(ctx context.Context, e Event) {
	if f.Reporter == nil {
		return
	}
	e.At = f.now()
	if err := f.Reporter.Report(ctx, e); err != nil {
		f.logf("warning: report %s of %s: %v", e.Status, e.Stack, err)
	}
}
