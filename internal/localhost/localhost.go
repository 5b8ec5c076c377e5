// Package localhost makes the tool's own HTTP clients reach "localhost" and
// every "*.localhost" name on 127.0.0.1, as RFC 6761 (section 6.3) says they
// are loopback: Go's resolver asks DNS for them on many machines and gets
// "no such host", so the URL that `demo` prints would not work in our own
// tests. Other names resolve as usual.
package localhost

import (
	"context"
	"net"
	"net/http"
	"strings"
	"time"
)

// Loopback is the address *.localhost names are sent to: the local router
// listens on 127.0.0.1 only.
const Loopback = "127.0.0.1"

// Is reports whether host (a name, without port) is localhost or a
// subdomain of it, case-insensitively, a final dot allowed.
func Is(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	return h == "localhost" || strings.HasSuffix(h, ".localhost")
}

// Address returns addr ("host:port") with a localhost name replaced by
// Loopback; any other address is returned unchanged.
func Address(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || !Is(host) {
		return addr
	}
	return net.JoinHostPort(Loopback, port)
}

// Dialer dials like a net.Dialer, sending localhost names to Loopback.
type Dialer struct {
	net.Dialer
}

// DialContext connects to addr, a localhost name going to Loopback.
func (d *Dialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	return d.Dialer.DialContext(ctx, network, Address(addr))
}

// Transport returns a copy of http.DefaultTransport that dials with a
// Dialer. The request's Host header (and TLS server name) stay the URL's.
func Transport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	d := &Dialer{Dialer: net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}}
	t.DialContext = d.DialContext
	return t
}

// Client returns an http.Client with Transport and the given timeout.
func Client(timeout time.Duration) *http.Client {
	return &http.Client{Transport: Transport(), Timeout: timeout}
}
