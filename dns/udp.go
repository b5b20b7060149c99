package dns

import (
	"errors"
	"net"
	"net/netip"

	mdns "github.com/miekg/dns"
	"go.uber.org/zap"
)

// readUDP is one UDP worker: plain questions about the zone are answered
// inline from precomputed bytes; anything else goes to a goroutine on the
// message path.
func (s *Server) readUDP(conn *net.UDPConn) {
	defer s.wg.Done()
	buf := make([]byte, 65535)
	out := make([]byte, maxUDPSize)
	for {
		n, addr, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if s.closing.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			s.log.Warn("reading DNS query", zap.Error(err))
			continue
		}
		if m := s.store.fastRespond(buf[:n], out, true); m > 0 {
			if _, err := conn.WriteToUDPAddrPort(out[:m], addr); err != nil && !s.closing.Load() {
				s.log.Debug("writing DNS response", zap.Error(err))
			}
			continue
		}
		select {
		case s.slow <- struct{}{}:
		default:
			s.dropped.Add(1)
			continue
		}
		q := append([]byte(nil), buf[:n]...)
		s.wg.Add(1)
		go func() {
			defer func() { <-s.slow; s.wg.Done() }()
			s.serveSlowUDP(conn, q, addr)
		}()
	}
}

func (s *Server) serveSlowUDP(conn *net.UDPConn, q []byte, addr netip.AddrPort) {
	req := new(mdns.Msg)
	var resp *mdns.Msg
	if err := req.Unpack(q); err != nil {
		if len(q) < 12 {
			return
		}
		resp = formErr(q)
	} else {
		resp = s.handle(req)
		resp.Truncate(udpLimit(req))
	}
	wire, err := resp.Pack()
	if err != nil {
		s.log.Warn("packing DNS response", zap.Error(err))
		return
	}
	if _, err := conn.WriteToUDPAddrPort(wire, addr); err != nil && !s.closing.Load() {
		s.log.Debug("writing DNS response", zap.Error(err))
	}
}

// formErr answers a query that does not parse with FORMERR and its ID.
func formErr(q []byte) *mdns.Msg {
	m := new(mdns.Msg)
	m.Id = uint16(q[0])<<8 | uint16(q[1])
	m.Response = true
	m.Rcode = mdns.RcodeFormatError
	return m
}
