package commands_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/slipway/slipway/internal/awsprov"
	"github.com/slipway/slipway/internal/cfnstack"
	"github.com/slipway/slipway/internal/testenv"
)

// awsAccount is the AWS account the targets reach when a test runs them as
// a user does (`go run mage.go …` with SLIPWAY_AWS_ENDPOINT): a moto
// server behind an HTTP stand-in that answers, as AWS does, what moto
// 5.2.5 does not (research/moto.md):
//
//   - a CREATE change set gets its stack's Outputs (moto never fills them):
//     it is sent to moto as CreateStack with the same template,
//     parameters, tags and capabilities, and its DescribeChangeSet,
//     ExecuteChangeSet and DeleteChangeSet are answered as for a change set
//     created and executed;
//   - UpdateTerminationProtection (HTTP 500 in moto) sets the flag that
//     DescribeStacks then reports, and DeleteStack of a protected stack is
//     refused, as AWS refuses it;
//   - a shared stack's DeleteStack that moto answers DependencyViolation
//     (its VPC still held by the ALB's interfaces; moto then drops the
//     stack anyway) succeeds, as on AWS, which deletes the ALB first.
//
// ECS services run one task (MOTO_ECS_SERVICE_RUNNING) and every new
// target group gets a registered target, as ECS registers a started
// task's. A test may answer any call itself with on.
type awsAccount struct {
	URL  string // the stand-in: SLIPWAY_AWS_ENDPOINT
	moto string

	mu         sync.Mutex
	protected  map[string]bool   // stack ID -> termination protection
	changeSets map[string]string // CREATE change set ID -> stack ID
	hooks      map[string]accountHook
	calls      map[string]int
}

// accountHook answers a call ("service:Action") instead of moto: it writes
// the answer and returns true, or returns false to let the call go on.
type accountHook func(w http.ResponseWriter, form url.Values) bool

func newAWSAccount(t *testing.T) *awsAccount {
	t.Helper()
	t.Setenv("MOTO_ECS_SERVICE_RUNNING", "1") // read by the moto server at start
	a := &awsAccount{moto: testenv.Moto(t), protected: map[string]bool{}, changeSets: map[string]string{},
		hooks: map[string]accountHook{}, calls: map[string]int{}}
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	a.URL = srv.URL
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		a.registerTargets(ctx)
	}()
	t.Cleanup(func() { cancel(); wg.Wait() })
	return a
}

// env is what a user sets to run app's targets against this account.
func (a *awsAccount) env(t *testing.T, app string) []string {
	return []string{
		"SLIPWAY_APP=" + app, "SLIPWAY_TARGET=aws", "SLIPWAY_AWS_ENDPOINT=" + a.URL, "AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing", "AWS_SESSION_TOKEN=", "AWS_PROFILE=",
		"AWS_CONFIG_FILE=" + filepath.Join(t.TempDir(), "none"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(t.TempDir(), "none"),
		"AWS_EC2_METADATA_DISABLED=true", "SLIPWAY_AWS_PREVIEW_PORTS=9001-9010", "SLIPWAY_DATABASE=", "SLIPWAY_REGISTRY=",
		"GITHUB_ACTIONS=", "GITHUB_EVENT_PATH=", "GH_TOKEN=", "GITHUB_TOKEN=", "GH_CONFIG_DIR=" + t.TempDir(),
	}
}

// config is an SDK configuration for this account, for a test's own calls.
func (a *awsAccount) config() aws.Config {
	return aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", ""), BaseEndpoint: aws.String(a.URL)}
}

// provider is the aws provider of app on this account, as the targets
// open it, with short bounds: a test deploys with it what the targets
// cannot deploy here (a release runs the app's tests against its URL).
func (a *awsAccount) provider(app string) *awsprov.Provider {
	cfg := a.config()
	return awsprov.New(awsprov.Clients{CFN: cloudformation.NewFromConfig(cfg), ELB: elbv2.NewFromConfig(cfg), ECS: ecs.NewFromConfig(cfg),
		DDB: dynamodb.NewFromConfig(cfg), CW: cloudwatch.NewFromConfig(cfg), ECR: ecr.NewFromConfig(cfg)},
		awsprov.Options{App: app, HealthTimeout: 5 * time.Second, Poll: 20 * time.Millisecond,
			Stack: cfnstack.Options{Poll: 20 * time.Millisecond, Timeout: 10 * time.Second, BusyTimeout: time.Second}})
}

// on makes hook answer call ("cloudformation:UpdateTerminationProtection");
// nil removes it.
func (a *awsAccount) on(call string, hook accountHook) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if hook == nil {
		delete(a.hooks, call)
		return
	}
	a.hooks[call] = hook
}

