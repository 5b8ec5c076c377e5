package main

import (
	"context"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"testing"
)

func TestFindAdminPicksTheAddressInTheAdminNetworkOnly(t *testing.T) {
	ifaces := []ifaceAddrs{
		{name: "lo", addrs: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/8"), netip.MustParsePrefix("::1/128")}},
		{name: "eth0", addrs: []netip.Prefix{netip.MustParsePrefix("172.18.0.3/16")}},
		{name: "eth1", addrs: []netip.Prefix{netip.MustParsePrefix("172.19.0.2/16"), netip.MustParsePrefix("fe80::1/64")}},
	}
	tests := map[string]struct {
		subnet, addr, iface, err string
	}{
		"the admin network's address and interface": {subnet: "172.19.0.0/16", addr: "172.19.0.2", iface: "eth1"},
		"not the app network's, whatever the order": {subnet: "172.18.0.0/16", addr: "172.18.0.3", iface: "eth0"},
		"no address in the subnet is an error":      {subnet: "10.9.0.0/16", err: "has no address in it (it has lo 127.0.0.1/8, lo ::1/128, eth0 172.18.0.3/16"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			b, err := findAdmin(netip.MustParsePrefix(tc.subnet), ifaces)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("findAdmin(%s) = %v, %v; want an error containing %q", tc.subnet, b, err, tc.err)
				}
				return
			}
			if err != nil || b.addr.String() != tc.addr || b.iface != tc.iface {
				t.Fatalf("findAdmin(%s) = %v, %v; want %s on %s", tc.subnet, b, err, tc.addr, tc.iface)
			}
		})
	}
}

// A subnet the container has no address in, or that does not parse, stops
// the router: the admin API never falls back to every address.
func TestAdminListenersRefuseToFallBackToEveryAddress(t *testing.T) {
	for name, adminNet := range map[string]string{"no address there": "198.51.100.0/24", "not a subnet": "admin"} {
		t.Run(name, func(t *testing.T) {
			lns, err := adminListeners(context.Background(), config{admin: "127.0.0.1:0", adminNet: adminNet})
			for _, ln := range lns {
				_ = ln.Close()
			}
			if err == nil {
				t.Fatalf("adminListeners with -admin-net %s listened on %d addresses, want an error", adminNet, len(lns))
			}
		})
	}
}

// The admin socket bound to an interface takes connections arriving on it;
// an interface that does not exist is an error, not a socket on every
// interface. (The Docker test in internal/local shows one on another
// interface is refused.)
func TestListenOnInterface(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("SO_BINDTODEVICE is Linux's; the router runs in a Linux container")
	}
	ln, err := listenOnInterface(context.Background(), "127.0.0.1:0", "lo")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	go func() {
		if c, err := ln.Accept(); err == nil {
			_ = c.Close()
		}
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatalf("dial the socket bound to lo: %v", err)
	}
	_ = c.Close()
	if ln2, err := listenOnInterface(context.Background(), "127.0.0.1:0", "nosuchif0"); err == nil {
		_ = ln2.Close()
		t.Fatal("listening on interface nosuchif0 succeeded, want an error")
	}
}
