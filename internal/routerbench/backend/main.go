// Command backend is the fast target of the router benchmark: a tiny
// net/http server that answers every request with a short body.
package main

import (
	"flag"
	"fmt"
	"net/http"
	"os"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to serve on (loopback only)")
	flag.Parse()
	body := []byte("hello from the benchmark backend\n")
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write(body) // a failed write means wrk closed the connection
	})
	if err := http.ListenAndServe(*listen, h); err != nil {
		fmt.Fprintln(os.Stderr, "serve:", err)
		os.Exit(1)
	}
}
