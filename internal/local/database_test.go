package local_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/distribution/distribution/v3/configuration"
	"github.com/distribution/distribution/v3/registry/handlers"
	"github.com/docker/docker/api/types/container"
	dockerimage "github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"
	"github.com/jackc/pgx/v5"
	"github.com/sirupsen/logrus"

	_ "github.com/distribution/distribution/v3/registry/storage/driver/inmemory"

	"github.com/slipway/slipway/internal/image"
	"github.com/slipway/slipway/internal/local"
	"github.com/slipway/slipway/internal/pgimage"
	"github.com/slipway/slipway/internal/pgimage/pgtest"
	"github.com/slipway/slipway/internal/testenv"
	"github.com/slipway/slipway/internal/testenv/registrytest"
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

// dbTestApp is a throwaway app whose containers and volumes are removed
// when the test ends, with a provider logging to the returned buffer.
func dbTestApp(t *testing.T, cli *client.Client) (*local.Provider, *testenv.SyncBuffer, string) {
	t.Helper()
	suffix := make([]byte, 3)
	if _, err := rand.Read(suffix); err != nil {
		t.Fatal(err)
	}
	app := "dbimg-" + hex.EncodeToString(suffix)
	out := &testenv.SyncBuffer{}
	t.Cleanup(func() {
		if err := local.Down(context.Background(), cli, app, false, testenv.Log(t)); err != nil {
			t.Errorf("down: %v", err)
		}
	})
	return local.New(cli, local.Options{App: app, Log: out}), out, app
}

// A database image that is not on the machine and cannot be pulled (a
// registry that refuses, or none at all) fails before anything is created,
// with the pull's error and both ways out: pull it yourself, or build the
// local image from Debian's packages (issue 16: `No such image:
// postgres:16` said neither).
func TestDatabaseServerImageThatCannotBePulled(t *testing.T) {
	cli := testenv.Docker(t)
	reg := registrytest.Start(t) // requires a login, which the pull does not send
	for name, tc := range map[string]struct{ image, reason string }{
		"a registry that refuses": {reg.Host + "/postgres:" + pgimage.Major, "no basic auth credentials"},
		"no registry at all":      {fmt.Sprintf("127.0.0.1:%d/postgres:%s", testenv.FreePort(t), pgimage.Major), "connection refused"},
	} {
		t.Run(name, func(t *testing.T) {
			p, out, app := dbTestApp(t, cli)
			_, err := p.EnsureDatabaseServer(context.Background(), tc.image)
			if err == nil {
				t.Fatal("EnsureDatabaseServer succeeded without the image")
			}
			t.Logf("the error a user sees: %v", err)
			for _, want := range []string{
				tc.image + " is not on this machine and the pull failed", tc.reason,
				"`docker pull " + tc.image + "`",
				"`go run mage.go local:dbImage`", "SLIPWAY_DB_IMAGE=" + pgimage.LocalTag,
			} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error lacks %q:\n%v", want, err)
				}
			}
			if !strings.Contains(out.String(), "shared: pulling database server image "+tc.image) {
				t.Errorf("log does not say it pulls:\n%s", out.String())
			}
			if _, err := cli.ContainerInspect(context.Background(), app+"-db"); !cerrdefs.IsNotFound(err) {
				t.Errorf("inspect %s-db after the failed pull: %v; want not found", app, err)
			}
		})
	}
}

// The local image is built, never pulled: missing, it says how to build it.
func TestDatabaseServerLocalImageMissing(t *testing.T) {
	p, out, _ := dbTestApp(t, testenv.Docker(t))
	_, err := p.EnsureDatabaseServer(context.Background(), pgimage.Repository+":"+pgimage.Major+"-never-built")
	if err == nil || !strings.Contains(err.Error(), "is not on this machine: build it from Debian's packages with `go run mage.go local:dbImage`") {
		t.Errorf("EnsureDatabaseServer = %v, want the build command", err)
	}
	if strings.Contains(out.String(), "pulling") {
		t.Errorf("it tried to pull the local image:\n%s", out.String())
	}
}

// openRegistry serves a registry that needs no login (as Docker Hub serves
// the official image) on 127.0.0.1 until the test ends; its log goes to the
// test's from warnings up.
func openRegistry(t *testing.T) string {
	t.Helper()
	config := &configuration.Configuration{Storage: configuration.Storage{
		"inmemory":    configuration.Parameters{},
		"maintenance": configuration.Parameters{"uploadpurging": map[any]any{"enabled": false}},
	}}
	config.HTTP.Secret = "slipway-test-secret"
	std := logrus.StandardLogger()
	out, level := std.Out, std.GetLevel()
	std.SetOutput(testenv.Log(t))
	std.SetLevel(logrus.WarnLevel)
	app := handlers.NewApp(context.Background(), config)
	srv := httptest.NewServer(app)
	t.Cleanup(func() {
		srv.Close()
		if err := app.Shutdown(); err != nil {
			t.Errorf("shut down registry: %v", err)
		}
		std.SetOutput(out)
		std.SetLevel(level)
	})
	return strings.TrimPrefix(srv.URL, "http://")
}

