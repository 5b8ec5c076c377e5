package github

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/slipway/slipway/internal/deploy"
	"github.com/slipway/slipway/internal/naming"
)

// Preview statuses of a PreviewReport: the orchestration's event statuses,
// defined once in package deploy.
const (
	StatusDeploying = string(deploy.StatusDeploying)
	StatusDeployed  = string(deploy.StatusDeployed)
	StatusFailed    = string(deploy.StatusFailed)
	StatusDestroyed = string(deploy.StatusDestroyed)
)

// TestResult is the outcome of the integration tests against a preview.
type TestResult struct {
	Passed, Failed int
	OK             bool
	Summary        string
}

// PreviewReport is what the preview orchestration tells the pull request.
type PreviewReport struct {
	PR          int
	Repo        string // owner/name
	Branch      string
	SHA         string
	URL         string
	ImageDigest string
	Stack       string
	Target      string // local or aws
	Status      string // deploying, deployed, failed or destroyed
	Tests       *TestResult
	Ephemeral   bool // local target on the runner: the environment lived only for this run
	Err         string
	LogURL      string
	Updated     time.Time
	Notes       []string        // extra lines for the comment and summary, e.g. why AWS was skipped
	Database    *DatabaseReport // the preview's database; nil: none
	Compat      *CompatReport   // the schema-compat check; nil: none
	Timing      *deploy.Timing  // where the deploy's time went; nil: not measured
}

// CompatReport is the schema-compat check of a preview: the live release's
// image and tests against the PR's migrated preview database.
type CompatReport struct {
	Status         string   // pending, passed, failed or error (deploy.CompatStatus)
	Release        string   // the live stack checked; "" when there is no release
	Schema         int64    // the preview database's schema
	Passed, Failed int      // test counts, when the tests ran
	Failing        []string // names of the failed tests
	Reason         string   // why there is no verdict
}

// DatabaseReport says where a preview's database came from. It never holds
// a URL or password.
type DatabaseReport struct {
	Release string // the release whose golden copy it was cloned from ("" unknown)
	Cloned  bool   // false: kept from an earlier deploy of the PR
	Head    int64  // schema it was migrated to
}

// Publisher reports previews on their pull request: the sticky comment, a
// GitHub Deployment with statuses, the slipway/integration commit status,
// and slipway/schema-compat when the preview has a database. A 403 (a
// read-only token) is one warning line on the log writer, never an error;
// other failures are returned, joined, after every part was tried.
type Publisher struct {
	repo        string
	log         io.Writer
	commands    bool // warnings as ::warning:: workflow commands
	now         func() time.Time
	comments    *Comments
	deployments *Deployments
	statuses    *Statuses

	mu  sync.Mutex
	ids map[string]int64 // "env@sha" → deployment id; 0: GitHub created none
}

// NewPublisher returns a Publisher for repo ("owner/name") that sends its
// requests through c (a go-gh *api.RESTClient) and writes warnings to log.
func NewPublisher(c Requester, repo string, log io.Writer) *Publisher {
	if log == nil {
		log = io.Discard
	}
	return &Publisher{
		repo:        repo,
		log:         log,
		now:         time.Now,
		comments:    NewComments(c, repo, log),
		deployments: NewDeployments(c, repo),
		statuses:    NewStatuses(c, repo),
		ids:         map[string]int64{},
	}
}

// PreviewStarted creates the deployment with an in_progress status, sets
// slipway/integration to pending and shows "deploying" in the comment.
func (p *Publisher) PreviewStarted(ctx context.Context, r PreviewReport) error {
	r, err := p.prepare(r, StatusDeploying)
	if err != nil {
		return err
	}
	id, ok, err := p.deployment(ctx, r)
	errs := []error{err}
	if ok {
		errs = append(errs, p.soft(p.deployments.SetStatus(ctx, id, deploymentStatus(r))))
	}
	errs = append(errs, p.soft(p.statuses.Set(ctx, r.SHA, integrationStatus(r))))
	if st, ok := compatStatus(r); ok {
		errs = append(errs, p.soft(p.statuses.Set(ctx, r.SHA, st)))
	}
	errs = append(errs, p.comment(ctx, r))
	return errors.Join(errs...)
}

// PreviewFinished shows the outcome in the comment, the deployment status
// (success or failure, with the environment URL) and slipway/integration.
// An ephemeral preview's deployment is then marked inactive: it is gone.
func (p *Publisher) PreviewFinished(ctx context.Context, r PreviewReport) error {
	r, err := p.prepare(r, StatusDeployed)
	if err != nil {
		return err
	}
	id, ok, err := p.deployment(ctx, r)
	errs := []error{err}
	if ok {
		err := p.soft(p.deployments.SetStatus(ctx, id, deploymentStatus(r)))
		if err == nil && r.Ephemeral {
			err = p.soft(p.deployments.SetStatus(ctx, id, DeploymentStatus{
				State: "inactive", Description: "Lived only for the CI run", LogURL: r.LogURL,
			}))
		}
		errs = append(errs, err)
	}
	errs = append(errs, p.soft(p.statuses.Set(ctx, r.SHA, integrationStatus(r))))
	if st, ok := compatStatus(r); ok {
		errs = append(errs, p.soft(p.statuses.Set(ctx, r.SHA, st)))
	}
	errs = append(errs, p.comment(ctx, r))
	return errors.Join(errs...)
}

