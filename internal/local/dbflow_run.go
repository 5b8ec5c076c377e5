package local

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
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

// waitExit polls until the container stops and returns its exit code.
func (p *Provider) waitExit(ctx context.Context, id string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, migrateTimeout)
	defer cancel()
	for {
		c, err := p.d.ContainerInspect(ctx, id)
		if err != nil {
			return 0, fmt.Errorf("inspect container %s: %w", short(id), err)
		}
		if c.State != nil && !c.State.Running && c.State.Status != "created" {
			return c.State.ExitCode, nil
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("not done within %s: %w", migrateTimeout, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
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
