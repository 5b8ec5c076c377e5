package local

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
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
	outputLines    = 20
)

// Migrate implements deploy.Databases: `<image> migrate [-expand-only]` as
// a one-off container on the app's network with DATABASE_URL, and its JSON
// answer read back.
func (p *Provider) Migrate(ctx context.Context, image string, db deploy.SecretURL, expandOnly bool) (deploy.MigrateResult, error) {
	if head, ok, err := p.atHead(ctx, image, db); err != nil {
		return deploy.MigrateResult{}, err
	} else if ok {
		p.logf("database %s: already at head %d, no migration to run", db.Database(), head)
		return deploy.MigrateResult{From: head, To: head}, nil
	}
	out, err := p.runOnce(ctx, image, deploy.MigrateCommand(expandOnly), db)
	if err != nil {
		return deploy.MigrateResult{}, err
	}
	return deploy.ParseMigrateOutput(out)
}

// runOnce runs image with cmd and DATABASE_URL=db, waits (at most
// migrateTimeout) and returns its stdout; a non-zero exit is a
// *deploy.MigrationError with the last lines of output, the password taken
// out. Round trips are few: the wait is registered before the start (the
// engine answers once it is), the output streams while the command runs,
// and the engine removes the container when it exits (AutoRemove), which
// ends the wait: none is left when runOnce returns. Only a run that did
// not end is removed here.
func (p *Provider) runOnce(ctx context.Context, image string, cmd []string, db deploy.SecretURL) (string, error) {
	suffix, err := database.NewPassword()
	if err != nil {
		return "", err
	}
	name := p.o.App + "-" + cmd[0] + "-" + suffix[:8]
	cfg := &container.Config{
		Image: image, Cmd: cmd, Env: []string{deploy.DatabaseURLEnv + "=" + db.Reveal()},
		Labels: map[string]string{LabelApp: p.o.App, LabelRole: roleMigrate},
	}
	host := &container.HostConfig{NetworkMode: container.NetworkMode(p.network()), AutoRemove: true}
	resp, err := p.d.ContainerCreate(ctx, cfg, host, nil, nil, name)
	if err != nil {
		return "", fmt.Errorf("create %s container from %s: %w", cmd[0], short(image), err)
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
		return "", fmt.Errorf("attach to %s container %s: %w", cmd[0], name, err)
	}
	defer att.Close()
	var stdout, stderr bytes.Buffer
	copied := make(chan error, 1)
	go func() {
		_, err := stdcopy.StdCopy(&stdout, &stderr, att.Reader)
		copied <- err
	}()
	if err := p.d.ContainerStart(ctx, resp.ID, container.StartOptions{}); err != nil {
		return "", fmt.Errorf("start %s container %s: %w", cmd[0], name, err)
	}
	code, err := waitExit(ctx, done, failed)
	if err != nil {
		return "", fmt.Errorf("%s of database %s: %w", cmd[0], db.Database(), err)
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
		return out, &deploy.MigrationError{Database: db.Database(), ExitCode: code, Output: deploy.LastLines(errOut+out, outputLines)}
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

// atHead says whether db is migrated exactly to image's head, so that
// image's migrate would find nothing to run: the image's label
// dev.slipway.schema.head names version N, and db's goose table has
// versions 1 to N applied, each once, none rolled back. Anything else (no
// label, versions with gaps such as timestamps, a rollback, no goose table)
// runs the migrate container, which decides.
func (p *Provider) atHead(ctx context.Context, image string, db deploy.SecretURL) (int64, bool, error) {
	img, err := p.d.ImageInspect(ctx, image)
	if err != nil {
		return 0, false, fmt.Errorf("inspect image %s: %w", short(image), err)
	}
	if img.Config == nil {
		return 0, false, nil
	}
	head, err := strconv.ParseInt(img.Config.Labels[deploy.LabelSchemaHead], 10, 64)
	if err != nil || head <= 0 {
		return 0, false, nil // the image says nothing
	}
	conn, err := p.dbSession(ctx, db.Database())
	if err != nil {
		return 0, false, err
	}
	defer func() { _ = conn.Close(ctx) }() // closing a session loses nothing
	var table *string
	if err := conn.QueryRow(ctx, "SELECT to_regclass('public.goose_db_version')::text").Scan(&table); err != nil {
		return 0, false, fmt.Errorf("read the schema version of %s: %w", db.Database(), err)
	}
	if table == nil {
		return 0, false, nil
	}
	var undone, versions, top int64
	err = conn.QueryRow(ctx, `SELECT count(*) FILTER (WHERE NOT is_applied),
		count(DISTINCT version_id) FILTER (WHERE is_applied AND version_id > 0),
		coalesce(max(version_id) FILTER (WHERE is_applied), 0)
		FROM public.goose_db_version`).Scan(&undone, &versions, &top)
	if err != nil {
		return 0, false, fmt.Errorf("read the schema version of %s: %w", db.Database(), err)
	}
	return head, undone == 0 && versions == head && top == head, nil
}
