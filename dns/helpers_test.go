package dns

import (
	"net/netip"
	"os"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
	clocktesting "k8s.io/utils/clock/testing"
)

// newFakeClock returns k8s' settable clock stopped at a fixed time.
func newFakeClock() *clocktesting.FakeClock {
	return clocktesting.NewFakeClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
}

func mustStore(t testing.TB) *Store {
	t.Helper()
	s, err := NewStore(StoreConfig{Clock: newFakeClock()})
	if err != nil {
		t.Fatalf("NewStore: %v", err)
	}
	return s
}

func ip(s string) netip.Addr { return netip.MustParseAddr(s) }

func mustUpsertService(t testing.TB, s *Store, svc Service) {
	t.Helper()
	if err := s.UpsertService(svc); err != nil {
		t.Fatalf("UpsertService %s/%s: %v", svc.Namespace, svc.Name, err)
	}
}

func mustUpsertEndpoints(t testing.TB, s *Store, e Endpoints) {
	t.Helper()
	if err := s.UpsertEndpoints(e); err != nil {
		t.Fatalf("UpsertEndpoints %s/%s: %v", e.Namespace, e.Name, err)
	}
}

// fixture loads the services the tests share:
//   - default/web: ClusterIP 10.96.0.10 + fd00::10, ports http (80/TCP), dns (53/UDP), an unnamed 8080
//   - default/db: headless, ready 10.1.0.1 (hostname db-0), 10.1.0.2 (no hostname),
//     not ready 10.1.0.3, ports pg (5432/TCP)
//   - default/ext: ExternalName www.example.com
//   - other/empty: headless without endpoints
func fixture(t testing.TB, s *Store) {
	t.Helper()
	mustUpsertService(t, s, Service{Namespace: "default", Name: "web", Type: TypeClusterIP,
		ClusterIPs: []netip.Addr{ip("10.96.0.10"), ip("fd00::10")},
		Ports: []Port{{Name: "http", Protocol: "TCP", Port: 80}, {Name: "dns", Protocol: "UDP", Port: 53},
			{Protocol: "TCP", Port: 8080}}})
	mustUpsertService(t, s, Service{Namespace: "default", Name: "db", Type: TypeClusterIP, Headless: true,
		Ports: []Port{{Name: "pg", Protocol: "TCP", Port: 5432}}})
	mustUpsertEndpoints(t, s, Endpoints{Namespace: "default", Name: "db", Subsets: []Subset{{
		Addresses:         []Address{{IP: ip("10.1.0.1"), Hostname: "db-0"}, {IP: ip("10.1.0.2")}},
		NotReadyAddresses: []Address{{IP: ip("10.1.0.3"), Hostname: "db-2"}},
		Ports:             []Port{{Name: "pg", Protocol: "TCP", Port: 5432}},
	}}})
	mustUpsertService(t, s, Service{Namespace: "default", Name: "ext", Type: TypeExternalName, ExternalName: "www.example.com"})
	mustUpsertService(t, s, Service{Namespace: "other", Name: "empty", Type: TypeClusterIP, Headless: true})
}

// ask answers one question on the message path.
func ask(t testing.TB, s *Store, name string, qtype uint16) *mdns.Msg {
	t.Helper()
	req := new(mdns.Msg)
	req.SetQuestion(name, qtype)
	resp, forward := s.respondMsg(req)
	if forward {
		t.Fatalf("%s %s: store wants to forward", name, mdns.TypeToString[qtype])
	}
	return resp
}

// rrStrings renders records without their TTLs being special.
func rrStrings(rrs []mdns.RR) []string {
	out := make([]string, 0, len(rrs))
	for _, rr := range rrs {
		out = append(out, rr.String())
	}
	return out
}

func writeFile(path, content string) error { return os.WriteFile(path, []byte(content), 0o644) }
