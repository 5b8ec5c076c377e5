package local

import (
	"context"
	"fmt"
	"net/netip"
	"slices"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"
)

// adminNetFlag is the router's flag naming its admin network's subnet (see
// cmd/slipway-router).
const adminNetFlag = "-admin-net"

// adminNetwork is the network only the router joins. The router serves its
// admin API on its address there (and on 127.0.0.1 inside its own
// container), not on the app's network: app containers, which Docker keeps
// apart from other bridge networks, cannot reach it.
//
// The name sorts before network()'s ("slipway--" < "slipway-<letter>"):
// Docker 20.10 forwards a container's published ports to its endpoint on
// the network whose name sorts first, whatever the order the container
// joined them in (measured, see the README), so the admin port published on
// 127.0.0.1 reaches the admin address. Docker 28 and later rank endpoints
// by gateway priority first, which adminEndpoint sets as well.
func (p *Provider) adminNetwork() string { return "slipway--" + p.o.App + "-admin" }

// adminEndpoint makes the admin network the router's gateway endpoint on
// Docker 28+ (older engines ignore the field and go by the name).
func (p *Provider) adminEndpoint() *network.NetworkingConfig {
	return &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{
		p.adminNetwork(): {GwPriority: 1},
	}}
}

// adminSubnet is the admin network's IPv4 subnet, which the router is told
// (its address there may change when it restarts; the subnet does not).
func (p *Provider) adminSubnet(ctx context.Context) (string, error) {
	n, err := p.d.NetworkInspect(ctx, p.adminNetwork(), network.InspectOptions{})
	if err != nil {
		return "", fmt.Errorf("inspect network %s: %w", p.adminNetwork(), err)
	}
	for _, c := range n.IPAM.Config {
		if pfx, err := netip.ParsePrefix(c.Subnet); err == nil && pfx.Addr().Is4() {
			return pfx.String(), nil
		}
	}
	return "", fmt.Errorf("network %s has no IPv4 subnet (it has %+v): remove it with `docker network rm %s` and deploy again", p.adminNetwork(), n.IPAM.Config, p.adminNetwork())
}

// adminNetDiffers says why a router does not serve its admin API on the
// admin network alone, or "" when it does.
func (p *Provider) adminNetDiffers(c container.InspectResponse, subnet string) string {
	got := ""
	if i := slices.Index(c.Config.Cmd, adminNetFlag); i >= 0 && i+1 < len(c.Config.Cmd) {
		got = c.Config.Cmd[i+1]
	}
	switch {
	case got == "":
		return fmt.Sprintf("its admin API is reachable from the app network (a router made before the admin network); moving the admin API to network %s", p.adminNetwork())
	case got != subnet:
		return fmt.Sprintf("it serves its admin API on subnet %s, but network %s is %s now", got, p.adminNetwork(), subnet)
	}
	if c.NetworkSettings == nil || c.NetworkSettings.Networks[p.adminNetwork()] == nil || c.NetworkSettings.Networks[p.network()] == nil {
		return fmt.Sprintf("it is not on both networks %s and %s", p.adminNetwork(), p.network())
	}
	return ""
}
