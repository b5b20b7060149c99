package dns

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"testing"

	mdns "github.com/miekg/dns"
)

// benchStore holds 1000 ClusterIP services over 10 namespaces.
func benchStore(b *testing.B) *Store {
	b.Helper()
	s := mustStore(b)
	for i := range 1000 {
		mustUpsertService(b, s, Service{Namespace: fmt.Sprintf("ns%d", i%10), Name: fmt.Sprintf("svc%d", i),
			ClusterIPs: []netip.Addr{netip.AddrFrom4([4]byte{10, 96, byte(i >> 8), byte(i)})},
			Ports:      []Port{{Name: "http", Protocol: "TCP", Port: 80}}})
	}
	return s
}

func packed(b *testing.B, name string, qtype uint16, edns bool) []byte {
	m := question(name, qtype)
	if edns {
		m.SetEdns0(1232, false)
	}
	wire, err := m.Pack()
	if err != nil {
		b.Fatal(err)
	}
	return wire
}

// BenchmarkFastRespond is the UDP hot path without the sockets.
func BenchmarkFastRespond(b *testing.B) {
	s := benchStore(b)
	for _, c := range []struct {
		what  string
		name  string
		qtype uint16
	}{
		{"A", "svc500.ns0.svc.cluster.local.", mdns.TypeA},
		{"SRV", "_http._tcp.svc500.ns0.svc.cluster.local.", mdns.TypeSRV},
		{"NXDOMAIN", "nope.ns0.svc.cluster.local.", mdns.TypeA},
	} {
		q := packed(b, c.name, c.qtype, true)
		out := make([]byte, maxUDPSize)
		b.Run(c.what, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if s.fastRespond(q, out, true) == 0 {
					b.Fatal("declined")
				}
			}
		})
	}
}

func BenchmarkFastRespondParallel(b *testing.B) {
	s := benchStore(b)
	q := packed(b, "svc500.ns0.svc.cluster.local.", mdns.TypeA, false)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		out := make([]byte, maxUDPSize)
		for pb.Next() {
			if s.fastRespond(q, out, true) == 0 {
				b.Fatal("declined")
			}
		}
	})
}

// BenchmarkMessagePath is what TCP and unusual UDP queries cost: unpack,
// answer as a message, pack.
func BenchmarkMessagePath(b *testing.B) {
	s := benchStore(b)
	q := packed(b, "svc500.ns0.svc.cluster.local.", mdns.TypeA, true)
	b.ReportAllocs()
	for b.Loop() {
		req := new(mdns.Msg)
		if err := req.Unpack(q); err != nil {
			b.Fatal(err)
		}
		resp, _ := s.respondMsg(req)
		if _, err := resp.Pack(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkServerUDP measures round trips over loopback through the real
// server, one query in flight per goroutine.
func BenchmarkServerUDP(b *testing.B) {
	s := benchStore(b)
	srv, err := NewServer(Config{Addr: "127.0.0.1:0", Store: s, Upstreams: []string{"127.0.0.1:9"}})
	if err != nil {
		b.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	defer srv.Stop()
	q := packed(b, "svc500.ns0.svc.cluster.local.", mdns.TypeA, false)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		conn, err := net.Dial("udp", srv.Addr())
		if err != nil {
			b.Error(err)
			return
		}
		defer conn.Close()
		buf := make([]byte, 1500)
		for pb.Next() {
			if _, err := conn.Write(q); err != nil {
				b.Error(err)
				return
			}
			if _, err := conn.Read(buf); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkUpsertEndpoints is the cost of one endpoints change of a
// headless service with 100 endpoints (one address replaced).
func BenchmarkUpsertEndpoints(b *testing.B) {
	s := benchStore(b)
	mustUpsertService(b, s, Service{Namespace: "ns0", Name: "big", Headless: true})
	eps := func(last byte) Endpoints {
		var addrs []Address
		for i := range 99 {
			addrs = append(addrs, Address{IP: netip.AddrFrom4([4]byte{10, 5, 0, byte(i + 1)}), Hostname: fmt.Sprintf("p%d", i)})
		}
		addrs = append(addrs, Address{IP: netip.AddrFrom4([4]byte{10, 5, 1, last})})
		return Endpoints{Namespace: "ns0", Name: "big", Subsets: []Subset{{Addresses: addrs, Ports: []Port{{Name: "http", Protocol: "TCP", Port: 80}}}}}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if err := s.UpsertEndpoints(eps(byte(i))); err != nil {
			b.Fatal(err)
		}
	}
}
