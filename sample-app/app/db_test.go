package app

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/slipway/slipway/internal/pgimage/pgtest"
	"github.com/slipway/slipway/sample-app/store"
)

var visitsPattern = regexp.MustCompile(`<strong id="visits">(\d+)</strong>`)

func do(t *testing.T, a *App, method, path, body string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, httptest.NewRequest(method, path, strings.NewReader(body)))
	return rec
}

// With a real, migrated and seeded database the page counts its visits
// and shows the notes, notes can be added, and /version reports the schema.
func TestPageKeepsVisitsAndNotesInTheDatabase(t *testing.T) {
	dsn := pgtest.Start(t).AdminDSN()
	ctx := context.Background()
	if _, err := store.Migrate(ctx, dsn, store.MigrateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := store.Seed(ctx, dsn); err != nil {
		t.Fatal(err)
	}
	s, err := store.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	a := New(testConfig(), nil).WithStore(s)

	for want := 1; want <= 2; want++ {
		rec := do(t, a, http.MethodGet, "/", "")
		m := visitsPattern.FindStringSubmatch(rec.Body.String())
		if rec.Code != http.StatusOK || m == nil || m[1] != strconv.Itoa(want) {
			t.Fatalf("GET / = %d, visits %v; want 200 and visit %d\n%s", rec.Code, m, want, rec.Body)
		}
		if !strings.Contains(rec.Body.String(), "Seeded by the sample app") {
			t.Errorf("the page does not show the seed note:\n%s", rec.Body)
		}
	}

	if rec := do(t, a, http.MethodPost, "/notes", "<b>hello</b> from a test"); rec.Code != http.StatusCreated {
		t.Fatalf("POST /notes = %d %s", rec.Code, rec.Body)
	}
	if rec := do(t, a, http.MethodPost, "/notes", "   "); rec.Code != http.StatusBadRequest {
		t.Errorf("POST /notes with a blank note = %d, want 400", rec.Code)
	}
	page := do(t, a, http.MethodGet, "/", "").Body.String()
	if !strings.Contains(page, "&lt;b&gt;hello&lt;/b&gt; from a test") {
		t.Errorf("the new note is not on the page, escaped:\n%s", page)
	}

	var v VersionInfo
	if err := json.Unmarshal(do(t, a, http.MethodGet, "/version", "").Body.Bytes(), &v); err != nil {
		t.Fatal(err)
	}
	if v.SchemaHead != store.SchemaHead || v.SchemaMin != store.MinSchema || v.DatabaseSchema == nil || *v.DatabaseSchema != store.SchemaHead {
		t.Errorf("/version schema = head %d, min %d, database %v; want %d, %d, %d", v.SchemaHead, v.SchemaMin, v.DatabaseSchema, store.SchemaHead, store.MinSchema, store.SchemaHead)
	}
}

// A database that cannot be reached makes the page answer 503 quickly,
// while /healthz stays up: a paused database is not a dead app.
func TestUnreachableDatabaseAnswers503AndStaysHealthy(t *testing.T) {
	s, err := store.Open("postgres://u:p@127.0.0.1:1/x?connect_timeout=2&sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	a := New(testConfig(), nil).WithStore(s)
	if rec := do(t, a, http.MethodGet, "/", ""); rec.Code != http.StatusServiceUnavailable {
		t.Errorf("GET / = %d, want 503", rec.Code)
	}
	if rec := do(t, a, http.MethodGet, "/healthz", ""); rec.Code != http.StatusOK {
		t.Errorf("GET /healthz = %d, want 200", rec.Code)
	}
}
