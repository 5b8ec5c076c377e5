package local

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
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
	cmd := []string{"migrate"}
	if expandOnly {
		cmd = append(cmd, "-expand-only")
	}
	out, err := p.runOnce(ctx, image, cmd, db)
	if err != nil {
		return deploy.MigrateResult{}, err
	}
	var res deploy.MigrateResult
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &res); err != nil {
		return res, fmt.Errorf("read what migrate printed (%q): %w", lines[len(lines)-1], err)
	}
	return res, nil
}

// runOnce runs image with cmd and DATABASE_URL=db, waits (at most
// migrateTimeout) and removes the container. It returns stdout; a non-zero
// exit is a *deploy.MigrationError with the last lines of output, the
// password taken out.
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
	host := &container.HostConfig{NetworkMode: container.NetworkMode(p.network())}
	resp, err := p.d.ContainerCreate(ctx, cfg, host, nil, nil, name)
	if err != nil {
		return "", fmt.Errorf("create %s container from %s: %w", cmd[0], short(image), err)
	}
	defer p.discard(ctx, resp.ID)
	if err := p.d.ContainerStart(ctx, resp.ID, container.StartOptions{}); err != nil {
		return "", fmt.Errorf("start %s container %s: %w", cmd[0], name, err)
	}
	code, err := p.waitExit(ctx, resp.ID)
	if err != nil {
		return "", fmt.Errorf("%s of database %s: %w", cmd[0], db.Database(), err)
	}
	stdout, stderr, err := p.output(ctx, resp.ID)
	if err != nil {
		return "", err
	}
	stdout, stderr = redact(stdout, db), redact(stderr, db)
	if code != 0 {
		return stdout, &deploy.MigrationError{Database: db.Database(), ExitCode: code, Output: lastLines(stderr+stdout, outputLines)}
	}
	return stdout, nil
}

// waitExit waits until the started container stops and returns its exit
// code. Asked after the start, "not running" cannot miss an exit that
// came first.
func (p *Provider) waitExit(ctx context.Context, id string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, migrateTimeout)
	defer cancel()
	done, failed := p.d.ContainerWait(ctx, id, container.WaitConditionNotRunning)
	select {
	case r := <-done:
		if r.Error != nil && r.Error.Message != "" {
			return 0, fmt.Errorf("wait for container %s: %s", short(id), r.Error.Message)
		}
		return int(r.StatusCode), nil
	case err := <-failed:
		if ctx.Err() != nil {
			return 0, fmt.Errorf("not done within %s: %w", migrateTimeout, ctx.Err())
		}
		return 0, fmt.Errorf("wait for container %s: %w", short(id), err)
	}
}

func (p *Provider) output(ctx context.Context, id string) (string, string, error) {
	rc, err := p.d.ContainerLogs(ctx, id, container.LogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		return "", "", fmt.Errorf("read output of container %s: %w", short(id), err)
	}
	defer rc.Close()
	var out, errOut bytes.Buffer
	if _, err := stdcopy.StdCopy(&out, &errOut, rc); err != nil && !errors.Is(err, context.Canceled) {
		return "", "", fmt.Errorf("read output of container %s: %w", short(id), err)
	}
	return out.String(), errOut.String(), nil
}

// redact takes the URL's password out of text.
func redact(text string, db deploy.SecretURL) string {
	u, err := url.Parse(db.Reveal())
	if err != nil || u.User == nil {
		return text
	}
	text = strings.ReplaceAll(text, db.Reveal(), db.String())
	if pw, ok := u.User.Password(); ok && pw != "" {
		text = strings.ReplaceAll(text, pw, "xxxxx")
	}
	return text
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
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
