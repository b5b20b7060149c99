package dns

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	mdns "github.com/miekg/dns"
)

func lowerAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strings.ToLower(s)
	}
	slices.Sort(out)
	return out
}

// TestFastPathMatchesMessagePath checks that the wire fast path answers
// exactly what the message path answers, for every name the fixture has,
// every common type, with and without EDNS, in mixed case.
func TestFastPathMatchesMessagePath(t *testing.T) {
	s := mustStore(t)
	fixture(t, s)
	names := append(s.Names(), "missing.default.svc.cluster.local.", "nons.svc.cluster.local.", "x.y.cluster.local.")
	types := []uint16{mdns.TypeA, mdns.TypeAAAA, mdns.TypeSRV, mdns.TypePTR, mdns.TypeCNAME, mdns.TypeTXT, mdns.TypeSOA, mdns.TypeMX, mdns.TypeANY}
	out := make([]byte, maxUDPSize)
	checked := 0
	for _, name := range names {
		for _, qt := range types {
			for _, edns := range []bool{false, true} {
				for _, variant := range []string{name, strings.ToUpper(name)} {
					req := new(mdns.Msg)
					req.SetQuestion(variant, qt)
					req.Id = 4242
					req.CheckingDisabled = true
					if edns {
						req.SetEdns0(1400, false)
					}
					wire, err := req.Pack()
					if err != nil {
						t.Fatal(err)
					}
					n := s.fastRespond(wire, out, true)
					if n == 0 {
						t.Fatalf("%s %s: fast path declined a plain question about the zone", variant, mdns.TypeToString[qt])
					}
					fast := new(mdns.Msg)
					if err := fast.Unpack(out[:n]); err != nil {
						t.Fatalf("%s %s: fast response does not parse: %v", variant, mdns.TypeToString[qt], err)
					}
					ref, fwd := s.respondMsg(req)
					if fwd {
						t.Fatalf("%s: message path forwards a name the fast path answers", variant)
					}
					what := fmt.Sprintf("%s %s edns=%v", variant, mdns.TypeToString[qt], edns)
					if fast.Id != req.Id || fast.Rcode != ref.Rcode || fast.Authoritative != ref.Authoritative ||
						fast.RecursionAvailable != ref.RecursionAvailable || fast.RecursionDesired != req.RecursionDesired ||
						!fast.CheckingDisabled || fast.Truncated || !fast.Response {
						t.Fatalf("%s: header differs:\nfast %v\nref  %v", what, fast.MsgHdr, ref.MsgHdr)
					}
					if fast.Question[0] != req.Question[0] {
						t.Fatalf("%s: question not echoed: %v", what, fast.Question)
					}
					for i, pair := range [][2][]mdns.RR{{fast.Answer, ref.Answer}, {fast.Ns, ref.Ns}, {fast.Extra, ref.Extra}} {
						if f, r := lowerAll(rrStrings(pair[0])), lowerAll(rrStrings(pair[1])); !slices.Equal(f, r) {
							t.Fatalf("%s: section %d differs:\nfast %q\nref  %q", what, i, f, r)
						}
					}
					if (fast.IsEdns0() != nil) != edns {
						t.Fatalf("%s: EDNS in response %v, in query %v", what, fast.IsEdns0() != nil, edns)
					}
					checked++
				}
			}
		}
	}
	if checked < 500 {
		t.Fatalf("only %d comparisons", checked)
	}
}

