package local

import (
	"strings"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"
)

// Which existing routers the provider recreates for the admin network, and
// what it says; the Docker tests in router_test.go run the replacement.
func TestAdminNetDiffersSaysWhyARouterIsRecreated(t *testing.T) {
	p := New(nil, Options{App: "shop"})
	both := map[string]*network.EndpointSettings{"slipway-shop": {}, "slipway--shop-admin": {}}
	router := func(cmd []string, nets map[string]*network.EndpointSettings) container.InspectResponse {
		return container.InspectResponse{
			Config:          &container.Config{Cmd: cmd},
			NetworkSettings: &container.NetworkSettings{Networks: nets},
		}
	}
	current := []string{"-listen", ":8080", "-admin", ":9000", "-admin-net", "172.19.0.0/16", "-state", "/var/lib/slipway-router"}
	tests := map[string]struct {
		c    container.InspectResponse
		want string
	}{
		"a router on both networks with the admin subnet is kept": {router(current, both), ""},
		"a router made before the admin network is recreated": {
			router([]string{"-listen", ":8080", "-admin", ":9000", "-state", "/var/lib/slipway-router"}, map[string]*network.EndpointSettings{"slipway-shop": {}}),
			"made before the admin network"},
		"a router told another subnet (the network was recreated)": {
			router([]string{"-admin-net", "172.30.0.0/16"}, both), "on subnet 172.30.0.0/16, but network slipway--shop-admin is 172.19.0.0/16"},
		"a router cut off from the app network": {
			router(current, map[string]*network.EndpointSettings{"slipway--shop-admin": {}}), "not on both networks"},
		"a flag without its value": {router([]string{"-admin-net"}, both), "made before the admin network"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := p.adminNetDiffers(tc.c, "172.19.0.0/16")
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Fatalf("adminNetDiffers = %q, want %q", got, tc.want)
			}
		})
	}
}

// The admin network sorts before the app network for every app name: Docker
// 20.10 forwards published ports to the endpoint whose network name sorts
// first (measured; see cmd/slipway-router/README.md).
func TestAdminNetworkNameSortsFirst(t *testing.T) {
	for _, app := range []string{"a", "shop", "z9", "a-b", "zzzzzzzzzzzzzzzzzzzz"} {
		p := New(nil, Options{App: app})
		if !(p.adminNetwork() < p.network()) {
			t.Errorf("app %q: %q does not sort before %q", app, p.adminNetwork(), p.network())
		}
	}
}
