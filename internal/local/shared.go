package local

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/go-connections/nat"

	"github.com/slipway/slipway/internal/router"
)

// EnsureShared creates the app's network, the router's admin network, the
// router's state volume and the router container, and waits for the
// router's admin API. Re-running it changes nothing; a router on another
// image, other published ports or without the admin network is replaced,
// keeping its table. A router that fails to start leaves nothing
// behind that this call created.
func (p *Provider) EnsureShared(ctx context.Context) (err error) {
	if p.o.BuildRouter != nil {
		id, err := p.o.BuildRouter(ctx)
		if err != nil {
			return fmt.Errorf("build router image: %w", err)
		}
		p.routerMu.Lock()
		p.routerImage = id
		p.routerMu.Unlock()
	}
	var undo []func()
	defer func() {
		if err != nil {
			p.undo(undo)
		}
	}()
	for _, name := range []string{p.network(), p.adminNetwork()} {
		created, err := p.ensureNamedNetwork(ctx, name)
		if err != nil {
			return err
		}
		if created {
			undo = append(undo, func() { p.removeCreated("network", name, p.d.NetworkRemove) })
		}
	}
	subnet, err := p.adminSubnet(ctx)
	if err != nil {
		return err
	}
	if _, ierr := p.d.VolumeInspect(ctx, p.stateVolume()); ierr != nil {
		if _, err := p.d.VolumeCreate(ctx, volume.CreateOptions{Name: p.stateVolume(), Labels: map[string]string{LabelApp: p.o.App, LabelRole: roleRouter}}); err != nil {
			return fmt.Errorf("create volume %s: %w", p.stateVolume(), err)
		}
		undo = append(undo, func() {
			p.removeCreated("volume", p.stateVolume(), func(ctx context.Context, id string) error { return p.d.VolumeRemove(ctx, id, true) })
		})
	}
	started, err := p.ensureRouter(ctx, subnet, &undo)
	if err != nil {
		return err
	}
	if err := p.waitRouter(ctx); err != nil {
		return err
	}
	if started {
		p.waitRestoredTargets(ctx)
	}
	if err := p.ensureDatabase(ctx); err != nil {
		return err
	}
	return p.update(ctx, "set the production hosts and stack ports", func(t *router.Table) (bool, error) {
		fitted := p.fitPorts(t)
		return fitted || !slices.Equal(t.ProductionHosts, p.ProductionHosts()), nil
	})
}

// undo removes, newest first, what a failed EnsureShared created.
func (p *Provider) undo(steps []func()) {
	for i := len(steps) - 1; i >= 0; i-- {
		steps[i]()
	}
}

// removeCreated removes one thing a failed start created, with its own
// bounded context: the caller's may be the one that was cancelled.
func (p *Provider) removeCreated(kind, name string, remove func(context.Context, string) error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := remove(ctx, name); err != nil {
		p.logf("shared: remove %s %s after the failed start: %v", kind, name, err)
		return
	}
	p.logf("shared: removed %s %s (the router did not start)", kind, name)
}

// ensureNetwork creates the app's network if it is missing.
func (p *Provider) ensureNetwork(ctx context.Context) (created bool, err error) {
	return p.ensureNamedNetwork(ctx, p.network())
}

func (p *Provider) ensureNamedNetwork(ctx context.Context, name string) (created bool, err error) {
	_, err = p.d.NetworkInspect(ctx, name, network.InspectOptions{})
	if err == nil {
		return false, nil
	}
	p.logf("shared: creating network %s", name)
	_, err = p.d.NetworkCreate(ctx, name, network.CreateOptions{
		Driver: "bridge",
		Labels: map[string]string{LabelApp: p.o.App, LabelRole: roleRouter},
	})
	if err != nil {
		return false, fmt.Errorf("create network %s: %w", name, err)
	}
	return true, nil
}

