package router

import "net/http"

// recorder remembers the status written, for metrics and the access log.
type recorder struct {
	http.ResponseWriter
	status int
}

func (w *recorder) WriteHeader(code int) {
	if w.status == 0 || w.status < 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach Flush, Hijack and full duplex.
func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// closeAfterResponse makes net/http close the client connection after the
// current response, also when its header is already written (where a
// Connection: close header no longer can). http.MaxBytesReader is the
// documented way: past its limit "it tells the ResponseWriter to close the
// connection after the limit has been reached". net/http then says
// Connection: close in the header if that is not sent yet, and closes
// after the response either way. w must be net/http's own ResponseWriter.
func closeAfterResponse(w http.ResponseWriter) {
	var b [1]byte
	_, _ = http.MaxBytesReader(w, oneByte{}, 0).Read(b[:]) // the limit error is the point
}

// oneByte is an endless stream of one-byte reads.
type oneByte struct{}

func (oneByte) Read(p []byte) (int, error) { return copy(p, "x"), nil }
func (oneByte) Close() error               { return nil }