// PreviewDestroyed says in the comment that the environment was removed and
// marks every deployment of the environment inactive. A report with Err
// (the removal failed) updates the comment only.
func (p *Publisher) PreviewDestroyed(ctx context.Context, r PreviewReport) error {
	r, err := p.prepare(r, StatusDestroyed)
	if err != nil {
		return err
	}
	errs := []error{p.comment(ctx, r)}
	if r.Err == "" {
		_, err := p.deployments.Deactivate(ctx, PreviewEnvironment(r.PR), "Preview environment removed", r.LogURL)
		errs = append(errs, p.soft(err))
	}
	return errors.Join(errs...)
}

// prepare checks r and fills the defaults.
func (p *Publisher) prepare(r PreviewReport, status string) (PreviewReport, error) {
	if r.PR <= 0 {
		return r, errors.New("publish preview: report has no pull request number")
	}
	if r.Repo == "" {
		r.Repo = p.repo
	}
	if !strings.EqualFold(r.Repo, p.repo) {
		return r, fmt.Errorf("publish preview of pull request #%d: report is for %s, the publisher for %s", r.PR, r.Repo, p.repo)
	}
	if r.Status == "" || status == StatusDestroyed || status == StatusDeploying {
		r.Status = status
	}
	if r.Updated.IsZero() {
		r.Updated = p.now()
	}
	if r.SHA == "" && status != StatusDestroyed {
		return r, fmt.Errorf("publish preview of pull request #%d: report has no commit SHA", r.PR)
	}
	return r, nil
}

// deployment returns the id of the deployment for r's environment and
// commit: remembered from PreviewStarted, else the newest listed one, else a
// new one. ok is false when there is none to set statuses on (GitHub
// answered 202, or the token may not create one); err is a failure other
// than a 403.
func (p *Publisher) deployment(ctx context.Context, r PreviewReport) (id int64, ok bool, err error) {
	env := PreviewEnvironment(r.PR)
	key := env + "@" + r.SHA
	p.mu.Lock()
	id, known := p.ids[key]
	p.mu.Unlock()
	if known {
		return id, id != 0, nil
	}
	if r.Status != StatusDeploying {
		list, err := p.deployments.List(ctx, env, r.SHA)
		if err != nil && !isForbidden(err) {
			return 0, false, err
		}
		if len(list) > 0 {
			p.remember(key, list[0].ID)
			return list[0].ID, true, nil
		}
	}
	d, err := p.deployments.Create(ctx, PreviewDeployment(r.PR, r.SHA))
	if errors.Is(err, ErrNoDeployment) {
		p.warn("%v; no deployment statuses are set", err)
		p.remember(key, 0)
		return 0, false, nil
	}
	if err != nil {
		return 0, false, p.soft(err)
	}
	p.remember(key, d.ID)
	return d.ID, true, nil
}

func (p *Publisher) remember(key string, id int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ids[key] = id
}

// comment renders r and creates or updates the sticky comment.
func (p *Publisher) comment(ctx context.Context, r PreviewReport) error {
	var body strings.Builder
	if err := RenderComment(&body, r); err != nil {
		return err
	}
	_, _, err := p.comments.Upsert(ctx, r.PR, body.String())
	return p.soft(err)
}

// soft turns a 403 into a warning line and returns other errors unchanged.
func (p *Publisher) soft(err error) error {
	if err == nil || !isForbidden(err) {
		return err
	}
	p.warn("%v: the token may not write here (a pull request from a fork gets a read-only token); skipped", err)
	return nil
}

func (p *Publisher) warn(format string, args ...any) {
	warnf(p.log, p.commands, format, args...)
}

// deploymentStatus is the deployment status for a preview report.
func deploymentStatus(r PreviewReport) DeploymentStatus {
	s := DeploymentStatus{LogURL: r.LogURL}
	switch r.Status {
	case StatusDeploying:
		s.State, s.Description = "in_progress", "Deploying "+naming.ShortCommit(r.SHA)+where(r)
	case StatusDeployed:
		s.State, s.Description = "success", "Deployed "+naming.ShortCommit(r.SHA)+where(r)
		if !r.Ephemeral {
			s.EnvironmentURL = r.URL
		}
	default:
		s.State, s.Description = "failure", "Deploy failed: "+oneLine(r.Err)
	}
	return s
}
