package github

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/slipway/slipway/internal/naming"
)

// ProductionEnvironment is the deployment environment of releases.
const ProductionEnvironment = "production"

// ErrNoDeployment is returned by Deployments.Create when GitHub answers 202:
// it merged the default branch into the ref (or is about to) and created no
// deployment. There is nothing to set statuses on.
var ErrNoDeployment = errors.New("GitHub created no deployment")

// DeploymentRequest describes a deployment to create.
type DeploymentRequest struct {
	Ref         string // commit SHA to deploy
	Environment string // "pr-42" or "production"
	Description string
	Transient   bool // the environment goes away (previews)
	Production  bool // end users use it (releases)
}

// PreviewDeployment is the request for the preview of pull request pr at
// commit sha: environment pr-<N>, transient, not production.
func PreviewDeployment(pr int, sha string) DeploymentRequest {
	return DeploymentRequest{
		Ref:         sha,
		Environment: PreviewEnvironment(pr),
		Description: fmt.Sprintf("Slipway preview of pull request #%d", pr),
		Transient:   true,
	}
}

// ProductionDeployment is the request for a release of commit sha.
func ProductionDeployment(sha string) DeploymentRequest {
	return DeploymentRequest{
		Ref:         sha,
		Environment: ProductionEnvironment,
		Description: "Slipway release",
		Production:  true,
	}
}

// Deployment is a deployment as the REST API returns it.
type Deployment struct {
	ID          int64     `json:"id"`
	SHA         string    `json:"sha"`
	Ref         string    `json:"ref"`
	Environment string    `json:"environment"`
	CreatedAt   time.Time `json:"created_at"`
}

// DeploymentStatus is one status of a deployment.
type DeploymentStatus struct {
	State          string // in_progress, success, failure, error, inactive, queued, pending
	Description    string // cut to 140 characters
	EnvironmentURL string
	LogURL         string
}

// Deployments creates GitHub deployments and their statuses for one
// repository.
type Deployments struct {
	api  Requester
	repo string
}

// NewDeployments returns a Deployments for repo ("owner/name").
func NewDeployments(c Requester, repo string) *Deployments {
	return &Deployments{api: c, repo: repo}
}

// Create creates a deployment. Automatic merging and the check of other
// commit statuses are off: the deploy itself is the check. A 202 answer
// returns an error wrapping ErrNoDeployment.
func (d *Deployments) Create(ctx context.Context, req DeploymentRequest) (Deployment, error) {
	base, err := repoPath(d.repo)
	if err != nil {
		return Deployment{}, fmt.Errorf("create deployment %s: %w", req.Environment, err)
	}
	in := struct {
		Ref                   string   `json:"ref"`
		Task                  string   `json:"task"`
		AutoMerge             bool     `json:"auto_merge"`
		RequiredContexts      []string `json:"required_contexts"`
		Environment           string   `json:"environment"`
		Description           string   `json:"description,omitempty"`
		TransientEnvironment  bool     `json:"transient_environment"`
		ProductionEnvironment bool     `json:"production_environment"`
	}{req.Ref, "deploy", false, []string{}, req.Environment, clip(req.Description, 140), req.Transient, req.Production}
	var raw json.RawMessage
	r, err := call(ctx, d.api, http.MethodPost, base+"/deployments", in, &raw)
	if err != nil {
		return Deployment{}, fmt.Errorf("create deployment %s for %s: %w", req.Environment, naming.ShortCommit(req.Ref), err)
	}
	if r.Status == http.StatusAccepted {
		var m struct {
			Message string `json:"message"`
		}
		_ = json.Unmarshal(raw, &m) // the message only decorates the error
		return Deployment{}, fmt.Errorf("create deployment %s for %s: %w (HTTP 202: %s)", req.Environment, naming.ShortCommit(req.Ref), ErrNoDeployment, m.Message)
	}
	var out Deployment
	if err := json.Unmarshal(raw, &out); err != nil {
		return Deployment{}, fmt.Errorf("create deployment %s for %s: decode: %w", req.Environment, naming.ShortCommit(req.Ref), err)
	}
	return out, nil
}

// SetStatus adds a status to deployment id.
func (d *Deployments) SetStatus(ctx context.Context, id int64, s DeploymentStatus) error {
	base, err := repoPath(d.repo)
	if err != nil {
		return fmt.Errorf("set deployment %d status %s: %w", id, s.State, err)
	}
	in := struct {
		State          string `json:"state"`
		Description    string `json:"description,omitempty"`
		EnvironmentURL string `json:"environment_url,omitempty"`
		LogURL         string `json:"log_url,omitempty"`
	}{s.State, clip(oneLine(s.Description), 140), s.EnvironmentURL, s.LogURL}
	path := fmt.Sprintf("%s/deployments/%d/statuses", base, id)
	if _, err := call(ctx, d.api, http.MethodPost, path, in, nil); err != nil {
		return fmt.Errorf("set deployment %d status %s: %w", id, s.State, err)
	}
	return nil
}

// List returns the deployments of environment, newest first; sha, when not
// empty, keeps only the deployments of that commit.
func (d *Deployments) List(ctx context.Context, environment, sha string) ([]Deployment, error) {
	base, err := repoPath(d.repo)
	if err != nil {
		return nil, fmt.Errorf("list deployments of %s: %w", environment, err)
	}
	q := url.Values{"environment": {environment}, "per_page": {"100"}}
	if sha != "" {
		q.Set("sha", sha)
	}
	var all []Deployment
	err = eachPage(ctx, d.api, base+"/deployments?"+q.Encode(), func(page []Deployment) bool {
		all = append(all, page...)
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("list deployments of %s: %w", environment, err)
	}
	return all, nil
}

// Deactivate marks every deployment of environment inactive (GitHub shows
// a transient one as destroyed) and returns how many it marked.
func (d *Deployments) Deactivate(ctx context.Context, environment, description, logURL string) (int, error) {
	list, err := d.List(ctx, environment, "")
	if err != nil {
		return 0, err
	}
	var errs []error
	n := 0
	for _, dep := range list {
		err := d.SetStatus(ctx, dep.ID, DeploymentStatus{State: "inactive", Description: description, LogURL: logURL})
		if isForbidden(err) {
			return n, err // every other call would be refused too
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}
