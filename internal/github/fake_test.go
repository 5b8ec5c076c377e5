package github

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/cli/go-gh/v2/pkg/api"
)

const fakeToken = "test-token"

// fakeGitHub is an in-process GitHub REST API for the operations Slipway
// uses. It answers with the recorded response shapes in testdata/rest and
// checks every request against testdata/rest/endpoints.json: a known
// operation, integer path and query parameters, and bodies with the required
// fields, no unknown fields, the declared JSON types and enum values.
type fakeGitHub struct {
	t   testing.TB
	srv *httptest.Server
	ops []*operation

	mu          sync.Mutex
	calls       []fakeCall
	comments    map[int][]map[string]any // by issue number
	deployments []map[string]any
	nextID      int64
	pageSize    int            // largest page the fake serves; 0: per_page
	fail        map[string]int // operationId → HTTP status to answer
	deploy202   bool           // create-deployment answers 202
}

type fakeCall struct {
	Op    string
	Path  string
	Query url.Values
	Body  map[string]any
}

type operation struct {
	ID, Method, Path string
	pattern          *regexp.Regexp
	pathNames        []string
	params           map[string]opParam
	body             *opSchema
}

type opParam struct{ In, Type string }

type opSchema struct {
	Required   []string
	Properties map[string]opProperty
}

type opProperty struct {
	Type        string
	Enum        []string
	Description string
	OneOf       []opProperty
}

