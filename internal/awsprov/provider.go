package awsprov

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"

	"github.com/slipway/slipway/infra"
	"github.com/slipway/slipway/internal/cfnstack"
	"github.com/slipway/slipway/internal/deploy"
)

// Stack tags: the state Stacks, Routes, release and cleanup read.
const (
	TagRole    = "slipway:role"
	TagPR      = "slipway:pr"
	TagCommit  = "slipway:commit"
	TagDigest  = "slipway:digest"
	TagCreated = "slipway:created-at"
	roleShared = "shared"
)

// Clients are the AWS API clients the provider calls.
type Clients struct {
	CFN cfnstack.API
	ELB ELB
	ECS ECS
	DDB Dynamo     // the app's lease (Locker); nil: TryLock fails, so nothing that needs the lock runs
	CW  CloudWatch // canary analysis (Analyzer); nil: none
	DB  DBClients  // the app's database (deploy.DatabaseServer, dbserver.go); zero: none
	ECR Registry   // the shared stack's repository (registry.go); nil: not checked
}

// Options configure the aws target.
type Options struct {
	App string
	// Shared are the shared stack's settings (network, certificate, domain
	// and hosted zone, preview ports); App is filled in from App.
	Shared        infra.SharedParams
	CPU, Memory   int           // Fargate size of deploy stacks; zero: 256 and 512
	HealthTimeout time.Duration // bound on the ECS rollout and target health checks
	Poll          time.Duration // ECS and target health poll interval; zero: 5 s
	Sticky        time.Duration // production stickiness; zero: 1 h
	Stack         cfnstack.Options
	DatabaseWait  time.Duration // how long a role that may not create databases waits for a preview's secret; zero: 10 min
	Log           io.Writer     // progress, one line per event
	// ExistingPreviewDatabases: previews never create their database, they
	// use the one `preview:database` made, by its secret (dbtrust.go).
	ExistingPreviewDatabases bool
}

// Provider implements deploy.Target on AWS.
type Provider struct {
	o   Options
	cfn cfnstack.API
	eng *cfnstack.Engine
	elb ELB
	ecs ECS
	ddb Dynamo
	cw  CloudWatch
	db  DBClients
	ecr Registry

	mu       sync.Mutex
	ensured  bool // EnsureShared succeeded in this process: later calls are no-ops
	shared   *infra.SharedOutputs
	reserved map[string]bool // priorities and ports being created by this process
	ports    map[string]int  // host -> listener port, as last read (port mode)

	sampleFrom, lastSample time.Time // canary metrics: the origin of the counters, the last sample
}

// Provider is a complete target: every method of the seam, checked here.
var _ deploy.Target = (*Provider)(nil)

// New returns the aws provider.
func New(c Clients, o Options) *Provider {
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.HealthTimeout <= 0 {
		o.HealthTimeout = 5 * time.Minute
	}
	if o.Poll <= 0 {
		o.Poll = 5 * time.Second
	}
	if o.Sticky <= 0 {
		o.Sticky = time.Hour
	}
	o.Shared.App = o.App
	return &Provider{o: o, cfn: c.CFN, eng: cfnstack.New(c.CFN, o.Log, o.Stack), elb: c.ELB, ecs: c.ECS, ddb: c.DDB, cw: c.CW, db: c.DB, ecr: c.ECR,
		reserved: map[string]bool{}, ports: map[string]int{}}
}

func (p *Provider) logf(f string, a ...any) { fmt.Fprintf(p.o.Log, f+"\n", a...) }

// PortMode reports whether previews get ports of the previews ALB (no
// preview domain, and no production domain for them to share).
func (p *Provider) PortMode() bool { return !p.o.Shared.PreviewHostMode() }

func (p *Provider) traffic(s infra.SharedOutputs) *Traffic {
	t := &Traffic{ELB: p.elb, App: p.o.App, LoadBalancer: s.LoadBalancerARN, Listener: s.ListenerARN, Sticky: p.o.Sticky}
	if p.o.Shared.Domain != "" {
		t.ProductionHost = p.o.Shared.Domain
	}
	return t
}

func paramMap(ps []cfntypes.Parameter) map[string]string {
	m := make(map[string]string, len(ps))
	for _, p := range ps {
		m[aws.ToString(p.ParameterKey)] = aws.ToString(p.ParameterValue)
	}
	return m
}