// count is how many times call reached the account.
func (a *awsAccount) count(call string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.calls[call]
}

var credentialScope = regexp.MustCompile(`Credential=[^/]+/[^/]+/[^/]+/([^/]+)/aws4_request`)

func (a *awsAccount) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	service := ""
	if m := credentialScope.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		service = m[1]
	}
	form, _ := url.ParseQuery(string(body)) // query protocol; JSON services name the action in X-Amz-Target
	action := form.Get("Action")
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		action = target[strings.LastIndex(target, ".")+1:]
	}
	call := service + ":" + action
	a.mu.Lock()
	a.calls[call]++
	hook := a.hooks[call]
	a.mu.Unlock()
	if hook != nil && hook(w, form) {
		return
	}
	if service == "cloudformation" && a.cloudformation(w, r, action, form) {
		return
	}
	status, header, out := a.forward(r, body)
	reply(w, status, header, out)
}

// forward sends a request on to moto.
func (a *awsAccount) forward(r *http.Request, body []byte) (int, http.Header, []byte) {
	req, err := http.NewRequestWithContext(r.Context(), r.Method, a.moto+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		return http.StatusBadGateway, nil, []byte(err.Error())
	}
	req.Header = r.Header.Clone()
	req.Header.Del("Accept-Encoding") // the client then decompresses: answers can be edited
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return http.StatusBadGateway, nil, []byte(err.Error())
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return http.StatusBadGateway, nil, []byte(err.Error())
	}
	return resp.StatusCode, resp.Header, out
}

func reply(w http.ResponseWriter, status int, header http.Header, body []byte) {
	for k, vs := range header {
		if k == "Content-Length" || k == "Content-Encoding" {
			continue
		}
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// cfnReply answers a CloudFormation call with its result element's body.
func cfnReply(w http.ResponseWriter, action, result string) {
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<%[1]sResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><%[1]sResult>%[2]s</%[1]sResult><ResponseMetadata><RequestId>stand-in</RequestId></ResponseMetadata></%[1]sResponse>`, action, result)
}

// queryError answers a query-protocol call with an AWS error.
func queryError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>stand-in</RequestId></ErrorResponse>`, code, xmlEscape(message))
}

func xmlEscape(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s)) // a bytes.Buffer does not fail
	return b.String()
}

var stackIDElem = regexp.MustCompile(`<StackId>([^<]+)</StackId>`)

