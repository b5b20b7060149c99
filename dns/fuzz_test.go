package dns

import (
	"testing"

	mdns "github.com/miekg/dns"
)

// FuzzFastRespond feeds arbitrary packets to the UDP hot path: it must not
// panic, must stay within the size limit, and whatever it answers must be a
// well-formed response to the query's ID. Packets that parse also go
// through the message path. Seeds are real queries.
func FuzzFastRespond(f *testing.F) {
	s := mustStore(f)
	fixture(f, s)
	headless100(f, s)
	for _, q := range []struct {
		name  string
		qtype uint16
		edns  bool
	}{
		{"web.default.svc.cluster.local.", mdns.TypeA, false},
		{"big.default.svc.cluster.local.", mdns.TypeA, true},
		{"_pg._tcp.db.default.svc.cluster.local.", mdns.TypeSRV, true},
		{"nope.default.svc.cluster.local.", mdns.TypeAAAA, false},
		{"10.0.96.10.in-addr.arpa.", mdns.TypePTR, false},
	} {
		m := question(q.name, q.qtype)
		if q.edns {
			m.SetEdns0(1232, true)
		}
		wire, err := m.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(wire, true)
		f.Add(wire, false)
	}
	f.Fuzz(func(t *testing.T, q []byte, udp bool) {
		// The message path must cope with whatever parses.
		if req := new(mdns.Msg); req.Unpack(q) == nil {
			if resp, fwd := s.respondMsg(req); !fwd {
				resp.Truncate(udpLimit(req))
				if _, err := resp.Pack(); err != nil {
					t.Fatalf("message-path response does not pack: %v\nquery %x", err, q)
				}
			}
		}
		out := make([]byte, 65535)
		if udp {
			out = out[:maxUDPSize]
		}
		n := s.fastRespond(q, out, udp)
		if n == 0 {
			return
		}
		if udp && n > maxUDPSize {
			t.Fatalf("UDP response of %d bytes", n)
		}
		resp := new(mdns.Msg)
		if err := resp.Unpack(out[:n]); err != nil {
			t.Fatalf("response does not parse: %v\nquery %x", err, q)
		}
		if !resp.Response || resp.Id != uint16(q[0])<<8|uint16(q[1]) || len(resp.Question) != 1 {
			t.Fatalf("bad response header %v for query %x", resp.MsgHdr, q)
		}
	})
}
