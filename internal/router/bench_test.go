package router

import (
	"io"
	"net/http"
	"testing"
)

// BenchmarkProxy measures one request through the router's handler to a
// real loopback target: the whole request path but the client's socket.
// allocs/op counts the target's allocations too (same process); compare
// runs of it, not its absolute value.
func BenchmarkProxy(b *testing.B) {
	tr := startRouter(b, Options{})
	be := newBackend(b, "blue")
	tr.replace(b, Table{Targets: []Target{targetOf(be)}, Production: []Weighted{{Target: "blue", Weight: 1}}}, "blue")
	req, err := http.NewRequest(http.MethodGet, "http://app.localhost/", nil)
	if err != nil {
		b.Fatal(err)
	}
	req.RemoteAddr = "127.0.0.1:40000"
	req.RequestURI = "/"
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		w.status = 0
		tr.ServeHTTP(w, req)
		if w.status != http.StatusOK {
			b.Fatalf("status %d", w.status)
		}
	}
}

// discardWriter is a ResponseWriter that keeps only the status.
type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header { return w.h }

func (w *discardWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *discardWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return io.Discard.Write(p)
}

// Flush and EnableFullDuplex are what http.ResponseController finds on the
// server's own writer.
func (w *discardWriter) Flush() {}

func (w *discardWriter) EnableFullDuplex() error { return nil }
