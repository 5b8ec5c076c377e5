// Package pgtest gives tests a real Postgres server: the local Postgres
// image (internal/pgimage: PostgreSQL of the Aurora cluster's major version,
// from Debian's package), built once per machine and checked once per test
// binary, run as a container whose port is published on 127.0.0.1. It needs
// a Docker engine and, to build the image, mmdebstrap; under CI a missing
// one fails the test.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"github.com/docker/go-connections/nat"
	"github.com/jackc/pgx/v5"

	"github.com/slipway/slipway/internal/pgimage"
	"github.com/slipway/slipway/internal/testenv"
)

// Server is a running Postgres container.
type Server struct {
	Container string // container ID
	Password  string // the superuser's (postgres) password
	Port      int    // published on 127.0.0.1
}

// DSN returns a URL for user and password on database db through the
// published port.
func (s *Server) DSN(user, password, db string) string {
	u := url.URL{Scheme: "postgres", User: url.UserPassword(user, password),
		Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)), Path: "/" + db, RawQuery: "sslmode=disable"}
	return u.String()
}

// AdminDSN is the superuser's URL for the postgres database.
func (s *Server) AdminDSN() string { return s.DSN("postgres", s.Password, "postgres") }

var (
	buildOnce sync.Once
	builtRef  string
	buildErr  error
)

// Image returns the Postgres image tests run: $SLIPWAY_DB_IMAGE when set,
// else the local image, built when this machine has none from the current
// recipe (about a minute, once).
func Image(t testing.TB, cli *client.Client) string {
	t.Helper()
	buildOnce.Do(func() {
		if ref := os.Getenv(pgimage.EnvImage); ref != "" {
			builtRef = ref
			return
		}
		start := time.Now()
		var fresh bool
		builtRef, fresh, buildErr = pgimage.Build(context.Background(), cli, pgimage.Options{ModuleDir: testenv.ModuleDir(t)}, testenv.Log(t))
		if fresh {
			t.Logf("built %s in %s", builtRef, time.Since(start).Round(time.Second))
		}
	})
	if errors.Is(buildErr, exec.ErrNotFound) {
		testenv.Missing(t, "mmdebstrap", "it builds the local Postgres image; scripts/setup-debian.sh installs it ("+buildErr.Error()+")")
	}
	if buildErr != nil {
		t.Fatalf("build the local Postgres image: %v", buildErr)
	}
	return builtRef
}

// Start runs a fresh Postgres container, waits until it accepts the
// superuser, and removes it (with its anonymous volumes) when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	cli := testenv.Docker(t)
	ref := Image(t, cli)
	s := &Server{Password: randomHex(t), Port: testenv.FreePort(t)}
	ctx := context.Background()
	port := nat.Port("5432/tcp")
	created, err := cli.ContainerCreate(ctx, &container.Config{
		Image:        ref,
		Env:          []string{"POSTGRES_PASSWORD=" + s.Password},
		ExposedPorts: nat.PortSet{port: {}},
	}, &container.HostConfig{
		PortBindings: nat.PortMap{port: {{HostIP: "127.0.0.1", HostPort: strconv.Itoa(s.Port)}}},
	}, nil, nil, "")
	if err != nil {
		t.Fatalf("create Postgres container: %v", err)
	}
	s.Container = created.ID
	t.Cleanup(func() {
		if err := cli.ContainerRemove(context.Background(), s.Container, container.RemoveOptions{Force: true, RemoveVolumes: true}); err != nil {
			t.Errorf("remove Postgres container: %v", err)
		}
	})
	if err := cli.ContainerStart(ctx, s.Container, container.StartOptions{}); err != nil {
		t.Fatalf("start Postgres container: %v", err)
	}
	if err := WaitReady(ctx, s.AdminDSN(), 60*time.Second); err != nil {
		t.Fatalf("Postgres container %s: %v", s.Container[:12], err)
	}
	return s
}

// WaitReady connects to dsn until it answers a query or timeout passes.
func WaitReady(ctx context.Context, dsn string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		conn, err := pgx.Connect(ctx, dsn)
		if err == nil {
			err = conn.Ping(ctx)
			_ = conn.Close(ctx)
			if err == nil {
				return nil
			}
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("not ready within %s: %w", timeout, last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func randomHex(t testing.TB) string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
