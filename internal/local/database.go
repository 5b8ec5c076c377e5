package local

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/pkg/stdcopy"
	"github.com/docker/go-connections/nat"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/slipway/slipway/internal/database"
	slimage "github.com/slipway/slipway/internal/image" // its own: "image" names the image to run here
	"github.com/slipway/slipway/internal/pgimage"
)

// The app's database server: one Postgres container <app>-db on the app's
// network, its data in the named volume <app>-db-data. The superuser's
// password is generated when the volume is created and kept as the
// volume's label (and the container's POSTGRES_PASSWORD): the engine is the
// state, app containers cannot read it, and it lives exactly as long as
// the data it opens. local:down removes both (they carry LabelApp).
const (
	roleDatabase  = "database"
	labelDBSecret = "dev.slipway.db-password"
	dbPort        = nat.Port("5432/tcp")
	dbDataDir     = "/var/lib/postgresql/data"
	dbSuperuser   = "postgres"
	dbWait        = 60 * time.Second
)

// DatabaseServer is the app's running Postgres server.
type DatabaseServer struct {
	Container string       // container name, <app>-db
	Volume    string       // named volume holding the data
	AppHost   string       // host:port the app's containers reach it on
	HostPort  int          // its port, published on 127.0.0.1
	Admin     database.URL // the superuser's URL from this machine
}

func (p *Provider) dbName() string   { return p.o.App + "-db" }
func (p *Provider) dbVolume() string { return p.o.App + "-db-data" }

// EnsureDatabaseServer starts the app's Postgres server from image (see
// pgimage.ImageFromEnv; pulled when missing) unless it runs already, and
// waits until its superuser can connect. Data and password survive
// re-runs; a server on another image is replaced, keeping its volume.
// Safe to re-run.
func (p *Provider) EnsureDatabaseServer(ctx context.Context, image string) (DatabaseServer, error) {
	s, err := p.ensureDBServer(ctx, image)
	return s.DatabaseServer, err
}

// openServer is the running server, its superuser's password, and an
// admin handle that has connected to it.
type openServer struct {
	DatabaseServer
	password string
	admin    *database.Admin
}

// ensureDBServer is EnsureDatabaseServer, also returning the password and
// the admin handle its readiness check opened.
func (p *Provider) ensureDBServer(ctx context.Context, image string) (openServer, error) {
	if _, err := p.ensureNetwork(ctx); err != nil {
		return openServer{}, err
	}
	password, err := p.dbPassword(ctx)
	if err != nil {
		return openServer{}, err
	}
	c, err := p.d.ContainerInspect(ctx, p.dbName())
	switch {
	case cerrdefs.IsNotFound(err):
		if err = p.ensureDBImage(ctx, image); err == nil {
			err = p.createDB(ctx, image, password)
		}
	case err != nil:
		err = fmt.Errorf("inspect database server %s: %w", p.dbName(), err)
	case c.Config == nil || c.Config.Image != image:
		if err = p.ensureDBImage(ctx, image); err != nil {
			break // the old server keeps running
		}
		p.logf("shared: replacing database server %s with image %s (data kept in volume %s)", p.dbName(), short(image), p.dbVolume())
		if err = p.removeDB(ctx, c.ID); err == nil {
			err = p.createDB(ctx, image, password)
		}
	case c.State == nil || !c.State.Running:
		p.logf("shared: starting database server %s", p.dbName())
		if err = p.d.ContainerStart(ctx, c.ID, container.StartOptions{}); err != nil {
			err = fmt.Errorf("start database server %s: %w", p.dbName(), err)
		}
	}
	if err != nil {
		return openServer{}, err
	}
	return p.waitDB(ctx, password)
}

// dbPassword creates the data volume with a new password, or returns the
// password of the volume that exists (creating a volume is idempotent and
// answers with the existing one's labels).
func (p *Provider) dbPassword(ctx context.Context) (string, error) {
	fresh, err := database.NewPassword()
	if err != nil {
		return "", err
	}
	v, err := p.d.VolumeCreate(ctx, volume.CreateOptions{Name: p.dbVolume(), Labels: map[string]string{
		LabelApp: p.o.App, LabelRole: roleDatabase, labelDBSecret: fresh,
	}})
	if err != nil {
		return "", fmt.Errorf("create volume %s: %w", p.dbVolume(), err)
	}
	pw := v.Labels[labelDBSecret]
	if pw == "" {
		return "", fmt.Errorf("volume %s has no %s label, so its database cannot be opened: remove it (`docker volume rm %s`, its data is lost) or run local:down", p.dbVolume(), labelDBSecret, p.dbVolume())
	}
	return pw, nil
}

