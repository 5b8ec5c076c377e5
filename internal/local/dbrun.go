package local

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/slipway/slipway/internal/database"
	"github.com/slipway/slipway/internal/deploy"
)

const (
	roleMigrate    = "migrate"
	migrateTimeout = 5 * time.Minute
)

// RunOnce implements deploy.DatabaseServer: image as run says (its
// entrypoint replaced when run has one, its arguments, its variables) and
// DATABASE_URL=db as a one-off container on the app's network. It waits
// (at most migrateTimeout) and returns its stdout; a non-zero exit is a
// *deploy.MigrationError with the last lines of output, the password taken
// out. Round trips are few: the wait is registered before the start (the
// engine answers once it is), the output streams while the command runs,
// and the engine removes the container when it exits (AutoRemove), which
// ends the wait: none is left when RunOnce returns. Only a run that did
// not end is removed here.
func (p *Provider) RunOnce(ctx context.Context, image string, run deploy.OneOff, db deploy.SecretURL) (string, error) {
	suffix, err := database.NewPassword()
	if err != nil {
		return "", err
	}
	name := p.o.App + "-" + run.Name + "-" + suffix[:8]
	env := []string{deploy.DatabaseURLEnv + "=" + db.Reveal()}
	for _, k := range slices.Sorted(maps.Keys(run.Env)) {
		env = append(env, k+"="+run.Env[k])
	}
	cfg := &container.Config{
		Image: image, Entrypoint: run.Entrypoint, Cmd: run.Args, Env: env,
		Labels: map[string]string{LabelApp: p.o.App, LabelRole: roleMigrate},
	}
	host := &container.HostConfig{NetworkMode: container.NetworkMode(p.network()), AutoRemove: true}
	resp, err := p.d.ContainerCreate(ctx, cfg, host, nil, nil, name)
	if err != nil {
		return "", fmt.Errorf("create %s container from %s: %w", run.Name, short(image), err)
	}
	exited := false
	defer func() {
		if !exited {
			p.discard(ctx, resp.ID)
		}
	}()
	ctx, cancel := context.WithTimeout(ctx, migrateTimeout)
	defer cancel()
	done, failed := p.d.ContainerWait(ctx, resp.ID, container.WaitConditionRemoved)
	att, err := p.d.ContainerAttach(ctx, resp.ID, container.AttachOptions{Stream: true, Stdout: true, Stderr: true})
	if err != nil {
		return "", fmt.Errorf("attach to %s container %s: %w", run.Name, name, err)
	}
	defer att.Close()
	var stdout, stderr bytes.Buffer
	copied := make(chan error, 1)
	go func() {
		_, err := stdcopy.StdCopy(&stdout, &stderr, att.Reader)
		copied <- err
	}()
	if err := p.d.ContainerStart(ctx, resp.ID, container.StartOptions{}); err != nil {
		return "", fmt.Errorf("start %s container %s: %w", run.Name, name, err)
	}
	code, err := waitExit(ctx, done, failed)
	if err != nil {
		return "", fmt.Errorf("%s of database %s: %w", run.Name, db.Database(), err)
	}
	exited = true
	select { // the engine ends the stream once the output is written
	case err = <-copied:
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read output of container %s: %w", name, err)
	}
	out, errOut := deploy.RedactURL(stdout.String(), db), deploy.RedactURL(stderr.String(), db)
	if code != 0 {
		return out, deploy.NewMigrationError(db, code, errOut+out)
	}
	return out, nil
}

// waitExit reads the exit code from a wait registered before the start.
func waitExit(ctx context.Context, done <-chan container.WaitResponse, failed <-chan error) (int, error) {
	select {
	case r := <-done:
		if r.Error != nil && r.Error.Message != "" {
			return 0, fmt.Errorf("wait for the container: %s", r.Error.Message)
		}
		return int(r.StatusCode), nil
	case err := <-failed:
		if ctx.Err() != nil {
			return 0, fmt.Errorf("not done within %s: %w", migrateTimeout, ctx.Err())
		}
		return 0, fmt.Errorf("wait for the container: %w", err)
	}
}

// ImageSchemaHead implements deploy.DatabaseServer: the image's label
// dev.slipway.schema.head (0 when it has none).
func (p *Provider) ImageSchemaHead(ctx context.Context, image string) (int64, error) {
	img, err := p.d.ImageInspect(ctx, image)
	if err != nil {
		return 0, fmt.Errorf("inspect image %s: %w", short(image), err)
	}
	if img.Config == nil {
		return 0, nil
	}
	head, err := strconv.ParseInt(img.Config.Labels[deploy.LabelSchemaHead], 10, 64)
	if err != nil || head <= 0 {
		return 0, nil // the image says nothing
	}
	return head, nil
}
