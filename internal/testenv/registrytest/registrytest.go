// Package registrytest serves a real container registry (distribution, the
// code behind Docker's registry) in the test process, with in-memory
// storage and htpasswd authentication, on 127.0.0.1, and reads manifests
// back from it. It is its own package so that only the tests that need a
// registry link it.
package registrytest

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/distribution/distribution/v3/configuration"
	"github.com/distribution/distribution/v3/registry/handlers"
	"github.com/sirupsen/logrus"
	"golang.org/x/crypto/bcrypt"

	_ "github.com/distribution/distribution/v3/registry/auth/htpasswd"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/inmemory"
)

// Registry is a real distribution registry with in-memory storage and
// htpasswd authentication, served over plain HTTP on 127.0.0.1, which the
// Docker daemon treats as an insecure registry it may use without TLS.
type Registry struct {
	Host     string // 127.0.0.1:PORT
	User     string
	Password string
	URL      string // http://127.0.0.1:PORT
}

// Start serves a registry until the test ends; it requires basic auth with
// r.User and r.Password.
func Start(t *testing.T) *Registry {
	t.Helper()
	return StartWithLogin(t, "slipway", "correct-horse-battery")
}

// StartWithLogin is Start with the given credentials (e.g. the login an
// ECR authorization token from moto decodes to).
func StartWithLogin(t *testing.T, user, password string) *Registry {
	t.Helper()
	r := &Registry{User: user, Password: password}
	hash, err := bcrypt.GenerateFromPassword([]byte(r.Password), bcrypt.MinCost)
	if err != nil {
		t.Fatalf("hash password: %v", err)
	}
	htpasswd := filepath.Join(t.TempDir(), "htpasswd")
	if err := os.WriteFile(htpasswd, []byte(r.User+":"+string(hash)+"\n"), 0o600); err != nil {
		t.Fatalf("write htpasswd: %v", err)
	}
	config := &configuration.Configuration{
		Storage: configuration.Storage{
			"inmemory":    configuration.Parameters{},
			"maintenance": configuration.Parameters{"uploadpurging": map[any]any{"enabled": false}},
		},
		Auth: configuration.Auth{
			"htpasswd": configuration.Parameters{"realm": "slipway-test", "path": htpasswd},
		},
	}
	config.HTTP.Secret = "slipway-test-secret"
	routeRegistryLogs(t)
	app := handlers.NewApp(context.Background(), config)
	srv := httptest.NewServer(app)
	t.Cleanup(func() {
		srv.Close() // waits for requests in flight, so no log comes after the test
		if err := app.Shutdown(); err != nil {
			t.Errorf("shut down registry: %v", err)
		}
	})
	r.URL = srv.URL
	r.Host = strings.TrimPrefix(srv.URL, "http://")
	return r
}

// routeRegistryLogs sends the registry's logrus output (warnings and worse)
// to t.Log until the test ends. logrus is global: tests that start a
// registry must not run in parallel with each other.
func routeRegistryLogs(t *testing.T) {
	std := logrus.StandardLogger()
	out, level := std.Out, std.GetLevel()
	std.SetOutput(testLog{t})
	std.SetLevel(logrus.WarnLevel)
	t.Cleanup(func() {
		std.SetOutput(out)
		std.SetLevel(level)
	})
}

type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log("registry: " + strings.TrimSpace(string(p)))
	return len(p), nil
}

// manifestAccept lists the manifest types a pushed image may have.
var manifestAccept = []string{
	"application/vnd.docker.distribution.manifest.v2+json",
	"application/vnd.oci.image.manifest.v1+json",
	"application/vnd.docker.distribution.manifest.list.v2+json",
	"application/vnd.oci.image.index.v1+json",
}

// Manifest fetches name:ref's manifest with method (HEAD or GET) and returns
// its Docker-Content-Digest header and, for GET, the sha256 of its body.
func (r *Registry) Manifest(t *testing.T, method, name, ref string) (header, computed, mediaType string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, fmt.Sprintf("%s/v2/%s/manifests/%s", r.URL, name, ref), nil)
	if err != nil {
		t.Fatalf("create manifest request: %v", err)
	}
	req.SetBasicAuth(r.User, r.Password)
	req.Header.Set("Accept", strings.Join(manifestAccept, ", "))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s manifest %s:%s: %v", method, name, ref, err)
	}
	defer func() {
		if err := resp.Body.Close(); err != nil {
			t.Errorf("close manifest body: %v", err)
		}
	}()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read manifest %s:%s: %v", name, ref, err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s manifest %s:%s: %s: %s", method, name, ref, resp.Status, body)
	}
	if method == http.MethodGet {
		computed = fmt.Sprintf("sha256:%x", sha256.Sum256(body))
	}
	return resp.Header.Get("Docker-Content-Digest"), computed, resp.Header.Get("Content-Type")
}