func (p *Provider) createDB(ctx context.Context, image, password string) error {
	p.logf("shared: starting database server %s (%s, data in volume %s)", p.dbName(), short(image), p.dbVolume())
	cfg := &container.Config{
		Image:        image,
		Env:          []string{"POSTGRES_PASSWORD=" + password, "POSTGRES_USER=" + dbSuperuser},
		Labels:       map[string]string{LabelApp: p.o.App, LabelRole: roleDatabase},
		ExposedPorts: nat.PortSet{dbPort: {}},
	}
	host := &container.HostConfig{
		RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyUnlessStopped},
		PortBindings:  nat.PortMap{dbPort: {{HostIP: "127.0.0.1", HostPort: ""}}}, // a free port
		Binds:         []string{p.dbVolume() + ":" + dbDataDir},
		NetworkMode:   container.NetworkMode(p.network()),
	}
	resp, err := p.d.ContainerCreate(ctx, cfg, host, nil, nil, p.dbName())
	if err != nil {
		return fmt.Errorf("create database server %s from image %s: %w", p.dbName(), image, err)
	}
	if err := p.d.ContainerStart(ctx, resp.ID, container.StartOptions{}); err != nil {
		return fmt.Errorf("start database server %s: %w", p.dbName(), err)
	}
	return nil
}

// ensureDBImage makes sure the server's image is on this machine. The
// official one (or any other) is pulled when missing, with one progress
// line per layer and status; the local one is built by local:dbImage,
// never pulled. An image that cannot be had says both ways out: pull it
// yourself, or build the local one from Debian's packages.
func (p *Provider) ensureDBImage(ctx context.Context, image string) error {
	_, err := p.d.ImageInspect(ctx, image)
	switch {
	case err == nil:
		return nil
	case !cerrdefs.IsNotFound(err):
		return fmt.Errorf("inspect database server image %s: %w", image, err)
	case strings.HasPrefix(image, pgimage.Repository+":"):
		return fmt.Errorf("database server image %s is not on this machine: build it from Debian's packages with `%s`", image, buildDBImage)
	}
	p.logf("shared: pulling database server image %s (not on this machine)", image)
	if err := slimage.Pull(ctx, p.d, image, logLines{p, "shared: pull " + image + ": "}); err != nil {
		return fmt.Errorf("database server image %s is not on this machine and the pull failed: %w; either pull it yourself (`docker pull %s` uses your registry login and mirrors), or build the local image from Debian's packages, which needs no registry: `%s`, then set %s=%s",
			image, err, image, buildDBImage, pgimage.EnvImage, pgimage.LocalTag)
	}
	return nil
}

// buildDBImage is the command that builds the local database image.
const buildDBImage = "go run mage.go local:dbImage"

// logLines writes each line written to it as one line of the provider's
// log, after prefix.
type logLines struct {
	p      *Provider
	prefix string
}

func (l logLines) Write(b []byte) (int, error) {
	for _, line := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		l.p.logf("%s%s", l.prefix, line)
	}
	return len(b), nil
}

// removeDB stops the server (Postgres shuts down cleanly on the stop
// signal) and removes the container, never the volume.
func (p *Provider) removeDB(ctx context.Context, id string) error {
	stop := 30
	if err := p.d.ContainerStop(ctx, id, container.StopOptions{Timeout: &stop}); err != nil {
		p.logf("shared: stop database server %s: %v (removing it anyway)", p.dbName(), err)
	}
	if err := p.d.ContainerRemove(ctx, id, container.RemoveOptions{Force: true}); err != nil {
		return fmt.Errorf("remove database server %s: %w", p.dbName(), err)
	}
	return nil
}

