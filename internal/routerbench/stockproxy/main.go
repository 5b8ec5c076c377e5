// Command stockproxy is the benchmark's baseline: a stock
// httputil.ReverseProxy to -target on a default http.Server and the
// default http.Transport, with nothing tuned.
package main

import (
	"flag"
	"fmt"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:8081", "address to serve on")
	target := flag.String("target", "http://127.0.0.1:8080", "backend URL")
	flag.Parse()
	u, err := url.Parse(*target)
	if err != nil {
		fmt.Fprintln(os.Stderr, "parse -target:", err)
		os.Exit(2)
	}
	if err := http.ListenAndServe(*listen, httputil.NewSingleHostReverseProxy(u)); err != nil {
		fmt.Fprintln(os.Stderr, "serve:", err)
		os.Exit(1)
	}
}
