// Package app is Slipway's demo application: a small HTTP server that shows
// which build and which stack answered a request, reports its health, and
// shuts down gracefully. The sample-app binary is a thin main around it, and
// the integration tests start it in-process when no environment is given.
package app

import (
	"bytes"
	"encoding/json"
	"html/template"
	"log/slog"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

// App serves the demo pages. Create it with New; it is safe for concurrent use.
type App struct {
	cfg          Config
	log          *slog.Logger
	mux          *http.ServeMux
	shuttingDown atomic.Bool
	served       atomic.Uint64 // requests that APP_FAIL_PERCENT counts
	store        Store         // nil without DATABASE_URL
}

// VersionInfo is the body of GET /version. Dirty says the build had
// uncommitted changes on top of Commit (its version then ends in "-dirty").
type VersionInfo struct {
	Version string `json:"version"`
	Commit  string `json:"commit"`
	Dirty   bool   `json:"dirty"`
	Stack   string `json:"stack"`
	Message string `json:"message"`
	// With a database only: the newest schema this build migrates to, the
	// oldest it runs on, and the schema the database has now.
	SchemaHead     int64  `json:"schema_head,omitempty"`
	SchemaMin      int64  `json:"schema_min,omitempty"`
	DatabaseSchema *int64 `json:"database_schema,omitempty"`
}

// New returns an App for cfg, with empty or unsafe fields replaced by their
// defaults. A nil log discards log lines.
func New(cfg Config, log *slog.Logger) *App {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &App{cfg: cfg.withDefaults(), log: log, mux: http.NewServeMux()}
	a.mux.HandleFunc("GET /{$}", a.delayed(a.failing(a.servePage)))
	a.mux.HandleFunc("GET /healthz", a.serveHealth)
	a.mux.HandleFunc("GET /version", a.delayed(a.failing(a.serveVersion)))
	a.mux.HandleFunc("GET /slow", a.delayed(a.failing(a.serveSlow)))
	return a
}

// delayed answers APP_DELAY late, so a slow release can be simulated whose
// health check stays fast (a canary's latency check has to catch it).
func (a *App) delayed(h http.HandlerFunc) http.HandlerFunc {
	d := a.cfg.Delay
	if d <= 0 {
		return h
	}
	return func(w http.ResponseWriter, r *http.Request) {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return
		}
		h(w, r)
	}
}

// failing answers 500 to APP_FAIL_PERCENT percent of requests, spread
// evenly (with 20 %, every fifth), so a broken release can be simulated that
// passes a few test requests and fails under load. Health checks never fail.
func (a *App) failing(h http.HandlerFunc) http.HandlerFunc {
	pct := uint64(a.cfg.FailPercent)
	if pct == 0 {
		return h
	}
	return func(w http.ResponseWriter, r *http.Request) {
		n := a.served.Add(1)
		if n*pct/100 > (n-1)*pct/100 {
			http.Error(w, "failing on purpose (APP_FAIL_PERCENT)", http.StatusInternalServerError)
			return
		}
		h(w, r)
	}
}

// Config returns the configuration the app serves, defaults applied.
func (a *App) Config() Config { return a.cfg }

// ServeHTTP routes /, /healthz and /version.
func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	a.mux.ServeHTTP(w, r)
}

// Healthy reports whether /healthz answers 200; it turns false for good when
// shutdown starts.
func (a *App) Healthy() bool { return !a.shuttingDown.Load() }

// StartShutdown makes /healthz answer 503 from now on. Run calls it when its
// context ends; it is exported for servers that embed the handler.
func (a *App) StartShutdown() { a.shuttingDown.Store(true) }

func (a *App) serveHealth(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if !a.Healthy() {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("shutting down\n"))
		return
	}
	_, _ = w.Write([]byte("ok\n"))
}

func (a *App) serveVersion(w http.ResponseWriter, r *http.Request) {
	info := a.versionInfo()
	if err := a.schemaInfo(r.Context(), &info); err != nil {
		a.dbUnavailable(w, err)
		return
	}
	body, err := json.Marshal(info)
	if err != nil {
		a.log.Error("encode /version", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(append(body, '\n'))
}

// maxSlow bounds /slow, so a request can never hold a connection for long.
const maxSlow = 30 * time.Second

// serveSlow answers like /version after ?ms= milliseconds (at most 30 s),
// so a person (or a test) can watch a request finish while its stack drains.
func (a *App) serveSlow(w http.ResponseWriter, r *http.Request) {
	ms, err := strconv.Atoi(r.URL.Query().Get("ms"))
	if err != nil || ms < 0 || time.Duration(ms)*time.Millisecond > maxSlow {
		http.Error(w, "want ?ms= from 0 to 30000", http.StatusBadRequest)
		return
	}
	select {
	case <-time.After(time.Duration(ms) * time.Millisecond):
	case <-r.Context().Done():
		return
	}
	a.serveVersion(w, r)
}

func (a *App) versionInfo() VersionInfo {
	return VersionInfo{Version: a.cfg.Version, Commit: a.cfg.Commit, Dirty: a.cfg.Dirty, Stack: a.cfg.Stack, Message: a.cfg.Message}
}

// pageCSP forbids scripts and remote content: the page needs only its own
// inline style.
const pageCSP = "default-src 'none'; style-src 'unsafe-inline'"

var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en" data-commit="{{.Commit}}" data-stack="{{.Stack}}" data-version="{{.Version}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="slipway-commit" content="{{.Commit}}">
<meta name="slipway-stack" content="{{.Stack}}">
<meta name="slipway-version" content="{{.Version}}">
<meta name="slipway-dirty" content="{{.Dirty}}">
<title>{{.Message}} · {{.Stack}}</title>
<style>
body { margin: 0; min-height: 100vh; display: flex; align-items: center; justify-content: center;
  background: {{.Color}}; font-family: system-ui, sans-serif; }
main { background: #fff; color: #1b1f24; padding: 2rem 3rem; border-radius: 12px;
  border-top: 12px solid {{.Color}}; box-shadow: 0 4px 24px rgba(0, 0, 0, .25); }
dt { font-weight: 600; } dd { margin: 0 0 .5rem 0; font-family: ui-monospace, monospace; }
</style>
</head>
<body>
<main data-commit="{{.Commit}}" data-stack="{{.Stack}}">
<h1>{{.Message}}</h1>
<dl>
<dt>Stack</dt><dd id="stack">{{.Stack}}</dd>
<dt>Commit</dt><dd id="commit">{{.Commit}}</dd>
{{- if .Dirty}}
<dt>Working tree</dt><dd id="dirty">dirty: built with uncommitted changes on top of this commit</dd>
{{- end}}
<dt>Version</dt><dd id="version">{{.Version}}</dd>
<dt>Colour</dt><dd id="color">{{.Color}}</dd>
</dl>
{{with .DB}}<section id="database">
<p>Visits to this environment: <strong id="visits">{{.Visits}}</strong> · schema <span id="schema">{{.Schema}}</span></p>
<ul id="notes">{{range .Notes}}<li>{{.Body}}</li>{{end}}</ul>
</section>{{end}}
</main>
</body>
</html>
`))

// pageData is what the page template renders: the configuration and, with
// a database, what it holds.
type pageData struct {
	Config
	DB *dbView
}

func (a *App) servePage(w http.ResponseWriter, r *http.Request) {
	db, err := a.pageDB(r.Context())
	if err != nil {
		a.dbUnavailable(w, err)
		return
	}
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, pageData{Config: a.cfg, DB: db}); err != nil {
		a.log.Error("render page", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", pageCSP)
	_, _ = buf.WriteTo(w)
}
