package awsprov

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"

	"github.com/slipway/slipway/infra"
	"github.com/slipway/slipway/internal/cfnstack"
	"github.com/slipway/slipway/internal/deploy"
	"github.com/slipway/slipway/internal/naming"
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
	return &Provider{o: o, cfn: c.CFN, eng: cfnstack.New(c.CFN, o.Log, o.Stack), elb: c.ELB, ecs: c.ECS, ddb: c.DDB, cw: c.CW, db: c.DB,
		reserved: map[string]bool{}, ports: map[string]int{}}
}

func (p *Provider) logf(f string, a ...any) { fmt.Fprintf(p.o.Log, f+"\n", a...) }

// PortMode reports whether previews get ALB ports (no domain).
func (p *Provider) PortMode() bool { return p.o.Shared.Domain == "" }

// EnsureShared makes sure the shared stack is there, once per process:
// a healthy shared stack is only read (the preview role may not change it;
// settings change through DeployShared), an absent or failed one is
// created.
func (p *Provider) EnsureShared(ctx context.Context) error {
	p.mu.Lock()
	done := p.ensured
	p.mu.Unlock()
	if done {
		return nil
	}
	name, err := naming.Shared(p.o.App)
	if err != nil {
		return err
	}
	st, err := p.eng.Describe(ctx, name)
	if err != nil {
		return failure(err)
	}
	if st.State == cfnstack.StateHealthy || st.State == cfnstack.StateRolledBack {
		return p.markShared(st)
	}
	return p.DeployShared(ctx)
}

// DeployShared creates or updates the shared stack (termination
// protection on) with the configured settings and reads its outputs.
func (p *Provider) DeployShared(ctx context.Context) error {
	name, err := naming.Shared(p.o.App)
	if err != nil {
		return err
	}
	params, err := p.o.Shared.Parameters()
	if err != nil {
		return err
	}
	res, err := p.eng.Upsert(ctx, cfnstack.Input{
		Name: name, Template: infra.SharedTemplate(), Parameters: paramMap(params),
		Tags:                  map[string]string{TagApp: p.o.App, TagRole: roleShared},
		Capabilities:          []cfntypes.Capability{cfntypes.CapabilityCapabilityIam, cfntypes.CapabilityCapabilityNamedIam},
		TerminationProtection: true,
		Next:                  "go run mage.go shared:deploy",
	})
	if err != nil {
		return failure(err)
	}
	p.logf("%s: %s", name, res.Action)
	return p.markShared(res.Stack)
}

func (p *Provider) markShared(st cfnstack.Stack) error {
	if err := p.setShared(st); err != nil {
		return err
	}
	p.mu.Lock()
	p.ensured = true
	p.mu.Unlock()
	return nil
}

// Shared returns the shared stack's outputs, read once per provider.
func (p *Provider) Shared(ctx context.Context) (infra.SharedOutputs, error) {
	p.mu.Lock()
	s := p.shared
	p.mu.Unlock()
	if s != nil {
		return *s, nil
	}
	name, err := naming.Shared(p.o.App)
	if err != nil {
		return infra.SharedOutputs{}, err
	}
	st, err := p.eng.Describe(ctx, name)
	if err != nil {
		return infra.SharedOutputs{}, failure(err)
	}
	if st.State == cfnstack.StateAbsent {
		return infra.SharedOutputs{}, fmt.Errorf("shared stack %s does not exist: run `go run mage.go shared:deploy` first: %w", name, errNoShared)
	}
	if err := p.setShared(st); err != nil {
		return infra.SharedOutputs{}, err
	}
	return *p.shared, nil
}

func (p *Provider) setShared(st cfnstack.Stack) error {
	outs := make([]cfntypes.Output, 0, len(st.Outputs))
	for k, v := range st.Outputs {
		outs = append(outs, cfntypes.Output{OutputKey: aws.String(k), OutputValue: aws.String(v)})
	}
	s, err := infra.ParseSharedOutputs(outs)
	if err != nil {
		return fmt.Errorf("read shared stack %s: %w", st.Name, err)
	}
	p.mu.Lock()
	p.shared = &s
	p.mu.Unlock()
	return nil
}

func (p *Provider) traffic(s infra.SharedOutputs) *Traffic {
	t := &Traffic{ELB: p.elb, App: p.o.App, LoadBalancer: s.LoadBalancerARN, Listener: s.ListenerARN, Sticky: p.o.Sticky}
	if !p.PortMode() {
		t.ProductionHost = p.o.Shared.Domain
	}
	return t
}

// deployStacks lists this app's deploy stacks (not the shared one).
func (p *Provider) deployStacks(ctx context.Context) ([]cfnstack.Stack, error) {
	all, err := p.eng.List(ctx, map[string]string{TagApp: p.o.App})
	if err != nil {
		return nil, err
	}
	var out []cfnstack.Stack
	for _, s := range all {
		if s.Tags[TagRole] == deploy.RolePreview || s.Tags[TagRole] == deploy.RoleProduction {
			out = append(out, s)
		}
	}
	return out, nil
}

// Stacks lists this app's deploy stacks from their tags.
func (p *Provider) Stacks(ctx context.Context) ([]deploy.Stack, error) {
	stacks, err := p.deployStacks(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]deploy.Stack, 0, len(stacks))
	for _, s := range stacks {
		out = append(out, toStack(s))
	}
	rec, err := p.lastLive(ctx)
	if err != nil {
		return out, fmt.Errorf("read when stacks were live: %w", err)
	}
	withLastLive(out, rec)
	return out, nil
}

func toStack(s cfnstack.Stack) deploy.Stack {
	pr, _ := strconv.Atoi(s.Tags[TagPR]) // absent on production stacks: 0
	created, err := time.Parse(time.RFC3339, s.Tags[TagCreated])
	if err != nil {
		created = s.Created
	}
	st := deploy.Stack{
		Name: s.Name, Role: s.Tags[TagRole], PR: pr, Commit: s.Tags[TagCommit], Digest: s.Tags[TagDigest],
		Created: created, Healthy: s.State == cfnstack.StateHealthy, Status: string(s.Status), State: deploy.State(stateWord(s.State)),
		Busy: s.State.Busy(),
	}
	withLifecycle(&st, s)
	return st
}

// stateWord maps the engine's states onto the seam's.
func stateWord(s cfnstack.State) string {
	switch s {
	case cfnstack.StateReview:
		return string(deploy.StateCreating)
	case cfnstack.StateRollingBack:
		return string(deploy.StateUpdating)
	}
	return string(s)
}

func paramMap(ps []cfntypes.Parameter) map[string]string {
	m := make(map[string]string, len(ps))
	for _, p := range ps {
		m[aws.ToString(p.ParameterKey)] = aws.ToString(p.ParameterValue)
	}
	return m
}