// ensureRouter makes the router container match the settings; started says
// it was created or (re)started, so the routes it restored from its volume
// have no health checks behind them yet.
func (p *Provider) ensureRouter(ctx context.Context, adminSubnet string, undo *[]func()) (started bool, err error) {
	c, err := p.d.ContainerInspect(ctx, p.routerName())
	if err != nil {
		return true, p.createRouter(ctx, adminSubnet, undo)
	}
	why := p.routerDiffers(c, adminSubnet)
	switch {
	case why == "" && c.State != nil && c.State.Running:
		return false, nil
	case why == "":
		p.logf("shared: starting router %s", p.routerName())
		if err := p.d.ContainerStart(ctx, c.ID, container.StartOptions{}); err != nil {
			return false, fmt.Errorf("start router %s: %w%s", p.routerName(), err, p.portHint())
		}
		return true, nil
	}
	p.logf("shared: replacing router %s: %s (routes are kept in volume %s)", p.routerName(), why, p.stateVolume())
	stop := 10 // the router finishes in-flight requests on SIGTERM
	if err := p.d.ContainerStop(ctx, c.ID, container.StopOptions{Timeout: &stop}); err != nil {
		p.logf("shared: stop old router: %v (removing it anyway)", err)
	}
	if err := p.d.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true}); err != nil {
		return false, fmt.Errorf("remove old router %s: %w", p.routerName(), err)
	}
	p.forgetToken()
	return true, p.createRouter(ctx, adminSubnet, undo)
}

// waitRestoredTargets waits, within the health timeout, until every target
// of the table a (re)started router restored passes its health check again,
// so a router replacement does not leave previews and production answering
// 503 while the first checks run. A target that stays unhealthy is named and
// left to the router's health gating.
func (p *Provider) waitRestoredTargets(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, p.o.HealthTimeout) // one bound for them all
	defer cancel()
	t, err := p.router.Table(ctx)
	if err != nil {
		return
	}
	for _, tg := range t.Targets {
		if err := p.router.WaitHealthy(ctx, tg.Name, p.o.HealthTimeout); err != nil {
			p.logf("shared: router %s: restored target %s: %v", p.routerName(), tg.Name, err)
		}
	}
}

// routerDiffers says why the existing router container does not match the
// settings, or "" when it does.
func (p *Provider) routerDiffers(c container.InspectResponse, adminSubnet string) string {
	if c.Config == nil || c.HostConfig == nil {
		return "its configuration cannot be read"
	}
	if img := p.routerImageRef(); c.Config.Image != img {
		return "new image " + short(img)
	}
	if tokenOf(c) == "" {
		return "it has no admin token (an older router)"
	}
	traffic, admin := hostPort(c.HostConfig.PortBindings, "8080/tcp"), hostPort(c.HostConfig.PortBindings, "9000/tcp")
	if traffic != strconv.Itoa(p.o.RouterPort) || admin != strconv.Itoa(p.o.AdminPort) {
		return fmt.Sprintf("it publishes ports %s (admin %s) but the settings say %d (admin %d); recreating it on the new ports",
			traffic, admin, p.o.RouterPort, p.o.AdminPort)
	}
	if have, want := stackPortsOf(c.HostConfig.PortBindings), p.o.StackPorts.String(); have != want {
		return fmt.Sprintf("it publishes %s but SLIPWAY_ROUTER_STACK_PORTS says %s; recreating it on the new ports", portsPhrase(have), portsPhrase(want))
	}
	return p.adminNetDiffers(c, adminSubnet)
}

func portsPhrase(r string) string {
	if r == "" {
		return "no stack ports"
	}
	return "stack ports " + r
}

// stackPortsOf is the range of stack ports a router publishes (each on
// 127.0.0.1, the same number inside), as PortRange.String writes it; the
// ports listed one by one when they are not such a range.
func stackPortsOf(pm nat.PortMap) string {
	var ports []int
	for cp, bs := range pm {
		if cp == "8080/tcp" || cp == "9000/tcp" {
			continue
		}
		if len(bs) != 1 || bs[0].HostIP != "127.0.0.1" || bs[0].HostPort != cp.Port() {
			return "other bindings on " + string(cp)
		}
		ports = append(ports, cp.Int())
	}
	if len(ports) == 0 {
		return ""
	}
	slices.Sort(ports)
	r := router.PortRange{First: ports[0], Last: ports[len(ports)-1]}
	if r.Len() != len(ports) {
		return fmt.Sprint(ports)
	}
	return r.String()
}

func hostPort(pm nat.PortMap, port nat.Port) string {
	if b := pm[port]; len(b) > 0 {
		return b[0].HostPort
	}
	return "none"
}

