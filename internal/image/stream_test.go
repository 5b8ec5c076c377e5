package image_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/build"
	"github.com/slipway/slipway/internal/image"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/streams")

// TestRecordedStreamsRenderOneLinePerEvent replays streams recorded from a
// Docker 20.10 daemon (API 1.41) and compares the progress lines and the
// result with golden files.
func TestRecordedStreamsRenderOneLinePerEvent(t *testing.T) {
	tests := map[string]struct {
		stream string
		run    func(t *testing.T, e image.Engine, progress *bytes.Buffer) (string, error)
	}{
		"a build joins the builder's fragments into lines and returns the image ID": {
			stream: "build.jsonl", run: runBuild,
		},
		"a build whose COPY fails returns the daemon's reason": {
			stream: "build-copy-missing.jsonl", run: runBuild,
		},
		"a BuildKit build prints a line when each step starts and when it ends, and returns the image ID": {
			stream: "buildkit.jsonl", run: runBuildKit,
		},
		"a BuildKit build again says which steps came from the cache": {
			stream: "buildkit-cached.jsonl", run: runBuildKit,
		},
		"a BuildKit build whose RUN fails shows the step's last lines, then the daemon's reason": {
			stream: "buildkit-run-fails.jsonl", run: runBuildKit,
		},
		"a push prints each layer's status once and returns the manifest digest": {
			stream: "push.jsonl", run: runPush("127.0.0.1:43745/slipway-test/hello:5e1f0a9"),
		},
		"a push with rejected credentials returns the registry's reason": {
			stream: "push-unauthorized.jsonl", run: runPush("127.0.0.1:43745/slipway-test/hello:pr-42"),
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			stream := filepath.Join("testdata", "streams", tc.stream)
			var progress bytes.Buffer
			result, err := tc.run(t, &fakeEngine{stream: stream}, &progress)
			got := progress.String() + "=> " + result
			if err != nil {
				got = progress.String() + "=> error: " + err.Error()
			}
			checkGolden(t, strings.TrimSuffix(stream, ".jsonl")+".golden", got+"\n")
		})
	}
}

func runBuild(_ *testing.T, e image.Engine, progress *bytes.Buffer) (string, error) {
	return image.Build(context.Background(), e, image.BuildOptions{Context: strings.NewReader("")}, progress)
}

// runBuildKit builds a Dockerfile with BuildKit (the fake engine's ping
// says nothing against it); the engine never opens the session.
func runBuildKit(t *testing.T, e image.Engine, progress *bytes.Buffer) (string, error) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return image.BuildDockerfile(context.Background(), e, image.Dockerfile{Context: dir, Dockerfile: filepath.Join(dir, "Dockerfile")}, progress)
}

func runPush(ref string) func(*testing.T, image.Engine, *bytes.Buffer) (string, error) {
	return func(_ *testing.T, e image.Engine, progress *bytes.Buffer) (string, error) {
		return image.Push(context.Background(), e, ref, image.Auth{Username: "u", Password: "p"}, progress)
	}
}

func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatalf("update golden file: %v", err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (run with -update to accept):\n--- got\n%s--- want\n%s", path, got, want)
	}
}

func TestStreamErrorsAreTyped(t *testing.T) {
	e := &fakeEngine{stream: filepath.Join("testdata", "streams", "push-unauthorized.jsonl")}
	_, err := image.Push(context.Background(), e, "127.0.0.1:5000/a/b:c", image.Auth{}, nil)
	var se *image.StreamError
	if !errors.As(err, &se) || se.Message != "unauthorized: authentication required" {
		t.Fatalf("error %v (%T), want *StreamError with the daemon's message", err, err)
	}
}

func TestStreamEdgeCases(t *testing.T) {
	tests := map[string]struct {
		stream, want string
	}{
		"a stream that is not JSON is an error": {
			stream: "not json", want: "build image: read daemon stream: ",
		},
		"a build that never reports an image ID is an error": {
			stream: `{"stream":"Step 1/1 : FROM scratch\n"}`, want: "build image: the daemon reported no image ID",
		},
		"an error without errorDetail still becomes the error": {
			stream: `{"error":"boom"}`, want: "build image: boom",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "stream")
			if err := os.WriteFile(path, []byte(tc.stream), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := image.Build(context.Background(), &fakeEngine{stream: path}, image.BuildOptions{Context: strings.NewReader("")}, nil)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("error %v, want prefix %q", err, tc.want)
			}
		})
	}
}

