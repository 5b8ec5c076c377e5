package router

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"time"
)

// maxTableBytes bounds a PUT /table body: MaxTargets targets with long
// names fit in well under this.
const maxTableBytes = 1 << 20

// AllowEmptyParam is the PUT /table query parameter that lets a table
// remove every target (allow_empty=true); without it such a table is
// refused with 409, so that a stray `null` or `{}` cannot wipe the routes.
const AllowEmptyParam = "allow_empty"

// errorBody is the JSON body of a failed admin request.
type errorBody struct {
	Errors []string `json:"errors"`
}

// AdminHandler serves the admin API: GET/PUT /table, GET /status,
// GET /healthz, GET /metrics and GET /metrics.json. Serve it on its own
// listener that only the host can reach. Every request but GET /healthz
// must name a loopback host (no DNS rebinding from a browser) and carry
// the admin token (Options.AdminToken) as "Authorization: Bearer <token>".
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
	mux.HandleFunc("GET /metrics.json", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, r.Metrics())
	})
	return r.Guard(mux)
}

// adminHeadTimeout bounds how long an admin client may take to send a
// request head (less when the client idle timeout is shorter).
const adminHeadTimeout = 10 * time.Second

// AdminServer is the server for the admin API: h is AdminHandler, or a mux
// around it wrapped in Guard. Without the token a local process can still
// open connections; the server bounds how long it holds one: a request
// head must arrive within 10 s, a whole request within the client idle
// timeout (Options.ClientIdleTimeout, which also cuts a pprof profile
// longer than that), and an idle keep-alive connection is closed after
// the client idle timeout.
func (r *Router) AdminServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: min(r.clientIdle, adminHeadTimeout),
		ReadTimeout:       r.clientIdle,
		IdleTimeout:       r.clientIdle,
		ErrorLog:          r.errorLog,
	}
}

// Guard refuses admin requests from anywhere but a local process that
// knows the token; GET /healthz stays open for Docker's HEALTHCHECK. The
// admin handler has it already; wrap anything else served on the admin
// listener (pprof) with it too.
func (r *Router) Guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method == http.MethodGet && req.URL.Path == "/healthz" {
			next.ServeHTTP(w, req)
			return
		}
		if !loopbackHost(req.Host) {
			writeJSON(w, http.StatusForbidden, errorBody{Errors: []string{fmt.Sprintf(
				"admin API: Host %q is not a loopback name: use http://127.0.0.1:<admin port>", truncate(req.Host))}})
			return
		}
		if r.token != "" && !validToken(req.Header.Get("Authorization"), r.token) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="slipway-router"`)
			writeJSON(w, http.StatusUnauthorized, errorBody{Errors: []string{
				"admin API: missing or wrong token: send Authorization: Bearer <the router's SLIPWAY_ROUTER_TOKEN>"}})
			return
		}
		next.ServeHTTP(w, req)
	})
}

func validToken(header, token string) bool {
	got, ok := strings.CutPrefix(header, "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(got), []byte(token)) == 1
}

// loopbackHost reports whether host (port allowed) names this machine:
// localhost, or a loopback IP.
func loopbackHost(host string) bool {
	h := hostKey(host)
	if h == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(strings.Trim(h, "[]"))
	return err == nil && ip.IsLoopback()
}

func (r *Router) handlePutTable(w http.ResponseWriter, req *http.Request) {
	dec := json.NewDecoder(http.MaxBytesReader(w, req.Body, maxTableBytes))
	dec.DisallowUnknownFields()
	var raw json.RawMessage
	var t Table
	err := dec.Decode(&raw)
	if err == nil && !bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{")) {
		err = errors.New("the body is not a JSON object")
	}
	if err == nil {
		d := json.NewDecoder(bytes.NewReader(raw))
		d.DisallowUnknownFields()
		err = d.Decode(&t)
	}
	if err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody{Errors: []string{
			fmt.Sprintf("decode table JSON: %v (send a JSON object with targets, hosts, production, health, drain_timeout)", err)}})
		return
	}
	if dec.More() {
		writeJSON(w, http.StatusBadRequest, errorBody{Errors: []string{"decode table JSON: trailing data after the table object"}})
		return
	}
	if len(t.Targets) == 0 && len(r.snap.Load().order) > 0 && req.URL.Query().Get(AllowEmptyParam) != "true" && t.Validate() == nil {
		writeJSON(w, http.StatusConflict, errorBody{Errors: []string{fmt.Sprintf(
			"refusing a table that removes every target (%d now): if that is what you want, PUT /table?%s=true", len(r.snap.Load().order), AllowEmptyParam)}})
		return
	}
	err = r.ReplaceIf(t, req.Header.Get("If-Match"))
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
