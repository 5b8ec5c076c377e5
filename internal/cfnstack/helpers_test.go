package cfnstack

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/smithy-go"

	"github.com/slipway/slipway/internal/awsenv"
	"github.com/slipway/slipway/internal/testenv"
	"github.com/slipway/slipway/internal/testenv/awsfault"
)

// fast are the engine's bounds in tests: moto answers at once.
var fast = Options{Poll: 20 * time.Millisecond, Timeout: 5 * time.Second, BusyTimeout: 300 * time.Millisecond}

// env is one test's view of the shared moto server.
type env struct {
	cfn  *cloudformation.Client
	inj  *awsfault.Injector
	eng  *Engine
	out  *testenv.SyncBuffer
	tmpl string
}

// newEnv builds a CloudFormation client the way the commands do
// (awsenv.Load: its retryer, with a short backoff), pointed at moto with
// static dummy credentials, with an injector in front.
func newEnv(t testing.TB, endpoint string, o Options) *env {
	t.Helper()
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	cfg, err := awsenv.Load(context.Background(), awsenv.Settings{Region: "us-east-1", Endpoint: endpoint, MaxBackoff: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	inj := awsfault.New()
	cfn := cloudformation.NewFromConfig(cfg, func(o *cloudformation.Options) {
		o.APIOptions = append(o.APIOptions, inj.APIOption)
	})
	body, err := os.ReadFile(filepath.Join("testdata", "param.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	out := &testenv.SyncBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("progress:\n%s", out.String())
		}
	})
	return &env{cfn: cfn, inj: inj, eng: New(cfn, out, o), out: out, tmpl: string(body)}
}

func (e *env) input(name, value string) Input {
	return Input{
		Name: name, Template: e.tmpl,
		Parameters: map[string]string{"Value": value},
		Tags:       map[string]string{"slipway:app": "demo", "slipway:role": "preview", "slipway:pr": "42"},
		Next:       "go run mage.go preview:destroy 42",
	}
}

// mustCreate creates a stack through the engine, with no faults.
func (e *env) mustCreate(t testing.TB, name string) Stack {
	t.Helper()
	res, err := e.eng.Upsert(context.Background(), e.input(name, "v1"))
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	return res.Stack
}

// withStatus rewrites what DescribeStacks says about one stack, as real
// AWS would answer during or after an operation moto completes at once.
func withStatus(res any, err error, name, status, reason string) (any, error) {
	out, ok := res.(*cloudformation.DescribeStacksOutput)
	if err != nil || !ok {
		return res, err
	}
	for i, s := range out.Stacks {
		if aws.ToString(s.StackName) == name {
			out.Stacks[i].StackStatus = types.StackStatus(status)
			out.Stacks[i].StackStatusReason = aws.String(reason)
		}
	}
	return out, nil
}

// event is a stack event as real AWS records it; a stack-level event has
// the stack as logical ID and the stack ID as physical ID.
func event(st Stack, id, logical, typ, status, reason string, at time.Time) types.StackEvent {
	physical := "phys-" + logical
	if logical == st.Name {
		physical, typ = st.ID, "AWS::CloudFormation::Stack"
	}
	ev := types.StackEvent{
		EventId: aws.String(id), StackId: aws.String(st.ID), StackName: aws.String(st.Name),
		LogicalResourceId: aws.String(logical), PhysicalResourceId: aws.String(physical),
		ResourceType: aws.String(typ), ResourceStatus: types.ResourceStatus(status), Timestamp: aws.Time(at),
	}
	if reason != "" {
		ev.ResourceStatusReason = aws.String(reason)
	}
	return ev
}

// throttled is the error AWS answers when a caller exceeds its rate.
func throttled() error {
	return &smithy.GenericAPIError{Code: "Throttling", Message: "Rate exceeded", Fault: smithy.FaultClient}
}

// TestAgainstMoto runs every engine test against one moto server (each
// server takes seconds to start and warm up); each test uses stacks of its
// own names.
func TestAgainstMoto(t *testing.T) {
	endpoint := testenv.Moto(t)
	t.Run("upsert", func(t *testing.T) { testUpsert(t, endpoint) })
	t.Run("failure modes", func(t *testing.T) { testFailureModes(t, endpoint) })
	t.Run("events and throttling", func(t *testing.T) { testEventsAndThrottling(t, endpoint) })
	t.Run("reads and reconciling", func(t *testing.T) { testReadsAndReconciling(t, endpoint) })
	t.Run("modify in place", func(t *testing.T) { testModify(t, endpoint) })
	t.Run("resource types", func(t *testing.T) { testResourceTypes(t, endpoint) })
	t.Run("plan (-diff)", func(t *testing.T) { testPlan(t, endpoint) })
}