// newFakeGitHub starts the fake; it stops when the test ends.
func newFakeGitHub(t testing.TB) *fakeGitHub {
	t.Helper()
	f := &fakeGitHub{t: t, ops: loadOperations(t), comments: map[int][]map[string]any{}, nextID: 1000, fail: map[string]int{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// loadOperations reads the operations of endpoints.json.
func loadOperations(t testing.TB) []*operation {
	t.Helper()
	var doc struct {
		Operations []struct {
			OperationID string `json:"operationId"`
			Method      string `json:"method"`
			Path        string `json:"path"`
			Parameters  []struct {
				Name, In string
				Schema   struct{ Type string }
			} `json:"parameters"`
			RequestBody *struct {
				Content map[string]struct {
					Schema opSchema `json:"schema"`
				} `json:"content"`
			} `json:"requestBody"`
		} `json:"operations"`
	}
	if err := json.Unmarshal(readTestdata(t, "rest/endpoints.json"), &doc); err != nil {
		t.Fatalf("decode endpoints.json: %v", err)
	}
	var ops []*operation
	names := regexp.MustCompile(`\{([a-z_]+)\}`)
	for _, o := range doc.Operations {
		op := &operation{ID: o.OperationID, Method: o.Method, Path: o.Path, params: map[string]opParam{}}
		for _, m := range names.FindAllStringSubmatch(o.Path, -1) {
			op.pathNames = append(op.pathNames, m[1])
		}
		op.pattern = regexp.MustCompile("^" + names.ReplaceAllString(o.Path, `([^/]+)`) + "$")
		for _, p := range o.Parameters {
			op.params[p.Name] = opParam{In: p.In, Type: p.Schema.Type}
		}
		if o.RequestBody != nil {
			s := o.RequestBody.Content["application/json"].Schema
			op.body = &s
		}
		ops = append(ops, op)
	}
	return ops
}

// client returns a go-gh REST client whose requests to api.github.com go to
// the fake. No gh configuration of the machine leaks in.
func (f *fakeGitHub) client(t testing.TB) *api.RESTClient {
	t.Helper()
	t.Setenv("GH_CONFIG_DIR", t.TempDir())
	c, err := api.NewRESTClient(api.ClientOptions{
		Host: "github.com", AuthToken: fakeToken, Transport: f.transport(), LogIgnoreEnv: true,
	})
	if err != nil {
		t.Fatalf("create client: %v", err)
	}
	return c
}

func (f *fakeGitHub) transport() http.RoundTripper {
	target, _ := url.Parse(f.srv.URL) // httptest URLs always parse
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.URL.Host != "api.github.com" {
			f.t.Errorf("request to unexpected host %s", r.URL)
		}
		out := r.Clone(r.Context())
		out.URL.Scheme, out.URL.Host, out.Host = target.Scheme, target.Host, ""
		return f.srv.Client().Transport.RoundTrip(out)
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (rt roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return rt(r) }

func (f *fakeGitHub) serve(w http.ResponseWriter, r *http.Request) {
	op, args := f.match(r)
	if op == nil {
		f.t.Errorf("unexpected request %s %s", r.Method, r.URL)
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "Not Found"})
		return
	}
	if got := r.Header.Get("Authorization"); got != "token "+fakeToken {
		f.t.Errorf("%s: Authorization header %q", op.ID, got)
	}
	body, problems := f.check(op, args, r)
	for _, p := range problems {
		f.t.Errorf("%s %s: %s", op.ID, r.URL.Path, p)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fakeCall{Op: op.ID, Path: r.URL.Path, Query: r.URL.Query(), Body: body})
	if len(problems) > 0 {
		writeError(w, http.StatusUnprocessableEntity, strings.Join(problems, "; "))
		return
	}
	if code := f.fail[op.ID]; code != 0 {
		writeError(w, code, "")
		return
	}
	f.answer(w, r, op, args, body)
}

// match finds the operation and its path arguments.
func (f *fakeGitHub) match(r *http.Request) (*operation, map[string]string) {
	for _, op := range f.ops {
		m := op.pattern.FindStringSubmatch(r.URL.Path)
		if op.Method != r.Method || m == nil {
			continue
		}
		args := map[string]string{}
		for i, n := range op.pathNames {
			args[n] = m[i+1]
		}
		return op, args
	}
	return nil, nil
}

// check validates a request against its operation and returns the body.
func (f *fakeGitHub) check(op *operation, args map[string]string, r *http.Request) (map[string]any, []string) {
	var problems []string
	for n, v := range args {
		if op.params[n].Type == "integer" && !isInt(v) {
			problems = append(problems, fmt.Sprintf("path parameter %s=%q is not an integer", n, v))
		}
	}
	for n, vs := range r.URL.Query() {
		p, ok := op.params[n]
		switch {
		case !ok || p.In != "query":
			problems = append(problems, fmt.Sprintf("unknown query parameter %q", n))
		case p.Type == "integer" && !isInt(vs[0]):
			problems = append(problems, fmt.Sprintf("query parameter %s=%q is not an integer", n, vs[0]))
		}
	}
	if op.body == nil {
		return nil, problems
	}
	var body map[string]any
	d := json.NewDecoder(r.Body)
	d.UseNumber()
	if err := d.Decode(&body); err != nil {
		return nil, append(problems, "body is not a JSON object: "+err.Error())
	}
	return body, append(problems, op.body.validate(body)...)
}

// validate checks a request body against the operation's schema.
func (s *opSchema) validate(body map[string]any) []string {
	var problems []string
	for _, k := range s.Required {
		if _, ok := body[k]; !ok {
			problems = append(problems, fmt.Sprintf("required field %q missing", k))
		}
	}
	for k, v := range body {
		p, ok := s.Properties[k]
		if !ok {
			problems = append(problems, fmt.Sprintf("unknown field %q", k))
			continue
		}
		if msg := p.check(v); msg != "" {
			problems = append(problems, fmt.Sprintf("field %q: %s", k, msg))
		}
	}
	if d, ok := body["description"].(string); ok && len([]rune(d)) > 140 {
		// "The maximum description length is 140 characters" (deployment
		// statuses; GitHub answers 422 for longer commit statuses too).
		problems = append(problems, fmt.Sprintf("description is %d characters, more than 140", len([]rune(d))))
	}
	return problems
}

// check returns what is wrong with v for p, or "".
func (p opProperty) check(v any) string {
	if len(p.OneOf) > 0 {
		for _, alt := range p.OneOf {
			if alt.check(v) == "" {
				return ""
			}
		}
		return fmt.Sprintf("%v matches none of the allowed types", v)
	}
	ok := true
	switch p.Type {
	case "string":
		s, isString := v.(string)
		ok = isString && (len(p.Enum) == 0 || contains(p.Enum, s))
	case "boolean":
		_, ok = v.(bool)
	case "array":
		_, ok = v.([]any)
	case "object":
		_, ok = v.(map[string]any)
	case "integer":
		n, isNum := v.(json.Number)
		ok = isNum && isInt(n.String())
	}
	if !ok {
		return fmt.Sprintf("%#v is not a valid %s %v", v, p.Type, p.Enum)
	}
	return ""
}

func isInt(s string) bool { _, err := strconv.ParseInt(s, 10, 64); return err == nil }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		code, b = http.StatusInternalServerError, []byte(`{"message":"encode"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

// writeError answers with GitHub's error shapes: validation-error for 422,
// basic-error otherwise.
func writeError(w http.ResponseWriter, code int, msg string) {
	doc := "https://docs.github.com/rest"
	switch code {
	case http.StatusUnprocessableEntity:
		if msg == "" {
			msg = "No commit found for SHA"
		}
		writeJSON(w, code, map[string]any{"message": "Validation Failed", "documentation_url": doc,
			"errors": []any{map[string]any{"resource": "Status", "code": "custom", "message": msg}}})
	case http.StatusForbidden:
		writeJSON(w, code, map[string]any{"message": "Resource not accessible by integration", "documentation_url": doc, "status": "403"})
	default:
		writeJSON(w, code, map[string]any{"message": http.StatusText(code), "documentation_url": doc, "status": strconv.Itoa(code)})
	}
}