func TestFastPathDeclines(t *testing.T) {
	s := mustStore(t)
	fixture(t, s)
	out := make([]byte, maxUDPSize)
	cases := map[string]*mdns.Msg{
		"outside zone":  question("example.com.", mdns.TypeA),
		"unknown PTR":   question("9.9.9.9.in-addr.arpa.", mdns.TypePTR),
		"pod name":      question("10-0-0-1.default.pod.cluster.local.", mdns.TypeA),
		"escaped label": question(`a\.b.default.svc.cluster.local.`, mdns.TypeA),
		"class CHAOS": func() *mdns.Msg {
			m := question("web.default.svc.cluster.local.", mdns.TypeA)
			m.Question[0].Qclass = mdns.ClassCHAOS
			return m
		}(),
		"opcode notify": func() *mdns.Msg {
			m := question("web.default.svc.cluster.local.", mdns.TypeA)
			m.Opcode = mdns.OpcodeNotify
			return m
		}(),
		"EDNS version 1": func() *mdns.Msg {
			m := question("web.default.svc.cluster.local.", mdns.TypeA)
			m.SetEdns0(1232, false)
			m.IsEdns0().SetVersion(1)
			return m
		}(),
		"is a response": func() *mdns.Msg {
			m := question("web.default.svc.cluster.local.", mdns.TypeA)
			m.Response = true
			return m
		}(),
	}
	for what, m := range cases {
		wire, err := m.Pack()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if n := s.fastRespond(wire, out, true); n != 0 {
			t.Fatalf("%s: fast path answered (%d bytes), want it to decline", what, n)
		}
	}
	for _, n := range []int{0, 5, 12, 16} {
		if s.fastRespond(make([]byte, n), out, true) != 0 {
			t.Fatalf("fast path answered a %d-byte packet of zeros", n)
		}
	}
}

// headless100 adds default/big, a headless service with 100 ready endpoints.
func headless100(t testing.TB, s *Store) {
	t.Helper()
	mustUpsertService(t, s, Service{Namespace: "default", Name: "big", Headless: true})
	var addrs []Address
	for i := range 100 {
		addrs = append(addrs, Address{IP: netip.AddrFrom4([4]byte{10, 5, byte(i / 250), byte(i%250 + 1)})})
	}
	mustUpsertEndpoints(t, s, Endpoints{Namespace: "default", Name: "big", Subsets: []Subset{{Addresses: addrs,
		Ports: []Port{{Name: "http", Protocol: "TCP", Port: 80}}}}})
}

func TestFastPathTruncates(t *testing.T) {
	s := mustStore(t)
	headless100(t, s)
	out := make([]byte, maxUDPSize)
	for _, c := range []struct {
		edns      uint16
		truncated bool
	}{{0, true}, {1232, true}, {4096, false}} {
		req := question("big.default.svc.cluster.local.", mdns.TypeA)
		limit := 512
		if c.edns > 0 {
			req.SetEdns0(c.edns, false)
			limit = int(c.edns)
		}
		wire, _ := req.Pack()
		n := s.fastRespond(wire, out, true)
		if n == 0 || n > limit {
			t.Fatalf("edns %d: response of %d bytes, limit %d", c.edns, n, limit)
		}
		resp := new(mdns.Msg)
		if err := resp.Unpack(out[:n]); err != nil {
			t.Fatalf("edns %d: %v", c.edns, err)
		}
		if resp.Truncated != c.truncated {
			t.Fatalf("edns %d: TC=%v, want %v", c.edns, resp.Truncated, c.truncated)
		}
		if c.truncated && (len(resp.Answer) == 0 || len(resp.Answer) >= 100) {
			t.Fatalf("edns %d: truncated answer has %d records", c.edns, len(resp.Answer))
		}
		if !c.truncated && len(resp.Answer) != 100 {
			t.Fatalf("edns %d: %d records, want 100", c.edns, len(resp.Answer))
		}
		if (resp.IsEdns0() != nil) != (c.edns > 0) {
			t.Fatalf("edns %d: OPT in response: %v", c.edns, resp.IsEdns0() != nil)
		}
	}
	// TCP has room for everything.
	big := make([]byte, 65535)
	wire, _ := question("big.default.svc.cluster.local.", mdns.TypeA).Pack()
	n := s.fastRespond(wire, big, false)
	resp := new(mdns.Msg)
	if err := resp.Unpack(big[:n]); err != nil || resp.Truncated || len(resp.Answer) != 100 {
		t.Fatalf("over TCP: err %v, TC %v, %d answers", err, resp.Truncated, len(resp.Answer))
	}
}
