package app

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/slipway/slipway/sample-app/store"
)

// Store is the app's optional database (a *store.Store): with one, the page
// counts its visits and shows notes, and /version reports the schema.
type Store interface {
	Visit(ctx context.Context) (int64, error)
	Notes(ctx context.Context, limit int) ([]store.Note, error)
	AddNote(ctx context.Context, body string) (store.Note, error)
	SchemaVersion(ctx context.Context) (int64, error)
}

// dbTimeout bounds each request's database work, so a paused or unreachable
// database answers 503 rather than hanging.
const dbTimeout = 5 * time.Second

// shownNotes is how many notes the page lists.
const shownNotes = 5

// WithStore makes the app keep its visit counter and notes in s, and adds
// GET and POST /notes. Call it before serving.
func (a *App) WithStore(s Store) *App {
	a.store = s
	a.mux.HandleFunc("GET /notes", a.serveNotes)
	a.mux.HandleFunc("POST /notes", a.addNote)
	return a
}

// dbView is what the page shows from the database.
type dbView struct {
	Visits int64
	Notes  []store.Note
	Schema int64
}

// pageDB counts this visit and reads what the page shows.
func (a *App) pageDB(ctx context.Context) (*dbView, error) {
	if a.store == nil {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, dbTimeout)
	defer cancel()
	v := &dbView{}
	var err error
	if v.Visits, err = a.store.Visit(ctx); err != nil {
		return nil, err
	}
	if v.Notes, err = a.store.Notes(ctx, shownNotes); err != nil {
		return nil, err
	}
	if v.Schema, err = a.store.SchemaVersion(ctx); err != nil {
		return nil, err
	}
	return v, nil
}

// schemaInfo fills /version's schema fields when the app has a database.
func (a *App) schemaInfo(ctx context.Context, v *VersionInfo) error {
	if a.store == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, dbTimeout)
	defer cancel()
	cur, err := a.store.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if v.SchemaHead, v.SchemaMin, err = store.Schema(); err != nil {
		return err
	}
	v.DatabaseSchema = &cur
	return nil
}

func (a *App) dbUnavailable(w http.ResponseWriter, err error) {
	a.log.Error("database unavailable", "err", err)
	http.Error(w, "database unavailable", http.StatusServiceUnavailable)
}

func (a *App) serveNotes(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), dbTimeout)
	defer cancel()
	notes, err := a.store.Notes(ctx, shownNotes)
	if err != nil {
		a.dbUnavailable(w, err)
		return
	}
	writeJSON(w, a, http.StatusOK, notes)
}

// addNote stores the request body (plain text, at most 500 bytes) as a note.
func (a *App) addNote(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 501))
	text := strings.TrimSpace(string(body))
	if err != nil || text == "" || len(text) > 500 {
		http.Error(w, "send the note as the request body: 1 to 500 bytes of text", http.StatusBadRequest)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), dbTimeout)
	defer cancel()
	n, err := a.store.AddNote(ctx, text)
	if err != nil {
		a.dbUnavailable(w, err)
		return
	}
	writeJSON(w, a, http.StatusCreated, n)
}

func writeJSON(w http.ResponseWriter, a *App, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		a.log.Error("encode JSON", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}
