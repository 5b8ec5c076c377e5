package main

import (
	"context"
	"fmt"
	"net"
	"syscall"
)

// listenOnInterface listens on addr for connections that arrive on the
// network interface iface only.
func listenOnInterface(ctx context.Context, addr, iface string) (net.Listener, error) {
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		if err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptString(int(fd), syscall.SOL_SOCKET, syscall.SO_BINDTODEVICE, iface)
		}); err != nil {
			return err
		}
		if serr != nil {
			return fmt.Errorf("bind to interface %s: %w", iface, serr)
		}
		return nil
	}}
	return lc.Listen(ctx, "tcp", addr)
}
