package commands

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"

	"github.com/slipway/slipway/internal/deploy"
	"github.com/slipway/slipway/internal/github"
)

// prState asks GitHub whether pull requests are open, so cleanup catches
// close events that were missed. Without GitHub it returns nil and says
// that previews are judged by their idle time alone.
func prState(ctx context.Context, s *Session) deploy.PRState {
	gh, err := github.Detect(ctx, os.Getenv, github.Request{})
	if gh.Repo == "" {
		why, ok := github.Unreachable(err)
		if !ok && err != nil {
			why = err.Error()
		}
		fmt.Fprintf(s.Err, "cleanup: no GitHub repository (%s): previews are removed by SLIPWAY_PREVIEW_TTL only\n", why)
		return nil
	}
	c, err := github.NewRESTClient(os.Getenv)
	if err != nil {
		fmt.Fprintf(s.Err, "cleanup: cannot ask GitHub which pull requests are closed (%v): previews are removed by SLIPWAY_PREVIEW_TTL only\n", err)
		return nil
	}
	return &ghPRs{c: c, repo: gh.Repo}
}

type ghPRs struct {
	c    github.Requester
	repo string
}

// PROpen reads the pull request's state.
func (g *ghPRs) PROpen(ctx context.Context, pr int) (bool, error) {
	resp, err := g.c.RequestWithContext(ctx, http.MethodGet, fmt.Sprintf("repos/%s/pulls/%d", g.repo, pr), nil)
	if err != nil {
		return false, fmt.Errorf("read pull request #%d: %w", pr, err)
	}
	defer resp.Body.Close()
	var body struct {
		State string `json:"state"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return false, fmt.Errorf("read pull request #%d: %w", pr, err)
	}
	return body.State == "open", nil
}
