package main

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"syscall"
)

// addRoute adds the route "dst/32 via gw" (the container needs NET_ADMIN):
// it lets the tests send to the router's admin address through the
// router's app-network interface, as an app with the default NET_RAW could
// by forging frames.
func addRoute(dst, gw netip.Addr) error {
	fd, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_RAW, syscall.NETLINK_ROUTE)
	if err != nil {
		return fmt.Errorf("open netlink: %w", err)
	}
	defer func() { _ = syscall.Close(fd) }()
	d, g := dst.As4(), gw.As4()
	// struct rtmsg: family, dst_len, src_len, tos, table, protocol, scope, type, flags.
	body := []byte{syscall.AF_INET, 32, 0, 0, syscall.RT_TABLE_MAIN, syscall.RTPROT_BOOT, syscall.RT_SCOPE_UNIVERSE, syscall.RTN_UNICAST, 0, 0, 0, 0}
	body = append(body, rtattr(syscall.RTA_DST, d[:])...)
	body = append(body, rtattr(syscall.RTA_GATEWAY, g[:])...)
	msg := make([]byte, syscall.NLMSG_HDRLEN, syscall.NLMSG_HDRLEN+len(body))
	binary.NativeEndian.PutUint32(msg[0:], uint32(syscall.NLMSG_HDRLEN+len(body)))
	binary.NativeEndian.PutUint16(msg[4:], syscall.RTM_NEWROUTE)
	binary.NativeEndian.PutUint16(msg[6:], syscall.NLM_F_REQUEST|syscall.NLM_F_CREATE|syscall.NLM_F_EXCL|syscall.NLM_F_ACK)
	binary.NativeEndian.PutUint32(msg[8:], 1)
	msg = append(msg, body...)
	if err := syscall.Sendto(fd, msg, 0, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}); err != nil {
		return fmt.Errorf("send route: %w", err)
	}
	buf := make([]byte, 4096)
	n, _, err := syscall.Recvfrom(fd, buf, 0)
	if err != nil {
		return fmt.Errorf("read route answer: %w", err)
	}
	msgs, err := syscall.ParseNetlinkMessage(buf[:n])
	if err != nil || len(msgs) == 0 || msgs[0].Header.Type != syscall.NLMSG_ERROR || len(msgs[0].Data) < 4 {
		return fmt.Errorf("read route answer: %v (%d messages)", err, len(msgs))
	}
	if errno := int32(binary.NativeEndian.Uint32(msgs[0].Data)); errno != 0 {
		return fmt.Errorf("add route %s via %s: %w", dst, gw, syscall.Errno(-errno))
	}
	return nil
}

// rtattr is one netlink route attribute, padded to 4 bytes.
func rtattr(typ uint16, data []byte) []byte {
	b := make([]byte, syscall.SizeofRtAttr+len(data), (syscall.SizeofRtAttr+len(data)+3)&^3)
	binary.NativeEndian.PutUint16(b[0:], uint16(len(b)))
	binary.NativeEndian.PutUint16(b[2:], typ)
	copy(b[syscall.SizeofRtAttr:], data)
	return b[:cap(b)]
}