// cloudformation answers what moto lacks; false lets the call go to moto.
func (a *awsAccount) cloudformation(w http.ResponseWriter, r *http.Request, action string, form url.Values) bool {
	a.mu.Lock()
	_, known := a.changeSets[form.Get("ChangeSetName")]
	protected := a.protected[form.Get("StackName")]
	a.mu.Unlock()
	switch {
	case action == "UpdateTerminationProtection":
		a.mu.Lock()
		a.protected[form.Get("StackName")] = form.Get("EnableTerminationProtection") == "true"
		a.mu.Unlock()
		cfnReply(w, action, "<StackId>"+xmlEscape(form.Get("StackName"))+"</StackId>")
		return true
	case action == "CreateChangeSet" && form.Get("ChangeSetType") == "CREATE":
		a.createAsStack(w, r, form)
		return true
	case action == "DescribeChangeSet" && known:
		a.mu.Lock()
		stack := a.changeSets[form.Get("ChangeSetName")]
		a.mu.Unlock()
		cfnReply(w, action, fmt.Sprintf("<ChangeSetId>%s</ChangeSetId><StackId>%s</StackId><Status>CREATE_COMPLETE</Status><ExecutionStatus>AVAILABLE</ExecutionStatus><Changes><member><Type>Resource</Type></member></Changes>",
			xmlEscape(form.Get("ChangeSetName")), xmlEscape(stack)))
		return true
	case (action == "ExecuteChangeSet" || action == "DeleteChangeSet") && known:
		cfnReply(w, action, "")
		return true
	case action == "DescribeStacks":
		status, header, out := a.forward(r, []byte(form.Encode()))
		if status == http.StatusOK {
			out = a.withProtection(out)
		}
		reply(w, status, header, out)
		return true
	case action == "DeleteStack" && protected:
		queryError(w, http.StatusBadRequest, "ValidationError", fmt.Sprintf("Stack [%s] cannot be deleted while TerminationProtection is enabled", form.Get("StackName")))
		return true
	case action == "DeleteStack":
		status, header, out := a.forward(r, []byte(form.Encode()))
		if status == http.StatusBadRequest && bytes.Contains(out, []byte("DependencyViolation")) {
			cfnReply(w, action, "")
			return true
		}
		reply(w, status, header, out)
		return true
	}
	return false
}

// createAsStack creates a CREATE change set's stack with CreateStack.
func (a *awsAccount) createAsStack(w http.ResponseWriter, r *http.Request, form url.Values) {
	create := url.Values{}
	for k, vs := range form {
		switch {
		case k == "ChangeSetName", k == "ChangeSetType", k == "ClientToken", k == "Description":
		default:
			create[k] = vs
		}
	}
	create.Set("Action", "CreateStack")
	status, header, out := a.forward(r, []byte(create.Encode()))
	m := stackIDElem.FindSubmatch(out)
	if status != http.StatusOK || m == nil {
		reply(w, status, header, out)
		return
	}
	stack := string(m[1])
	id := strings.Replace(stack, ":stack/", ":changeSet/", 1) + "-" + form.Get("ChangeSetName")
	a.mu.Lock()
	a.changeSets[id] = stack
	a.mu.Unlock()
	cfnReply(w, "CreateChangeSet", fmt.Sprintf("<Id>%s</Id><StackId>%s</StackId>", xmlEscape(id), xmlEscape(stack)))
}

// withProtection makes DescribeStacks report the termination protection
// UpdateTerminationProtection set.
func (a *awsAccount) withProtection(out []byte) []byte {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := string(out)
	for id, on := range a.protected {
		i := strings.Index(s, "<StackId>"+xmlEscape(id)+"</StackId>")
		if i < 0 || !on {
			continue
		}
		const off = "<EnableTerminationProtection>false</EnableTerminationProtection>"
		if j := strings.Index(s[i:], off); j >= 0 {
			s = s[:i+j] + "<EnableTerminationProtection>true</EnableTerminationProtection>" + s[i+j+len(off):]
		}
	}
	return []byte(s)
}

// registerTargets registers a target in every new target group, as ECS
// does for a started task (moto's ECS registers none; moto's registered
// targets are healthy at once).
func (a *awsAccount) registerTargets(ctx context.Context) {
	cfg := a.config()
	cfg.BaseEndpoint = aws.String(a.moto)
	elb := elbv2.NewFromConfig(cfg)
	done := map[string]bool{}
	for ctx.Err() == nil {
		if out, err := elb.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{}); err == nil {
			for _, tg := range out.TargetGroups {
				arn := aws.ToString(tg.TargetGroupArn)
				if done[arn] {
					continue
				}
				done[arn] = true
				_, _ = elb.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: aws.String(arn),
					Targets: []elbtypes.TargetDescription{{Id: aws.String(fmt.Sprintf("10.42.0.%d", len(done)%200+10)), Port: aws.Int32(8080)}}})
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
}
