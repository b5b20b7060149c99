package dns

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// listenAll binds the UDP sockets and the TCP listener on one port. With a
// fixed port it binds one UDP socket per worker with SO_REUSEPORT, so the
// kernel spreads clients over them and workers do not contend for one
// socket. With port 0 it binds a single UDP socket (the kernel may hand a
// SO_REUSEPORT socket asking for any port a port that another such socket
// holds), and retries when the TCP side of the port is taken.
func listenAll(addr string, workers int) ([]*net.UDPConn, net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, err
	}
	if port != "0" {
		var udps []*net.UDPConn
		for range max(workers, 1) {
			udp, err := listenUDP(addr, true)
			if err != nil {
				closeAll(udps)
				return nil, nil, err
			}
			udps = append(udps, udp)
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			closeAll(udps)
			return nil, nil, fmt.Errorf("listening on TCP: %w", err)
		}
		return udps, ln, nil
	}
	for attempt := 0; ; attempt++ {
		udp, err := listenUDP(addr, false)
		if err != nil {
			return nil, nil, err
		}
		actual := strconv.Itoa(udp.LocalAddr().(*net.UDPAddr).Port)
		ln, err := net.Listen("tcp", net.JoinHostPort(host, actual))
		if err == nil {
			return []*net.UDPConn{udp}, ln, nil
		}
		udp.Close()
		if attempt >= 10 {
			return nil, nil, fmt.Errorf("listening on TCP: %w", err)
		}
	}
}

func listenUDP(addr string, reusePort bool) (*net.UDPConn, error) {
	var lc net.ListenConfig
	if reusePort {
		lc.Control = func(_, _ string, c syscall.RawConn) error {
			var serr error
			if err := c.Control(func(fd uintptr) {
				serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
			}); err != nil {
				return err
			}
			return serr
		}
	}
	pc, err := lc.ListenPacket(context.Background(), "udp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening on UDP: %w", err)
	}
	return pc.(*net.UDPConn), nil
}

func closeAll(udps []*net.UDPConn) {
	for _, u := range udps {
		u.Close()
	}
}