func (p *Provider) portHint() string {
	if p.portsOn() {
		return fmt.Sprintf(" (is port %d, %d or one of %s taken? set SLIPWAY_ROUTER_PORT / SLIPWAY_ROUTER_ADMIN_PORT / SLIPWAY_ROUTER_STACK_PORTS to free ports)",
			p.o.RouterPort, p.o.AdminPort, p.o.StackPorts)
	}
	return fmt.Sprintf(" (is port %d or %d taken? set SLIPWAY_ROUTER_PORT / SLIPWAY_ROUTER_ADMIN_PORT to free ports)", p.o.RouterPort, p.o.AdminPort)
}

// createRouter creates the router on its admin network, connects it to the
// app's network and starts it; its admin API listens on the admin network
// only (see adminNetwork).
func (p *Provider) createRouter(ctx context.Context, adminSubnet string, undo *[]func()) error {
	stackPorts := ""
	if p.portsOn() {
		stackPorts = ", stack ports 127.0.0.1:" + p.o.StackPorts.String()
	}
	p.logf("shared: starting router %s on 127.0.0.1:%d (admin 127.0.0.1:%d, served on network %s only%s)", p.routerName(), p.o.RouterPort, p.o.AdminPort, p.adminNetwork(), stackPorts)
	token, err := newToken()
	if err != nil {
		return err
	}
	cmd := []string{"-listen", ":8080", "-admin", ":9000", adminNetFlag, adminSubnet, "-state", "/var/lib/slipway-router"}
	exposed := nat.PortSet{"8080/tcp": {}, "9000/tcp": {}}
	bindings := nat.PortMap{
		"8080/tcp": {{HostIP: "127.0.0.1", HostPort: strconv.Itoa(p.o.RouterPort)}},
		"9000/tcp": {{HostIP: "127.0.0.1", HostPort: strconv.Itoa(p.o.AdminPort)}},
	}
	if p.portsOn() {
		cmd = append(cmd, "-stack-ports", p.o.StackPorts.String())
		for port := p.o.StackPorts.First; p.o.StackPorts.Contains(port); port++ {
			cp := nat.Port(strconv.Itoa(port) + "/tcp")
			exposed[cp] = struct{}{}
			bindings[cp] = []nat.PortBinding{{HostIP: "127.0.0.1", HostPort: strconv.Itoa(port)}}
		}
	}
	cfg := &container.Config{
		Image: p.routerImageRef(),
		Cmd:   cmd,
		// The admin token lives in the router's environment: app containers
		// cannot read it, the provider reads it back with ContainerInspect.
		Env:          []string{tokenEnv + "=" + token},
		Labels:       map[string]string{LabelApp: p.o.App, LabelRole: roleRouter, LabelStack: p.o.App + "-shared"},
		ExposedPorts: exposed,
	}
	host := &container.HostConfig{
		RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyUnlessStopped},
		PortBindings:  bindings,
		Binds:         []string{p.stateVolume() + ":/var/lib/slipway-router"},
		NetworkMode:   container.NetworkMode(p.adminNetwork()),
	}
	resp, err := p.d.ContainerCreate(ctx, cfg, host, p.adminEndpoint(), nil, p.routerName())
	if err != nil {
		return fmt.Errorf("create router %s: %w", p.routerName(), err)
	}
	*undo = append(*undo, func() {
		p.removeCreated("container", p.routerName(), func(ctx context.Context, id string) error {
			return p.d.ContainerRemove(ctx, id, container.RemoveOptions{Force: true})
		})
	})
	if err := p.d.NetworkConnect(ctx, p.network(), resp.ID, &network.EndpointSettings{}); err != nil {
		return fmt.Errorf("connect router %s to network %s: %w", p.routerName(), p.network(), err)
	}
	if err := p.d.ContainerStart(ctx, resp.ID, container.StartOptions{}); err != nil {
		return fmt.Errorf("start router %s: %w%s", p.routerName(), err, p.portHint())
	}
	return nil
}

func (p *Provider) waitRouter(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	for {
		if _, err := p.router.Table(ctx); err == nil {
			return nil
		} else if ctx.Err() != nil {
			return fmt.Errorf("wait for router admin API on 127.0.0.1:%d: %w (see `docker logs %s`; the admin API answers only on network %s, where Docker must forward the published port)",
				p.o.AdminPort, err, p.routerName(), p.adminNetwork())
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}
