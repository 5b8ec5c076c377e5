// Command adminprobe plays an app container trying its router: the local
// package's tests run it, statically built, in the app's image on the app's
// network (the app image has no HTTP client). Each argument is
// name=METHOD,URL,HOST; it prints one line per argument, "name: status 403"
// or "name: error <why>". A PUT sends a table that removes every target.
// An argument route=DST,GW first adds the route "DST/32 via GW" (with
// NET_ADMIN) and prints "route: ok" or "route: error <why>".
package main

import (
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"time"
)

func main() {
	c := &http.Client{Timeout: 3 * time.Second}
	for _, arg := range os.Args[1:] {
		name, spec, _ := strings.Cut(arg, "=")
		if name == "route" {
			fmt.Printf("route: %s\n", route(spec))
			continue
		}
		fmt.Printf("%s: %s\n", name, try(c, spec))
	}
}

func route(spec string) string {
	dst, gw, _ := strings.Cut(spec, ",")
	d, err := netip.ParseAddr(dst)
	if err != nil {
		return "error " + err.Error()
	}
	g, err := netip.ParseAddr(gw)
	if err != nil {
		return "error " + err.Error()
	}
	if err := addRoute(d, g); err != nil {
		return "error " + err.Error()
	}
	return "ok"
}

func try(c *http.Client, spec string) string {
	f := strings.SplitN(spec, ",", 3)
	if len(f) != 3 {
		return fmt.Sprintf("error bad argument %q: want METHOD,URL,HOST", spec)
	}
	var body io.Reader
	if f[0] == http.MethodPut {
		body = strings.NewReader(`{"targets": []}`)
	}
	req, err := http.NewRequest(f[0], f[1], body)
	if err != nil {
		return "error " + err.Error()
	}
	req.Host = f[2]
	resp, err := c.Do(req)
	if err != nil {
		return "error " + err.Error()
	}
	if err := resp.Body.Close(); err != nil {
		return "error " + err.Error()
	}
	return fmt.Sprintf("status %d", resp.StatusCode)
}
