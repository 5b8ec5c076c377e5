package github

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"

	"github.com/cli/go-gh/v2/pkg/api"
)

// Requester sends one REST request to GitHub. *api.RESTClient from go-gh
// satisfies it: the path is relative to the API root ("repos/o/r/...") or an
// absolute URL (a Link header's next page), and a non-2xx answer comes back
// as an *api.HTTPError.
type Requester interface {
	RequestWithContext(ctx context.Context, method, path string, body io.Reader) (*http.Response, error)
}

var _ Requester = (*api.RESTClient)(nil)

// maxPages bounds every listing: 50 pages of 100 items.
const maxPages = 50

// maxBody bounds how much of one response is read.
const maxBody = 16 << 20

// reply is what a call returned besides its decoded body.
type reply struct {
	Status int
	Header http.Header
}

// call sends in (if not nil) as JSON and decodes the answer into out (if
// not nil).
func call(ctx context.Context, c Requester, method, path string, in, out any) (reply, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return reply{}, fmt.Errorf("encode request %s %s: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	resp, err := c.RequestWithContext(ctx, method, path, body)
	if err != nil {
		return reply{}, err
	}
	defer func() { _ = resp.Body.Close() }()
	r := reply{Status: resp.StatusCode, Header: resp.Header}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return r, nil
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return r, fmt.Errorf("read response of %s %s: %w", method, path, err)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return r, fmt.Errorf("decode response of %s %s: %w", method, path, err)
	}
	return r, nil
}

// eachPage lists path and every following page named by the Link header
// (rel="next"), passing each page's items to visit until it returns false.
func eachPage[T any](ctx context.Context, c Requester, path string, visit func([]T) bool) error {
	first := path
	for n := 0; path != ""; n++ {
		if n == maxPages {
			return fmt.Errorf("list %s: more than %d pages", first, maxPages)
		}
		var items []T
		r, err := call(ctx, c, http.MethodGet, path, nil, &items)
		if err != nil {
			return err
		}
		if !visit(items) {
			return nil
		}
		path = nextLink(r.Header.Get("Link"))
	}
	return nil
}

// nextLink returns the URL with rel="next" in an RFC 8288 Link header, or "".
func nextLink(h string) string {
	for _, part := range strings.Split(h, ",") {
		target, params, ok := strings.Cut(part, ";")
		if !ok {
			continue
		}
		target = strings.TrimSpace(target)
		if !strings.HasPrefix(target, "<") || !strings.HasSuffix(target, ">") {
			continue
		}
		for _, p := range strings.Split(params, ";") {
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			if !strings.EqualFold(k, "rel") {
				continue
			}
			for _, rel := range strings.Fields(strings.Trim(v, `"`)) {
				if strings.EqualFold(rel, "next") {
					return target[1 : len(target)-1]
				}
			}
		}
	}
	return ""
}

// statusOf returns the HTTP status of a GitHub error, or 0.
func statusOf(err error) int {
	var h *api.HTTPError
	if errors.As(err, &h) {
		return h.StatusCode
	}
	return 0
}

// isForbidden reports a 403: the token may not do this (a read-only token
// on a fork's pull request, missing workflow permissions).
func isForbidden(err error) bool { return statusOf(err) == http.StatusForbidden }

var repoRE = regexp.MustCompile(`^[A-Za-z0-9-]+/[A-Za-z0-9._-]+$`)

// repoPath returns "repos/owner/name" after checking repo's shape, so that
// nothing else ends up in a request path.
func repoPath(repo string) (string, error) {
	_, name, _ := strings.Cut(repo, "/")
	if !repoRE.MatchString(repo) || name == "." || name == ".." {
		return "", fmt.Errorf("repository %q is not owner/name", repo)
	}
	return "repos/" + repo, nil
}

// warnf writes one warning line: a ::warning:: workflow command in GitHub
// Actions, "warning: ..." elsewhere.
func warnf(w io.Writer, commands bool, format string, args ...any) {
	msg := oneLine(fmt.Sprintf(format, args...))
	if commands {
		_, _ = fmt.Fprintf(w, "::warning::%s\n", escapeCommandData(msg))
		return
	}
	_, _ = fmt.Fprintf(w, "warning: %s\n", msg)
}
