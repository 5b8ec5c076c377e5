package github

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Marker is the hidden first line of Slipway's pull request comment. The
// comment is found again by it, so there is one per pull request.
const Marker = "<!-- slipway:preview -->"

// Comment is an issue comment as the REST API returns it.
type Comment struct {
	ID   int64  `json:"id"`
	Body string `json:"body"`
	User *user  `json:"user"`
	URL  string `json:"html_url"`
}

// Comments finds, creates and updates the sticky comment on pull requests
// of one repository.
type Comments struct {
	api  Requester
	repo string
	log  io.Writer // duplicate markers are reported here; may be nil
}

// NewComments returns a Comments for repo ("owner/name").
func NewComments(c Requester, repo string, log io.Writer) *Comments {
	return &Comments{api: c, repo: repo, log: log}
}

// Find returns the first comment on pull request pr whose body starts with
// Marker, searching every page, or nil when there is none.
func (c *Comments) Find(ctx context.Context, pr int) (*Comment, error) {
	base, err := repoPath(c.repo)
	if err != nil {
		return nil, fmt.Errorf("find comment on pull request #%d: %w", pr, err)
	}
	return c.find(ctx, base, pr)
}

func (c *Comments) find(ctx context.Context, base string, pr int) (*Comment, error) {
	var found *Comment
	dupes := 0
	path := fmt.Sprintf("%s/issues/%d/comments?per_page=100", base, pr)
	err := eachPage(ctx, c.api, path, func(page []Comment) bool {
		for i := range page {
			if !strings.HasPrefix(strings.TrimSpace(page[i].Body), Marker) {
				continue
			}
			if found == nil {
				found = &page[i]
				continue
			}
			dupes++
		}
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("find comment on pull request #%d: %w", pr, err)
	}
	if dupes > 0 && c.log != nil {
		warnf(c.log, false, "pull request #%d has %d comments starting with %s; updating the first (%d) only", pr, dupes+1, Marker, found.ID)
	}
	return found, nil
}

// Upsert updates Slipway's comment on pull request pr in place, or creates
// it when there is none. body must start with Marker (it is added if not).
// It reports whether the comment was created.
func (c *Comments) Upsert(ctx context.Context, pr int, body string) (Comment, bool, error) {
	if !strings.HasPrefix(body, Marker) {
		body = Marker + "\n" + body
	}
	base, err := repoPath(c.repo)
	if err != nil {
		return Comment{}, false, fmt.Errorf("upsert comment on pull request #%d: %w", pr, err)
	}
	existing, err := c.find(ctx, base, pr)
	if err != nil {
		return Comment{}, false, err
	}
	in := map[string]string{"body": body}
	var out Comment
	if existing == nil {
		path := fmt.Sprintf("%s/issues/%d/comments", base, pr)
		if _, err := call(ctx, c.api, http.MethodPost, path, in, &out); err != nil {
			return Comment{}, false, fmt.Errorf("create comment on pull request #%d: %w", pr, err)
		}
		return out, true, nil
	}
	if existing.Body == body {
		return *existing, false, nil
	}
	path := fmt.Sprintf("%s/issues/comments/%d", base, existing.ID)
	if _, err := call(ctx, c.api, http.MethodPatch, path, in, &out); err != nil {
		return Comment{}, false, fmt.Errorf("update comment %d on pull request #%d: %w", existing.ID, pr, err)
	}
	return out, false, nil
}
