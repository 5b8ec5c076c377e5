// Package router is Slipway's local stand-in for the shared AWS ALB: an
// HTTP/1.1 reverse proxy that sends each request to one target (a Docker
// container standing in for an ECS service) chosen by a routing table.
//
// The table has host rules (one preview host per pull request), a weighted
// production rule (blue/green and canary: N-way integer weights, sticky per
// client through the slipway_client cookie) and a header override
// (X-Slipway-Stack: <target>) that reaches any healthy target directly.
//
// Switching traffic follows kamal-proxy: a new target gets traffic only once
// its health check passes; a new table is swapped in under a lock; targets
// that a table removes stop getting new requests at once and drain their
// in-flight requests outside the lock until the table's drain_timeout, after
// which those requests are cut.
//
// The header override only reaches healthy targets: a target that is not
// healthy yet answers 503, an unknown name 404.
//
// Port rules give each stack a URL of its own that needs no DNS and no
// header: every request on a stack port (ServePort) goes to the stack the
// rule names, reached as the header override reaches it.
//
// The traffic path is the standard library's: net/http's server parses
// and frames client requests (with the ALB's limits: 16 KiB per header
// line, 64 KiB per head, 414 past 16 KiB of request target) and
// httputil.ReverseProxy forwards them over a tuned http.Transport per
// target (Rewrite sets the target, keeps the client's Host and sets the
// X-Forwarded-* headers; an idle timeout in both directions gives 504; the
// answers the router gives itself never show an internal address). What
// is ours is routing, health, draining, metrics and the admin API, and
// closing what net/http leaves open: a client connection after a request
// body that was not read to its end (with full duplex on, net/http no
// longer closes it), and after a chunked request whose head also had a
// Content-Length (RFC 9112 §6.1; net/http drops that header, so the
// client connection notes it). A target's status line is held back until
// the first byte of its body, so that a target that breaks off before
// its body gets the client a 502.
package router