// waitDB reads the server's published port and connects as the superuser
// until it answers, for at most dbWait.
func (p *Provider) waitDB(ctx context.Context, password string) (openServer, error) {
	ctx, cancel := context.WithTimeout(ctx, dbWait)
	defer cancel()
	var last error
	for {
		s, err := p.dbServer(ctx, password)
		if err == nil {
			var a *database.Admin
			if a, err = database.Open(ctx, s.Admin.Reveal(), s.AppHost); err == nil {
				return openServer{DatabaseServer: s, password: password, admin: a}, nil
			}
		}
		if pgErr := (*pgconn.PgError)(nil); errors.As(err, &pgErr) && pgErr.Code == "28P01" {
			return openServer{}, fmt.Errorf("database server %s refuses the password kept on volume %s: the volume's data was made with another password; run local:down to start afresh (its data is lost)", p.dbName(), p.dbVolume())
		}
		if errors.Is(err, errDBDown) {
			if fatal := p.dbFatal(ctx); fatal != "" {
				return openServer{}, p.dbStopped(fatal)
			}
		}
		last = err
		select {
		case <-ctx.Done():
			return openServer{}, fmt.Errorf("wait for database server %s: not ready within %s: %w (see `docker logs %s`)", p.dbName(), dbWait, last, p.dbName())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// errDBDown says the server's container is not running (or is between
// restarts).
var errDBDown = errors.New("not running")

// dbFatal returns the last FATAL line the server logged since its last
// start, with the DETAIL line after it, or "" when there is none (or the
// log cannot be read).
func (p *Provider) dbFatal(ctx context.Context) string {
	c, err := p.d.ContainerInspect(ctx, p.dbName())
	if err != nil || c.State == nil {
		return ""
	}
	r, err := p.d.ContainerLogs(ctx, p.dbName(), container.LogsOptions{ShowStdout: true, ShowStderr: true, Since: c.State.StartedAt, Tail: "20"})
	if err != nil {
		return ""
	}
	defer func() { _ = r.Close() }() // read-only
	var out bytes.Buffer
	if _, err := stdcopy.StdCopy(&out, &out, r); err != nil {
		return ""
	}
	var fatal string
	for _, line := range strings.Split(out.String(), "\n") {
		switch {
		case strings.Contains(line, "FATAL:"):
			fatal = strings.Join(strings.Fields(line[strings.Index(line, "FATAL:"):]), " ")
		case fatal != "" && strings.Contains(line, "DETAIL:"):
			fatal += " " + strings.Join(strings.Fields(line[strings.Index(line, "DETAIL:"):]), " ")
		}
	}
	return fatal
}

// dbStopped is the error for a server that stopped with fatal in its log.
func (p *Provider) dbStopped(fatal string) error {
	err := fmt.Errorf("database server %s stopped: %s", p.dbName(), fatal)
	if strings.Contains(fatal, "incompatible with server") {
		return fmt.Errorf("%w; volume %s holds data of another PostgreSQL major version than the image: set %s to an image of that version (postgres:<version>), or run local:down to start afresh (its data is lost)", err, p.dbVolume(), pgimage.EnvImage)
	}
	return err
}

// dbServer describes the running server from its container.
func (p *Provider) dbServer(ctx context.Context, password string) (DatabaseServer, error) {
	c, err := p.d.ContainerInspect(ctx, p.dbName())
	if err != nil {
		return DatabaseServer{}, fmt.Errorf("inspect database server %s: %w", p.dbName(), err)
	}
	if c.State == nil || !c.State.Running || c.State.Restarting {
		return DatabaseServer{}, fmt.Errorf("database server %s: %w", p.dbName(), errDBDown)
	}
	var port int
	if c.NetworkSettings != nil {
		for _, b := range c.NetworkSettings.Ports[dbPort] {
			if n, err := strconv.Atoi(b.HostPort); err == nil && (b.HostIP == "127.0.0.1" || b.HostIP == "") {
				port = n
			}
		}
	}
	if port == 0 {
		return DatabaseServer{}, fmt.Errorf("database server %s publishes no port on 127.0.0.1", p.dbName())
	}
	host := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	return DatabaseServer{
		Container: p.dbName(), Volume: p.dbVolume(), HostPort: port,
		AppHost: net.JoinHostPort(p.dbName(), "5432"),
		Admin:   database.NewURL(host, dbSuperuser, password, "postgres", "disable"),
	}, nil
}

// RemoveDatabaseServer removes the app's database server container and,
// unless keepData, its volume and so every database in it. Removing what
// is not there succeeds. (local:down's Down removes both as well, since
// they carry the app's label.)
func (p *Provider) RemoveDatabaseServer(ctx context.Context, keepData bool) error {
	c, err := p.d.ContainerInspect(ctx, p.dbName())
	switch {
	case err == nil:
		p.logf("down: removing database server %s", p.dbName())
		if err := p.removeDB(ctx, c.ID); err != nil {
			return err
		}
	case !cerrdefs.IsNotFound(err):
		return fmt.Errorf("inspect database server %s: %w", p.dbName(), err)
	}
	if keepData {
		return nil
	}
	p.logf("down: removing volume %s and the databases in it", p.dbVolume())
	if err := p.d.VolumeRemove(ctx, p.dbVolume(), true); err != nil && !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("remove volume %s: %w", p.dbVolume(), err)
	}
	return nil
}
