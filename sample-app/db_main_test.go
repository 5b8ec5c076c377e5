package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/slipway/slipway/internal/pgimage/pgtest"
)

// The binary's one-off commands work as Slipway runs them (`<image> migrate
// -to N`, `migrate -expand-only`, `seed`, `schema`), and the server then counts visits.
func TestBinaryMigratesSeedsAndServesFromDatabase(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs Postgres; skipped with -short")
	}
	goBin, bin := buildBinary(t)
	dsn := pgtest.Start(t).AdminDSN()
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "DATABASE_URL="+dsn)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("sample-app %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
		}
		if strings.Contains(stderr.String()+string(out), dsn) {
			t.Errorf("sample-app %s printed DATABASE_URL", args)
		}
		return strings.TrimSpace(string(out))
	}
	if got := run("migrate", "-to", "1"); got != `{"applied":[{"version":1,"name":"00001_visits_and_notes.sql","kind":"expand"}],"from":0,"held":[],"to":1}` {
		t.Errorf("migrate -to 1 printed %s", got)
	}
	if got := run("migrate", "-expand-only"); got != `{"applied":[{"version":2,"name":"00002_visit_counter.sql","kind":"expand"}],"from":1,"held":[{"version":3,"name":"00003_drop_visits.sql","kind":"contract"}],"to":2}` {
		t.Errorf("migrate -expand-only printed %s", got)
	}
	run("seed")
	var schema struct{ Head, Min int }
	if err := json.Unmarshal([]byte(run("schema")), &schema); err != nil || schema.Head != 3 || schema.Min != 2 {
		t.Errorf("schema = %+v, %v; want head 3, min 2", schema, err)
	}

	_, port := startBinary(t, bin, "DATABASE_URL="+dsn)
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://127.0.0.1:" + port + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `<strong id="visits">1</strong>`) {
		t.Errorf("GET / = %d, want 200 with the first visit counted\n%s", resp.StatusCode, body)
	}

	// The integration suite, as Slipway runs it against an environment
	// with a database, passes its database tests here (none skipped).
	itest := exec.CommandContext(t.Context(), goBin, "test", "-count=1", "-v", "./integration")
	itest.Env = append(os.Environ(), "SLIPWAY_BASE_URL=http://127.0.0.1:"+port, "SLIPWAY_EXPECT_DATABASE=1")
	out, err := itest.CombinedOutput()
	if err != nil {
		t.Fatalf("integration suite against the app with a database: %v\n%s", err, out)
	}
	for _, name := range []string{"TestDatabaseKeepsThisEnvironmentsData", "TestDatabaseSchemaIsOneThisBuildRunsOn"} {
		if !strings.Contains(string(out), "--- PASS: "+name) {
			t.Errorf("integration test %s did not pass:\n%s", name, out)
		}
	}
}
