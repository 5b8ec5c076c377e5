package github

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// eventPayload holds the fields Slipway reads from a GitHub Actions event
// ($GITHUB_EVENT_PATH). One struct covers every event: fields an event does
// not have stay zero.
type eventPayload struct {
	Action      string          `json:"action"`
	Number      int             `json:"number"`
	PullRequest *pullRequest    `json:"pull_request"`
	Label       *label          `json:"label"`
	Ref         string          `json:"ref"`
	After       string          `json:"after"`
	Created     bool            `json:"created"`
	Deleted     bool            `json:"deleted"`
	Repository  *repositoryJSON `json:"repository"`
	Sender      *user           `json:"sender"`
	Inputs      map[string]any  `json:"inputs"`
}

// pullRequest is the pull request object shared by event payloads and the
// REST API (GET /repos/{o}/{r}/pulls/{n}).
type pullRequest struct {
	Number int     `json:"number"`
	State  string  `json:"state"`
	Merged bool    `json:"merged"`
	Head   prRef   `json:"head"`
	Base   prRef   `json:"base"`
	Labels []label `json:"labels"`
	User   *user   `json:"user"`
}

type prRef struct {
	Ref  string          `json:"ref"`
	SHA  string          `json:"sha"`
	Repo *repositoryJSON `json:"repo"` // null when the head fork was deleted
}

type repositoryJSON struct {
	FullName      string `json:"full_name"`
	DefaultBranch string `json:"default_branch"`
}

type label struct {
	Name string `json:"name"`
}

type user struct {
	Login string `json:"login"`
}

// contextFromEvent builds a Context from an event name and its payload;
// env supplies the GITHUB_* variables the payload lacks.
func contextFromEvent(name string, data []byte, env func(string) string) (Context, error) {
	if name == "" {
		return Context{}, errors.New("read event: GITHUB_EVENT_NAME is empty")
	}
	var p eventPayload
	if err := json.Unmarshal(data, &p); err != nil {
		return Context{}, fmt.Errorf("read event %s: %w", name, err)
	}
	c := Context{
		Source:      SourceEvent,
		Actions:     true,
		Event:       name,
		EventAction: p.Action,
		Repo:        env("GITHUB_REPOSITORY"),
		Actor:       env("GITHUB_ACTOR"),
		Inputs:      stringInputs(p.Inputs),
		RunURL:      runURL(env),
	}
	if p.Repository != nil {
		c.Repo = p.Repository.FullName
		c.DefaultBranch = p.Repository.DefaultBranch
	}
	if c.Actor == "" && p.Sender != nil {
		c.Actor = p.Sender.Login
	}
	switch name {
	case "pull_request", "pull_request_target":
		if p.PullRequest == nil {
			return c, fmt.Errorf("read event %s: payload has no pull_request", name)
		}
		c.applyPullRequest(p.PullRequest)
		if p.Number != 0 {
			c.PR = p.Number
		}
		if p.Label != nil {
			c.Label = p.Label.Name
		}
	case "push":
		c.Ref, c.SHA, c.Created, c.Deleted = p.Ref, p.After, p.Created, p.Deleted
		c.Branch = branchOf(c.Ref)
	default:
		c.Ref = p.Ref
		if c.Ref == "" {
			c.Ref = env("GITHUB_REF")
		}
		c.SHA = env("GITHUB_SHA")
		c.Branch = branchOf(c.Ref)
	}
	return c, nil
}

// applyPullRequest copies a pull request object (event or REST) into c.
func (c *Context) applyPullRequest(pr *pullRequest) {
	c.PR = pr.Number
	c.State = pr.State
	c.Merged = pr.Merged
	c.Branch = pr.Head.Ref
	c.SHA = pr.Head.SHA
	c.Base = pr.Base.Ref
	if pr.Base.Repo != nil && pr.Base.Repo.FullName != "" {
		c.Repo = pr.Base.Repo.FullName
	}
	c.HeadRepo = ""
	if pr.Head.Repo != nil {
		c.HeadRepo = pr.Head.Repo.FullName
	}
	// A deleted head repository is treated as a fork: nothing proves it was
	// the base repository.
	c.Fork = c.HeadRepo == "" || !strings.EqualFold(c.HeadRepo, c.Repo)
	c.Labels = nil
	for _, l := range pr.Labels {
		c.Labels = append(c.Labels, l.Name)
	}
}

// branchOf returns the branch name of refs/heads/<branch>, or "".
func branchOf(ref string) string {
	b, ok := strings.CutPrefix(ref, "refs/heads/")
	if !ok {
		return ""
	}
	return b
}

// runURL links the current Actions run (and attempt), or "" outside Actions.
func runURL(env func(string) string) string {
	server, repo, id := env("GITHUB_SERVER_URL"), env("GITHUB_REPOSITORY"), env("GITHUB_RUN_ID")
	if server == "" || repo == "" || id == "" {
		return ""
	}
	u := strings.TrimRight(server, "/") + "/" + repo + "/actions/runs/" + id
	if a := env("GITHUB_RUN_ATTEMPT"); a != "" && a != "1" {
		u += "/attempts/" + a
	}
	return u
}

// stringInputs flattens workflow_dispatch inputs (strings, booleans,
// numbers) to strings.
func stringInputs(in map[string]any) map[string]string {
	if len(in) == 0 {
		return nil
	}
	out := make(map[string]string, len(in))
	for k, v := range in {
		if s, ok := v.(string); ok {
			out[k] = s
			continue
		}
		out[k] = fmt.Sprint(v)
	}
	return out
}
