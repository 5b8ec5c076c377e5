package router

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// maxTableBytes bounds a PUT /table body.
const maxTableBytes = 4 << 20

// errorBody is the JSON body of a failed admin request.
type errorBody struct {
	Errors []string `json:"errors"`
}

// AdminHandler serves the admin API: GET/PUT /table, GET /status,
// GET /healthz and GET /metrics. Serve it on its own listener that only the
// host can reach.
func (r *Router) AdminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /table", func(w http.ResponseWriter, _ *http.Request) {
		r.mu.Lock() // table and ETag from the same version
		t, etag := r.tableJSON(), r.etag()
		r.mu.Unlock()
		w.Header().Set("ETag", etag)
		writeJSON(w, http.StatusOK, t)
	})
	mux.HandleFunc("PUT /table", r.handlePutTable)
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, r.Status())
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n") // a failed write means the caller left
	})
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, _ *http.Request) {
		var buf bytes.Buffer
		if err := r.WriteMetrics(&buf); err != nil {
			writeJSON(w, http.StatusInternalServerError, errorBody{Errors: []string{err.Error()}})
			return
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		_, _ = w.Write(buf.Bytes()) // a failed write means the scraper left
	})
	return mux
}

func (r *Router) handlePutTable(w http.ResponseWriter, req *http.Request) {
	dec := json.NewDecoder(http.MaxBytesReader(w, req.Body, maxTableBytes))
	dec.DisallowUnknownFields()
	var t Table
	if err := dec.Decode(&t); err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody{Errors: []string{
			fmt.Sprintf("decode table JSON: %v (send a JSON object with targets, hosts, production, health, drain_timeout)", err)}})
		return
	}
	if dec.More() {
		writeJSON(w, http.StatusBadRequest, errorBody{Errors: []string{"decode table JSON: trailing data after the table object"}})
		return
	}
	err := r.ReplaceIf(t, req.Header.Get("If-Match"))
	var te *TableError
	switch {
	case errors.As(err, &te):
		writeJSON(w, http.StatusBadRequest, errorBody{Errors: te.Problems})
	case errors.Is(err, ErrConflict):
		writeJSON(w, http.StatusPreconditionFailed, errorBody{Errors: []string{err.Error() + ": GET /table again and retry"}})
	case err != nil:
		writeJSON(w, http.StatusInternalServerError, errorBody{Errors: []string{err.Error()}})
	default:
		r.log.Info("table replaced", "targets", len(t.Targets), "hosts", len(t.Hosts), "production", len(t.Production))
		r.mu.Lock()
		t, etag := r.tableJSON(), r.etag()
		r.mu.Unlock()
		w.Header().Set("ETag", etag)
		writeJSON(w, http.StatusOK, t)
	}
}

// tableJSON is the table with an empty target list shown as [], not null.
func (r *Router) tableJSON() Table {
	t := r.Table()
	if t.Targets == nil {
		t.Targets = []Target{}
	}
	return t
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"errors": ["encode response"]}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n')) // a failed write means the caller left
}
