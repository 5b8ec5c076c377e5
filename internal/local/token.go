package local

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
)

// tokenEnv is the router container's environment variable that holds the
// admin token (see cmd/slipway-router).
const tokenEnv = "SLIPWAY_ROUTER_TOKEN"

// newToken is a fresh per-app admin token.
func newToken() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("create router admin token: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// tokenOf reads the admin token from a router container's environment.
func tokenOf(c container.InspectResponse) string {
	if c.Config == nil {
		return ""
	}
	for _, kv := range c.Config.Env {
		if v, ok := strings.CutPrefix(kv, tokenEnv+"="); ok {
			return v
		}
	}
	return ""
}

// routerToken is the token of this app's router container, read once from
// Docker (the cloud is the state).
func (p *Provider) routerToken(ctx context.Context) (string, error) {
	p.tokenMu.Lock()
	defer p.tokenMu.Unlock()
	if p.token != "" {
		return p.token, nil
	}
	c, err := p.d.ContainerInspect(ctx, p.routerName())
	if cerrdefs.IsNotFound(err) {
		return "", fmt.Errorf("read router admin token: no router %s (run a deploy or `go run mage.go demo` to create it)", p.routerName())
	}
	if err != nil {
		return "", fmt.Errorf("read router admin token: %w", err)
	}
	if p.token = tokenOf(c); p.token == "" {
		return "", fmt.Errorf("read router admin token: router %s has none (an older router: the next deploy replaces it)", p.routerName())
	}
	return p.token, nil
}

// forgetToken drops the cached token of a router that is being replaced.
func (p *Provider) forgetToken() {
	p.tokenMu.Lock()
	p.token = ""
	p.tokenMu.Unlock()
}

// tokenTransport sends the router's admin token with every request that
// does not carry one.
type tokenTransport struct{ p *Provider }

// A 401 means the router was replaced since the token was read (another
// run recreated it): the token is read again and a request that can be
// sent again is, once.
func (t tokenTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Header.Get("Authorization") != "" {
		return http.DefaultTransport.RoundTrip(req)
	}
	for attempt := 0; ; attempt++ {
		tok, err := t.p.routerToken(req.Context())
		if err != nil {
			if req.Body != nil {
				_ = req.Body.Close() // RoundTrip must close it, even on error
			}
			return nil, err
		}
		out := req.Clone(req.Context())
		out.Header.Set("Authorization", "Bearer "+tok)
		if attempt > 0 && req.GetBody != nil {
			if out.Body, err = req.GetBody(); err != nil {
				return nil, fmt.Errorf("resend router request: %w", err)
			}
		}
		resp, err := http.DefaultTransport.RoundTrip(out)
		resendable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
		if err != nil || resp.StatusCode != http.StatusUnauthorized || attempt > 0 || !resendable {
			return resp, err
		}
		_ = resp.Body.Close() // a 401 with a stale token: read the token again
		t.p.forgetToken()
	}
}
