package local_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/network"
	"github.com/jackc/pgx/v5"

	"github.com/slipway/slipway/internal/local"
	"github.com/slipway/slipway/internal/pgimage/pgtest"
	"github.com/slipway/slipway/internal/testenv"
)

func queryNote(t *testing.T, s local.DatabaseServer) (string, error) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, s.Admin.Reveal())
	if err != nil {
		return "", err
	}
	defer func() { _ = conn.Close(ctx) }()
	var body string
	err = conn.QueryRow(ctx, "SELECT body FROM kept").Scan(&body)
	return body, err
}

// The database server keeps its data and password across re-runs and a
// replaced container, sits on the app's network, prints no password, and
// local:down removes it with its volume.
func TestDatabaseServerKeepsDataUntilDown(t *testing.T) {
	cli := testenv.Docker(t)
	img := pgtest.Image(t, cli)
	ctx := context.Background()
	suffix := make([]byte, 3)
	if _, err := rand.Read(suffix); err != nil {
		t.Fatal(err)
	}
	app := "dbtest-" + hex.EncodeToString(suffix)
	var out bytes.Buffer
	p := local.New(cli, local.Options{App: app, Log: &out})
	t.Cleanup(func() {
		if err := local.Down(context.Background(), cli, app, false, testenv.Log(t)); err != nil {
			t.Errorf("down: %v", err)
		}
	})

	s, err := p.EnsureDatabaseServer(ctx, img)
	if err != nil {
		t.Fatalf("ensure database server: %v\n%s", err, out.String())
	}
	if s.Container != app+"-db" || s.AppHost != app+"-db:5432" || s.Volume != app+"-db-data" {
		t.Errorf("server = %+v, want container %s-db reachable as %s-db:5432 with volume %s-db-data", s, app, app, app)
	}
	conn, err := pgx.Connect(ctx, s.Admin.Reveal())
	if err != nil {
		t.Fatalf("connect as superuser: %v", err)
	}
	if _, err := conn.Exec(ctx, "CREATE TABLE kept (body text); INSERT INTO kept VALUES ('survives')"); err != nil {
		t.Fatal(err)
	}
	_ = conn.Close(ctx)

	parsedPW := strings.TrimPrefix(s.Admin.Reveal(), "postgres://postgres:")
	parsedPW = parsedPW[:strings.Index(parsedPW, "@")]
	if printed := fmt.Sprintf("%v %+v", s, s) + out.String(); strings.Contains(printed, parsedPW) {
		t.Errorf("the superuser's password was printed: %s", printed)
	}

	again, err := p.EnsureDatabaseServer(ctx, img)
	if err != nil {
		t.Fatal(err)
	}
	if again.HostPort != s.HostPort {
		t.Errorf("a re-run moved the server from port %d to %d: it was replaced", s.HostPort, again.HostPort)
	}

	net, err := cli.NetworkInspect(ctx, "slipway-"+app, network.InspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	attached := false
	for _, c := range net.Containers {
		attached = attached || c.Name == app+"-db"
	}
	if !attached {
		t.Errorf("%s-db is not on network slipway-%s", app, app)
	}

	if err := p.RemoveDatabaseServer(ctx, true); err != nil {
		t.Fatal(err)
	}
	replaced, err := p.EnsureDatabaseServer(ctx, img)
	if err != nil {
		t.Fatalf("a new container on the kept volume: %v\n%s", err, out.String())
	}
	if body, err := queryNote(t, replaced); err != nil || body != "survives" {
		t.Errorf("data after the container was replaced: %q, %v; want \"survives\"", body, err)
	}

	var kept bytes.Buffer
	if err := local.Down(ctx, cli, app, true, &kept); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(kept.String(), "keeping volume "+app+"-db-data") || !strings.Contains(kept.String(), "-deleteData") {
		t.Errorf("local:down without -deleteData should keep the data and say how to delete it:\n%s", kept.String())
	}
	if _, err := cli.VolumeInspect(ctx, app+"-db-data"); err != nil {
		t.Errorf("local:down without -deleteData removed the data volume: %v", err)
	}
	var down bytes.Buffer
	if err := local.Down(ctx, cli, app, false, &down); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"removing container " + app + "-db", "removing volume " + app + "-db-data"} {
		if !strings.Contains(kept.String()+down.String(), want) {
			t.Errorf("local:down output lacks %q:\n%s", want, down.String())
		}
	}
	if _, err := cli.ContainerInspect(ctx, app+"-db"); !cerrdefs.IsNotFound(err) {
		t.Errorf("after down, inspect %s-db: %v; want not found", app, err)
	}
	if _, err := cli.VolumeInspect(ctx, app+"-db-data"); !cerrdefs.IsNotFound(err) {
		t.Errorf("after down, inspect volume %s-db-data: %v; want not found", app, err)
	}
	if err := p.RemoveDatabaseServer(ctx, false); err != nil {
		t.Errorf("removing a server that is gone: %v", err)
	}
}
