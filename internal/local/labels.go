package local

import (
	"strconv"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"

	"github.com/slipway/slipway/internal/deploy"
)

// Label keys on every container, network and volume Slipway creates.
const (
	LabelApp     = "dev.slipway.app"
	LabelStack   = "dev.slipway.stack"
	LabelRole    = "dev.slipway.role"
	LabelPR      = "dev.slipway.pr"
	LabelCommit  = "dev.slipway.commit"
	LabelVersion = "dev.slipway.version"
	LabelImage   = "dev.slipway.image"
	LabelDigest  = "dev.slipway.digest"
	LabelCreated = "dev.slipway.created"
	LabelSpec    = "dev.slipway.spec"
	// LabelDatabase says whether the stack runs with DATABASE_URL ("yes",
	// "no"): a release does not check a stack without one on a new schema.
	LabelDatabase = "dev.slipway.database"

	roleRouter = "router"
	appPort    = "8080"
)

func appFilter(app string, extra ...string) filters.Args {
	f := filters.NewArgs(filters.Arg("label", LabelApp+"="+app))
	for _, e := range extra {
		f.Add("label", e)
	}
	return f
}

func specLabels(app string, s deploy.Spec, specHash string, now time.Time) map[string]string {
	l := map[string]string{
		LabelApp:     app,
		LabelStack:   s.Stack,
		LabelRole:    s.Role,
		LabelCommit:  s.Commit,
		LabelVersion: s.Version,
		LabelImage:   s.Image,
		LabelDigest:  s.Digest,
		LabelCreated: now.UTC().Format(time.RFC3339),
		LabelSpec:    specHash,
	}
	if s.PR > 0 {
		l[LabelPR] = strconv.Itoa(s.PR)
	}
	l[LabelDatabase] = "no"
	if _, ok := s.Env[deploy.DatabaseURLEnv]; ok {
		l[LabelDatabase] = "yes"
	}
	addLifecycleLabels(l, s)
	appLabels(l, s)
	return l
}

// instance is one running version of a stack: a container.
type instance struct {
	ID, Name string
	Stack    string
	Role     string
	PR       int
	Commit   string
	Digest   string
	Spec     string
	Created  time.Time
	State    string
	Status   string
	Labels   map[string]string
}

func fromSummary(c container.Summary) instance {
	name := c.ID
	if len(c.Names) > 0 {
		name = trimSlash(c.Names[0])
	}
	pr, _ := strconv.Atoi(c.Labels[LabelPR]) // absent on production stacks: 0
	created, err := time.Parse(time.RFC3339, c.Labels[LabelCreated])
	if err != nil {
		created = time.Unix(c.Created, 0).UTC()
	}
	return instance{
		ID: c.ID, Name: name, Stack: c.Labels[LabelStack], Role: c.Labels[LabelRole], PR: pr,
		Commit: c.Labels[LabelCommit], Digest: c.Labels[LabelDigest], Spec: c.Labels[LabelSpec],
		Created: created, State: c.State, Status: c.Status, Labels: c.Labels,
	}
}

func trimSlash(s string) string {
	if len(s) > 0 && s[0] == '/' {
		return s[1:]
	}
	return s
}
