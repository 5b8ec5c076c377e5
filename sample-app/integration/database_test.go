package integration

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// schemaOf reads /version's schema fields; ok is false when the
// environment has no database. SLIPWAY_EXPECT_DATABASE=1 makes a missing
// database a failure (Slipway sets it for environments it gave one).
func schemaOf(t *testing.T) (head, min, current int64, ok bool) {
	t.Helper()
	resp, body := get(t, "/version")
	requireOK(t, "/version", resp, body)
	var v struct {
		Head    int64  `json:"schema_head"`
		Min     int64  `json:"schema_min"`
		Current *int64 `json:"database_schema"`
	}
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("GET /version is not JSON: %v\n%s", err, body)
	}
	if v.Current == nil {
		if os.Getenv("SLIPWAY_EXPECT_DATABASE") != "" {
			t.Fatalf("GET /version reports no database, but SLIPWAY_EXPECT_DATABASE is set: is DATABASE_URL given to the stack?\n%s", body)
		}
		t.Skip("SKIPPED (not counted as passed): this environment has no database (no database_schema in /version)")
	}
	return v.Head, v.Min, *v.Current, true
}

// The running build can work on the schema its database has: at least the
// oldest schema it supports. This is what an older stack, kept for
// rollback, must keep passing after a release migrated production.
func TestDatabaseSchemaIsOneThisBuildRunsOn(t *testing.T) {
	head, min, current, _ := schemaOf(t)
	if min <= 0 || head < min {
		t.Errorf("/version reports schema_min %d and schema_head %d, want 0 < min <= head", min, head)
	}
	if current < min {
		t.Errorf("the database is at schema %d but this build needs at least %d: migrate before traffic", current, min)
	}
}

var visitsOnPage = regexp.MustCompile(`<strong id="visits">(\d+)</strong>`)

// The page counts visits in this environment's database, and a note
// written here is read back from it.
func TestDatabaseKeepsThisEnvironmentsData(t *testing.T) {
	schemaOf(t)
	visits := func() int {
		resp, body := get(t, "/")
		requireOK(t, "/", resp, body)
		m := visitsOnPage.FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("GET / shows no visit counter although the environment has a database:\n%s", body)
		}
		n, _ := strconv.Atoi(m[1]) // \d+
		return n
	}
	first, second := visits(), visits()
	if second <= first {
		t.Errorf("visit counter went from %d to %d, want it to grow", first, second)
	}

	if env.production {
		// A release candidate or a live stack runs on production's data:
		// its tests read it and never add notes to it.
		resp, body := get(t, "/notes")
		requireOK(t, "/notes", resp, body)
		return
	}
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	note := "integration note " + hex.EncodeToString(b)
	if code, body := post(t, "/notes", note); code != http.StatusCreated {
		t.Fatalf("POST /notes = %d, want 201\n%s", code, body)
	}
	resp, body := get(t, "/notes")
	requireOK(t, "/notes", resp, body)
	if !strings.Contains(body, note) {
		t.Errorf("GET /notes does not return the note just written:\n%s", body)
	}
}

// post sends body to path once, with the target's Host and stack headers.
func post(t *testing.T, path, body string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), requestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, env.baseURL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	if env.host != "" {
		req.Host = env.host
	}
	if env.stackHeader != "" {
		req.Header.Set("X-Slipway-Stack", env.stackHeader)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("POST %s%s: %v", path, hostNote(), err)
	}
	defer func() { _ = resp.Body.Close() }()
	got, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		t.Fatalf("POST %s: read body: %v", path, err)
	}
	return resp.StatusCode, string(got)
}
