package main

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// ifaceAddrs is one network interface of this container and its addresses.
type ifaceAddrs struct {
	name  string
	addrs []netip.Prefix
}

// adminBinding is where the admin API listens on the admin network: the
// router's address there and the interface that carries it.
type adminBinding struct {
	addr  netip.Addr
	iface string
}

// findAdmin picks the router's address in the admin network (subnet) among
// its interfaces. It fails when there is none: the admin API then listens
// nowhere rather than on every address.
func findAdmin(subnet netip.Prefix, ifaces []ifaceAddrs) (adminBinding, error) {
	var seen []string
	for _, ifc := range ifaces {
		for _, a := range ifc.addrs {
			if subnet.Contains(a.Addr()) {
				return adminBinding{addr: a.Addr(), iface: ifc.name}, nil
			}
			seen = append(seen, ifc.name+" "+a.String())
		}
	}
	return adminBinding{}, fmt.Errorf("find the admin network %s: this container has no address in it (it has %s): connect the router to its admin network or recreate it with the local provider",
		subnet, strings.Join(seen, ", "))
}

// localInterfaces lists this container's interfaces and their addresses.
func localInterfaces() ([]ifaceAddrs, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("list network interfaces: %w", err)
	}
	out := make([]ifaceAddrs, 0, len(ifs))
	for _, ifc := range ifs {
		addrs, err := ifc.Addrs()
		if err != nil {
			return nil, fmt.Errorf("list addresses of %s: %w", ifc.Name, err)
		}
		ia := ifaceAddrs{name: ifc.Name}
		for _, a := range addrs {
			if p, err := netip.ParsePrefix(a.String()); err == nil {
				ia.addrs = append(ia.addrs, p)
			}
		}
		out = append(out, ia)
	}
	return out, nil
}

// adminListeners opens the admin API's listeners. Without -admin-net, one
// on -admin. With it (the local provider's router), two on the port of
// -admin: the router's address on the admin network, taking only packets
// that arrived on that network's interface (SO_BINDTODEVICE; Linux accepts
// a packet for any of its addresses on any interface otherwise, so an app
// container that sends to the admin address through the router's app-network
// interface would reach it), and 127.0.0.1, which only processes in the
// router's own container reach (the HEALTHCHECK).
func adminListeners(ctx context.Context, cfg config) ([]net.Listener, error) {
	if cfg.adminNet == "" {
		ln, err := net.Listen("tcp", cfg.admin)
		if err != nil {
			return nil, err
		}
		return []net.Listener{ln}, nil
	}
	subnet, err := netip.ParsePrefix(cfg.adminNet)
	if err != nil {
		return nil, fmt.Errorf("parse -admin-net %q (want a subnet such as 172.20.0.0/16): %w", cfg.adminNet, err)
	}
	_, port, err := net.SplitHostPort(cfg.admin)
	if err != nil {
		return nil, fmt.Errorf("parse -admin %q: %w", cfg.admin, err)
	}
	ifaces, err := localInterfaces()
	if err != nil {
		return nil, err
	}
	b, err := findAdmin(subnet.Masked(), ifaces)
	if err != nil {
		return nil, err
	}
	onNet, err := listenOnInterface(ctx, net.JoinHostPort(b.addr.String(), port), b.iface)
	if err != nil {
		return nil, err
	}
	local, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", port))
	if err != nil {
		_ = onNet.Close() // exiting with the listen error
		return nil, err
	}
	return []net.Listener{onNet, local}, nil
}
