package github

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/cli/go-gh/v2/pkg/api"
	"github.com/cli/go-gh/v2/pkg/auth"
	"github.com/cli/go-gh/v2/pkg/repository"
)

// ErrNoRepository is returned when the checkout names no GitHub
// repository (no remote on GitHub) and GITHUB_REPOSITORY is not set.
var ErrNoRepository = errors.New("no GitHub remote in this checkout")

// Unreachable says in a few words why GitHub cannot be told anything
// (no remote, no token), for a one-line note; ok is false for any other
// error, which deserves its whole text.
func Unreachable(err error) (why string, ok bool) {
	switch {
	case errors.Is(err, ErrNoRepository):
		return "no GitHub remote in this checkout", true
	case errors.Is(err, ErrNoAuth):
		return "no GitHub token (`gh auth login`, or GH_TOKEN)", true
	}
	return "", false
}

// ErrNoAuth means no GitHub token was found.
var ErrNoAuth = errors.New("no GitHub token: set GH_TOKEN (in a workflow: `GH_TOKEN: ${{ github.token }}`) or run `gh auth login`")

// requestTimeout bounds each REST request.
const requestTimeout = 30 * time.Second

// NewRESTClient returns a go-gh REST client for the GitHub host of this
// run: the host of $GITHUB_SERVER_URL in Actions, else $GH_HOST, else gh's
// default. The token is $GH_TOKEN or $GITHUB_TOKEN, else whatever go-gh
// finds (gh's configuration, `gh auth token`). No token: ErrNoAuth.
func NewRESTClient(env func(string) string) (*api.RESTClient, error) {
	return newRESTClient(env, nil)
}

func newRESTClient(env func(string) string, transport http.RoundTripper) (*api.RESTClient, error) {
	host := hostOf(env)
	token := env("GH_TOKEN")
	if token == "" {
		token = env("GITHUB_TOKEN")
	}
	if token == "" {
		token, _ = auth.TokenForHost(host) // the second result names the token's source
	}
	if token == "" {
		return nil, fmt.Errorf("create GitHub client for %s: %w", host, ErrNoAuth)
	}
	c, err := api.NewRESTClient(api.ClientOptions{
		Host:      host,
		AuthToken: token,
		Timeout:   requestTimeout,
		Transport: transport,
	})
	if err != nil {
		return nil, fmt.Errorf("create GitHub client for %s: %w", host, err)
	}
	return c, nil
}

// hostOf returns the GitHub host this run talks to.
func hostOf(env func(string) string) string {
	if s := env("GITHUB_SERVER_URL"); s != "" {
		if u, err := url.Parse(s); err == nil && u.Host != "" {
			return u.Host
		}
	}
	if h := env("GH_HOST"); h != "" {
		return h
	}
	h, _ := auth.DefaultHost() // the second result names where the host came from
	return h
}

// repoOf returns the repository of this run, "owner/name": $GITHUB_REPOSITORY,
// else $GH_REPO, else current (the git remotes, as gh does).
func repoOf(env func(string) string, current func() (string, error)) (string, error) {
	for _, k := range []string{"GITHUB_REPOSITORY", "GH_REPO"} {
		if v := env(k); v != "" {
			r, err := repository.ParseWithHost(v, hostOf(env))
			if err != nil {
				return "", fmt.Errorf("read %s: %w", k, err)
			}
			return r.Owner + "/" + r.Name, nil
		}
	}
	return current()
}

// currentRepo is the repository of the git checkout's remotes, via go-gh.
func currentRepo() (string, error) {
	r, err := repository.Current()
	if err != nil {
		return "", fmt.Errorf("find the GitHub repository of this checkout: %w (%v)", ErrNoRepository, err)
	}
	return r.Owner + "/" + r.Name, nil
}

// NewPublisherFromEnv returns a Publisher for the repository and GitHub
// host of this run, authenticated the way gh is (GH_TOKEN, GITHUB_TOKEN or
// `gh auth login`). Without a token it returns an error wrapping ErrNoAuth.
// In GitHub Actions warnings become ::warning:: workflow commands.
func NewPublisherFromEnv(env func(string) string, log io.Writer) (*Publisher, error) {
	return newPublisherFromEnv(env, log, nil)
}

func newPublisherFromEnv(env func(string) string, log io.Writer, transport http.RoundTripper) (*Publisher, error) {
	c, err := newRESTClient(env, transport)
	if err != nil {
		return nil, err
	}
	repo, err := repoOf(env, currentRepo)
	if err != nil {
		return nil, fmt.Errorf("create publisher: %w", err)
	}
	p := NewPublisher(c, repo, log)
	p.commands = env("GITHUB_ACTIONS") == "true"
	return p, nil
}
