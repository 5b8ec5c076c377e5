package image

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/versions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// Dockerfile says what to build from a Dockerfile and how to name it.
type Dockerfile struct {
	Context    string            // directory of the build context; its .dockerignore applies
	Dockerfile string            // path of the Dockerfile, inside Context or not
	Target     string            // the stage to build; "" for the last
	BuildArgs  map[string]string // values for the Dockerfile's ARGs
	Labels     map[string]string // labels added on top of the Dockerfile's
	Tags       []string          // references the daemon gives the image
	// Classic builds with the engine's classic builder even where it has
	// BuildKit (as DOCKER_BUILDKIT=0 asks the docker CLI to).
	Classic bool
	// SyncKey names the context for the engine, which keeps what it was
	// sent and next time asks only for files that changed; default: the
	// context's path.
	SyncKey string
}

// minBuildKitAPI is the first Docker API version whose /build takes
// version=2 (BuildKit) with a client session.
const minBuildKitAPI = "1.39"

// BuildDockerfile builds d with BuildKit where the engine has it, else with
// its classic builder (said on progress, one line), writes one line of
// progress per build step, and returns the new image's ID. An error the
// daemon reports in the build is a *StreamError "build image: <reason>";
// a Dockerfile whose `# syntax=` frontend image cannot be pulled gets a
// message saying so and what to do.
func BuildDockerfile(ctx context.Context, e Engine, d Dockerfile, progress io.Writer) (string, error) {
	if err := d.check(); err != nil {
		return "", err
	}
	excludes, err := readDockerignore(d.Context)
	if err != nil {
		return "", err
	}
	progress = orDiscard(progress)
	useBuildKit, why, err := hasBuildKit(ctx, e)
	switch {
	case err != nil:
		return "", err
	case d.Classic:
		fmt.Fprintln(progress, "build: classic builder, as asked (BuildKit off): no RUN --mount, every stage built")
	case !useBuildKit:
		fmt.Fprintf(progress, "build: %s: building with the classic builder instead (no RUN --mount, every stage built)\n", why)
	default:
		id, err := buildKit(ctx, e, d, excludes, progress)
		return id, d.explain(err)
	}
	return buildClassic(ctx, e, d, excludes, progress)
}

func (d Dockerfile) check() error {
	if fi, err := os.Stat(d.Context); err != nil || !fi.IsDir() {
		return fmt.Errorf("build image: the build context %s is not a directory", d.Context)
	}
	if fi, err := os.Stat(d.Dockerfile); err != nil || !fi.Mode().IsRegular() {
		return fmt.Errorf("build image: no Dockerfile at %s (a build takes only the files git tracks: is it committed or added?)", d.Dockerfile)
	}
	return nil
}

// hasBuildKit reports whether the engine builds with BuildKit, and why not.
func hasBuildKit(ctx context.Context, e Engine) (bool, string, error) {
	p, err := e.Ping(ctx)
	if err != nil {
		return false, "", fmt.Errorf("build image: reach the Docker engine: %w", err)
	}
	switch {
	case p.APIVersion != "" && versions.LessThan(p.APIVersion, minBuildKitAPI):
		return false, fmt.Sprintf("the engine (Docker API %s, BuildKit needs %s) has no BuildKit", p.APIVersion, minBuildKitAPI), nil
	case p.OSType == "windows":
		return false, "the engine runs Windows containers, which BuildKit does not build", nil
	case p.BuilderVersion == build.BuilderV1:
		return false, `the engine has BuildKit turned off (daemon.json "features": {"buildkit": false})`, nil
	}
	return true, "", nil
}

// SyntaxError says that the Dockerfile's `# syntax=` line names a frontend
// image the engine could not get: BuildKit pulls it from a registry
// before it reads the rest of the file.
type SyntaxError struct {
	Dockerfile string // the Dockerfile's path
	Frontend   string // the image its syntax line names
	Err        error  // what the engine said
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("build image: %s starts with `# syntax=%s`, and the engine cannot pull that frontend image (%v): "+
		"delete the line to build with the engine's own Dockerfile frontend, or give the engine a registry it can pull %s from",
		e.Dockerfile, e.Frontend, e.Err, e.Frontend)
}

func (e *SyntaxError) Unwrap() error { return e.Err }

// explain turns a failed build of a Dockerfile with a syntax line into a
// *SyntaxError when the engine failed on that frontend image.
func (d Dockerfile) explain(err error) error {
	if err == nil {
		return nil
	}
	dt, rerr := os.ReadFile(d.Dockerfile)
	if rerr != nil {
		return err
	}
	frontend, _, _, ok := parser.ParseDirective("syntax", dt)
	if !ok || frontend == "" {
		return err
	}
	var se *StreamError
	if !errors.As(err, &se) || !frontendFailed(se.Message, frontend) {
		return err
	}
	return &SyntaxError{Dockerfile: filepath.Base(d.Dockerfile), Frontend: frontend, Err: errors.New(withoutFrontends(se.Message))}
}

// withoutFrontends drops the "failed to solve with frontend …: " prefixes
// BuildKit puts before the reason.
func withoutFrontends(msg string) string {
	for {
		rest, ok := strings.CutPrefix(msg, "failed to solve with frontend ")
		if !ok {
			return msg
		}
		_, after, found := strings.Cut(rest, ": ")
		if !found {
			return msg
		}
		msg = after
	}
}

// frontendFailed reports whether the daemon's message is about getting the
// frontend image: it names the image's repository (in the reference, or
// in a registry's URL for it), not a step of the Dockerfile.
func frontendFailed(msg, frontend string) bool {
	repo := frontend
	if i := strings.LastIndexAny(repo, ":@"); i > strings.LastIndex(repo, "/") {
		repo = repo[:i] // no tag or digest
	}
	if host, path, ok := strings.Cut(repo, "/"); ok && (strings.ContainsAny(host, ".:") || host == "localhost") {
		repo = path // no registry host
	}
	return strings.Contains(msg, repo)
}

// buildClassic sends d's context as a tar (without what excludes names)
// to the engine's classic builder.
func buildClassic(ctx context.Context, e Engine, d Dockerfile, excludes []string, progress io.Writer) (string, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	name := contextDockerfile(d.Context, d.Dockerfile)
	pr, pw := io.Pipe()
	go func() {
		pw.CloseWithError(tarContext(ctx, pw, d.Context, d.Dockerfile, name, excludes))
	}()
	defer pr.Close() // ends the writer if the build stopped reading
	return Build(ctx, e, BuildOptions{
		Context: pr, Dockerfile: name, Target: d.Target,
		Tags: d.Tags, BuildArgs: d.BuildArgs, Labels: d.Labels,
	}, progress)
}
