// Package integration holds the tests that check a running sample-app
// environment: the page, /version and /healthz answer, and they report the
// expected commit and stack.
//
// The target comes from the environment:
//
//	SLIPWAY_BASE_URL      URL of the environment, e.g. http://pr-42.app.localhost:8080
//	SLIPWAY_HOST          Host header to send (when the URL is an address and routing is by host)
//	SLIPWAY_EXPECT_COMMIT commit the environment must serve
//	SLIPWAY_EXPECT_STACK  stack the environment must report
//	SLIPWAY_STACK_HEADER  sent as X-Slipway-Stack, to reach a stack before it gets traffic
//	SLIPWAY_ENV           production (the stack runs on production's data: the tests only read) or preview
//
// Without SLIPWAY_BASE_URL (a plain `go test ./...`) the tests start the
// sample app in-process on 127.0.0.1 with a known commit and stack and check
// that instead, so they never skip. internal/itest runs this package and
// summarises the result.
package integration