// A missing database image is pulled (here a small one, in a registry that
// needs no login), with one progress line per layer and status however
// many chunks the engine reports, before the server is created from it.
func TestDatabaseServerPullsAMissingImage(t *testing.T) {
	cli := testenv.Docker(t)
	ctx := context.Background()
	remote := openRegistry(t) + "/postgres:" + pgimage.Major
	dir := t.TempDir()
	data := make([]byte, 4<<20) // random, so compression leaves it several chunks long
	if _, err := rand.Read(data); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{"Dockerfile": filepath.Join(dir, "Dockerfile"), "data": filepath.Join(dir, "data")}
	if err := os.WriteFile(files["Dockerfile"], []byte("FROM scratch\nCOPY data /data\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(files["data"], data, 0o644); err != nil {
		t.Fatal(err)
	}
	bctx, err := image.TarContext(files)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := image.Build(ctx, cli, image.BuildOptions{Context: bctx, Tags: []string{remote}}, testenv.Log(t)); err != nil {
		t.Fatal(err)
	}
	untag := func() {
		if _, err := cli.ImageRemove(ctx, remote, dockerimage.RemoveOptions{PruneChildren: true}); err != nil && !cerrdefs.IsNotFound(err) {
			t.Errorf("remove %s: %v", remote, err)
		}
	}
	if _, err := image.Push(ctx, cli, remote, image.Auth{}, testenv.Log(t)); err != nil {
		t.Fatal(err)
	}
	untag()
	t.Cleanup(untag)

	p, out, _ := dbTestApp(t, cli)
	if err := local.EnsureDBImage(ctx, p, remote); err != nil {
		t.Fatalf("ensure the missing image %s: %v\n%s", remote, err, out.String())
	}
	if _, err := cli.ImageInspect(ctx, remote); err != nil {
		t.Fatalf("after the pull: %v", err)
	}
	var pulls []string
	seen := map[string]bool{}
	for _, line := range out.Lines() {
		if !strings.HasPrefix(line, "shared: pull "+remote+": ") {
			continue
		}
		if seen[line] {
			t.Errorf("progress line printed twice: %s", line)
		}
		seen[line] = true
		pulls = append(pulls, line)
	}
	t.Logf("pull progress:\n%s", strings.Join(pulls, "\n"))
	if len(pulls) < 3 || !strings.HasSuffix(pulls[len(pulls)-1], "Status: Downloaded newer image for "+remote) {
		t.Errorf("pull progress:\n%s\nwant a line per layer and status, ending with the pulled image", strings.Join(pulls, "\n"))
	}
	if err := local.EnsureDBImage(ctx, p, remote); err != nil || strings.Count(out.String(), "shared: pulling") != 1 {
		t.Errorf("a second ensure: %v, log:\n%s\nwant no second pull", err, out.String())
	}
}

// A server that cannot open its volume's data (here: data of another
// PostgreSQL major, as after the default image moved from postgres:16 to
// postgres:17) fails at once with Postgres's reason and what to do, not
// after the whole wait with "connection refused".
func TestDatabaseServerOnDataOfAnotherMajor(t *testing.T) {
	cli := testenv.Docker(t)
	img := pgtest.Image(t, cli)
	ctx := context.Background()
	p, out, app := dbTestApp(t, cli)
	if _, err := p.EnsureDatabaseServer(ctx, img); err != nil {
		t.Fatalf("ensure database server: %v\n%s", err, out.String())
	}
	exec, err := cli.ContainerExecCreate(ctx, app+"-db", container.ExecOptions{Cmd: []string{"sh", "-c", `echo 16 > "$PGDATA/PG_VERSION"`}})
	if err != nil {
		t.Fatal(err)
	}
	if err := cli.ContainerExecStart(ctx, exec.ID, container.ExecStartOptions{}); err != nil {
		t.Fatal(err)
	}
	for {
		st, err := cli.ContainerExecInspect(ctx, exec.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !st.Running {
			if st.ExitCode != 0 {
				t.Fatalf("mark the data as PostgreSQL 16's: exit %d", st.ExitCode)
			}
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := p.RemoveDatabaseServer(ctx, true); err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	_, err = p.EnsureDatabaseServer(ctx, img)
	if err == nil {
		t.Fatal("a server on PostgreSQL 16's data started")
	}
	for _, want := range []string{"database server " + app + "-db stopped", "incompatible with server", "initialized by PostgreSQL version 16", "SLIPWAY_DB_IMAGE", "local:down"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	t.Logf("the error a user sees after %s: %v", time.Since(start).Round(time.Millisecond), err)
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("the error came after %s, want it as soon as the server stops", took.Round(time.Second))
	}
}
