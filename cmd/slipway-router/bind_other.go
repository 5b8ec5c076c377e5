//go:build !linux

package main

import (
	"context"
	"fmt"
	"net"
)

// listenOnInterface needs Linux's SO_BINDTODEVICE; the router runs in a
// Linux container.
func listenOnInterface(context.Context, string, string) (net.Listener, error) {
	return nil, fmt.Errorf("-admin-net needs Linux (the router runs in a Linux container)")
}
