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
// The traffic path is a hand-written HTTP/1.1 forwarder over pooled backend
// connections (no net/http server or Transport on the hot path) so that the
// router stays within reach of HAProxy on small machines; the admin API
// (table, status, metrics) is an ordinary net/http handler.
package router