func TestPushProgressKeepsLayersApart(t *testing.T) {
	var stream strings.Builder
	for _, m := range []string{
		`{"status":"Preparing","id":"aaa"}`, `{"status":"Preparing","id":"bbb"}`,
		`{"status":"Pushing","id":"aaa","progress":"1"}`, `{"status":"Pushing","id":"bbb","progress":"1"}`,
		`{"status":"Pushing","id":"aaa","progress":"2"}`, `{"status":"Pushing","id":"bbb","progress":"2"}`,
		`{"status":"Pushed","id":"bbb"}`, `{"status":"Pushing","id":"aaa","progress":"3"}`,
		`{"status":"Pushed","id":"aaa"}`,
		`{"aux":{"Tag":"other","Digest":"sha256:` + strings.Repeat("1", 64) + `"}}`,
		`{"aux":{"Tag":"t","Digest":"sha256:` + strings.Repeat("2", 64) + `"}}`,
	} {
		fmt.Fprintln(&stream, m)
	}
	path := filepath.Join(t.TempDir(), "push.jsonl")
	if err := os.WriteFile(path, []byte(stream.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	var progress bytes.Buffer
	d, err := image.Push(context.Background(), &fakeEngine{stream: path}, "127.0.0.1:5000/a/b:t", image.Auth{}, &progress)
	if err != nil {
		t.Fatal(err)
	}
	if want := "sha256:" + strings.Repeat("2", 64); d != want {
		t.Errorf("digest %s, want the one for tag t, %s", d, want)
	}
	want := "aaa: Preparing\nbbb: Preparing\naaa: Pushing\nbbb: Pushing\nbbb: Pushed\naaa: Pushed\n"
	if progress.String() != want {
		t.Errorf("progress:\n%s\nwant:\n%s", progress.String(), want)
	}
}

func TestPushSendsExplicitCredentials(t *testing.T) {
	e := &fakeEngine{stream: filepath.Join("testdata", "streams", "push.jsonl")}
	ref := "127.0.0.1:43745/slipway-test/hello:5e1f0a9"
	if _, err := image.Push(context.Background(), e, ref, image.Auth{Username: "ci", Password: "p+/="}, nil); err != nil {
		t.Fatal(err)
	}
	raw, err := base64.URLEncoding.DecodeString(e.pushOptions.RegistryAuth)
	if err != nil {
		t.Fatalf("X-Registry-Auth is not base64url: %v", err)
	}
	var got map[string]string
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("X-Registry-Auth is not JSON: %v", err)
	}
	want := map[string]string{"username": "ci", "password": "p+/=", "serveraddress": "127.0.0.1:43745"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("auth %s = %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
	if e.pushedRef != ref {
		t.Errorf("pushed %q, want %q", e.pushedRef, ref)
	}
}

func TestPushRefusesReferencesWithoutATag(t *testing.T) {
	for _, ref := range []string{
		"127.0.0.1:5000/a/b",
		"127.0.0.1:5000/a/b@sha256:" + strings.Repeat("a", 64),
		"hello:latest",
	} {
		e := &fakeEngine{}
		if _, err := image.Push(context.Background(), e, ref, image.Auth{}, nil); err == nil || e.pushedRef != "" {
			t.Errorf("Push(%q) error %v, pushed %q; want an error before pushing", ref, err, e.pushedRef)
		}
	}
}

func TestBuildUsesTheClassicBuilderAndNeverPulls(t *testing.T) {
	e := &fakeEngine{stream: filepath.Join("testdata", "streams", "build.jsonl")}
	_, err := image.Build(context.Background(), e, image.BuildOptions{
		Context: strings.NewReader("tar"), Tags: []string{"r:t"},
		BuildArgs: map[string]string{"VERSION": "v1", "REVISION": "abc"},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	o := e.buildOptions
	if o.Version != build.BuilderV1 || o.PullParent || !o.Remove || !o.ForceRemove {
		t.Errorf("options Version=%q PullParent=%v Remove=%v ForceRemove=%v; want classic builder, no pull, removing containers",
			o.Version, o.PullParent, o.Remove, o.ForceRemove)
	}
	if v := o.BuildArgs["VERSION"]; v == nil || *v != "v1" {
		t.Errorf("build arg VERSION = %v, want v1", v)
	}
	if v := o.BuildArgs["REVISION"]; v == nil || *v != "abc" {
		t.Errorf("build arg REVISION = %v, want abc", v)
	}
	if string(e.buildContext) != "tar" {
		t.Errorf("context %q was not sent as given", e.buildContext)
	}
}
