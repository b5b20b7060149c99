package dns

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	mdns "github.com/miekg/dns"
)

// short renders a record as "name TYPE rdata" (no TTL, no class).
func short(rr mdns.RR) string {
	f := strings.Fields(rr.String())
	return f[0] + " " + f[3] + " " + strings.Join(f[4:], " ")
}

func shorts(rrs []mdns.RR) []string {
	out := make([]string, 0, len(rrs))
	for _, rr := range rrs {
		if rr.Header().Rrtype == mdns.TypeOPT {
			continue
		}
		out = append(out, short(rr))
	}
	slices.Sort(out)
	return out
}

func checkAnswer(t *testing.T, resp *mdns.Msg, rcode int, answer ...string) {
	t.Helper()
	if resp.Rcode != rcode {
		t.Fatalf("%v: rcode %s, want %s\n%v", resp.Question, mdns.RcodeToString[resp.Rcode], mdns.RcodeToString[rcode], resp)
	}
	// Names compare case-insensitively: answers may echo the question's case.
	answer = lowerAll(answer)
	if got := lowerAll(shorts(resp.Answer)); !slices.Equal(got, answer) {
		t.Fatalf("%v: answer\n  %q\nwant\n  %q", resp.Question, got, answer)
	}
}

// checkNegative checks a NOERROR-no-data or NXDOMAIN answer: empty answer
// and the zone's SOA in the authority section.
func checkNegative(t *testing.T, resp *mdns.Msg, rcode int, soaOwner string) {
	t.Helper()
	checkAnswer(t, resp, rcode)
	if len(resp.Ns) != 1 || resp.Ns[0].Header().Rrtype != mdns.TypeSOA || resp.Ns[0].Header().Name != soaOwner {
		t.Fatalf("%v: authority %v, want the SOA of %s", resp.Question, resp.Ns, soaOwner)
	}
	ours := inZone(soaOwner, zone) || strings.HasSuffix(soaOwner, "arpa.")
	if resp.Authoritative != ours {
		t.Fatalf("%v: authoritative %v, want %v", resp.Question, resp.Authoritative, ours)
	}
}

const zone = "cluster.local."

func TestClusterIPRecords(t *testing.T) {
	s := mustStore(t)
	fixture(t, s)
	checkAnswer(t, ask(t, s, "web.default.svc.cluster.local.", mdns.TypeA), mdns.RcodeSuccess,
		"web.default.svc.cluster.local. A 10.96.0.10")
	checkAnswer(t, ask(t, s, "WEB.Default.svc.cluster.local.", mdns.TypeAAAA), mdns.RcodeSuccess,
		"web.default.svc.cluster.local. AAAA fd00::10")
	resp := ask(t, s, "_http._tcp.web.default.svc.cluster.local.", mdns.TypeSRV)
	checkAnswer(t, resp, mdns.RcodeSuccess, "_http._tcp.web.default.svc.cluster.local. SRV 0 100 80 web.default.svc.cluster.local.")
	if got := shorts(resp.Extra); !slices.Equal(got, []string{"web.default.svc.cluster.local. A 10.96.0.10", "web.default.svc.cluster.local. AAAA fd00::10"}) {
		t.Fatalf("SRV additional section: %q", got)
	}
	checkAnswer(t, ask(t, s, "_dns._udp.web.default.svc.cluster.local.", mdns.TypeSRV), mdns.RcodeSuccess,
		"_dns._udp.web.default.svc.cluster.local. SRV 0 100 53 web.default.svc.cluster.local.")
	// The unnamed port has no SRV record, and a named port only exists for its protocol.
	checkNegative(t, ask(t, s, "_http._udp.web.default.svc.cluster.local.", mdns.TypeSRV), mdns.RcodeNameError, zone)
	checkAnswer(t, ask(t, s, "10.0.96.10.in-addr.arpa.", mdns.TypePTR), mdns.RcodeSuccess,
		"10.0.96.10.in-addr.arpa. PTR web.default.svc.cluster.local.")
	rev, _ := mdns.ReverseAddr("fd00::10")
	checkAnswer(t, ask(t, s, rev, mdns.TypePTR), mdns.RcodeSuccess, rev+" PTR web.default.svc.cluster.local.")
	// NODATA at a reverse name uses the reverse tree's SOA.
	checkNegative(t, ask(t, s, "10.0.96.10.in-addr.arpa.", mdns.TypeA), mdns.RcodeSuccess, "in-addr.arpa.")
}

func TestHeadlessRecords(t *testing.T) {
	s := mustStore(t)
	fixture(t, s)
	checkAnswer(t, ask(t, s, "db.default.svc.cluster.local.", mdns.TypeA), mdns.RcodeSuccess,
		"db.default.svc.cluster.local. A 10.1.0.1", "db.default.svc.cluster.local. A 10.1.0.2")
	checkAnswer(t, ask(t, s, "db-0.db.default.svc.cluster.local.", mdns.TypeA), mdns.RcodeSuccess,
		"db-0.db.default.svc.cluster.local. A 10.1.0.1")
	checkAnswer(t, ask(t, s, "10-1-0-2.db.default.svc.cluster.local.", mdns.TypeA), mdns.RcodeSuccess,
		"10-1-0-2.db.default.svc.cluster.local. A 10.1.0.2")
	// Not-ready endpoints are not published.
	checkNegative(t, ask(t, s, "db-2.db.default.svc.cluster.local.", mdns.TypeA), mdns.RcodeNameError, zone)
	resp := ask(t, s, "_pg._tcp.db.default.svc.cluster.local.", mdns.TypeSRV)
	checkAnswer(t, resp, mdns.RcodeSuccess,
		"_pg._tcp.db.default.svc.cluster.local. SRV 0 100 5432 db-0.db.default.svc.cluster.local.",
		"_pg._tcp.db.default.svc.cluster.local. SRV 0 100 5432 10-1-0-2.db.default.svc.cluster.local.")
	if got := shorts(resp.Extra); !slices.Equal(got, []string{"10-1-0-2.db.default.svc.cluster.local. A 10.1.0.2", "db-0.db.default.svc.cluster.local. A 10.1.0.1"}) {
		t.Fatalf("SRV additional section: %q", got)
	}
	checkAnswer(t, ask(t, s, "1.0.1.10.in-addr.arpa.", mdns.TypePTR), mdns.RcodeSuccess,
		"1.0.1.10.in-addr.arpa. PTR db-0.db.default.svc.cluster.local.")
	checkAnswer(t, ask(t, s, "2.0.1.10.in-addr.arpa.", mdns.TypePTR), mdns.RcodeSuccess,
		"2.0.1.10.in-addr.arpa. PTR 10-1-0-2.db.default.svc.cluster.local.")
	// No ready endpoints: NXDOMAIN (spec 2.4.1), but the namespace exists.
	checkNegative(t, ask(t, s, "empty.other.svc.cluster.local.", mdns.TypeA), mdns.RcodeNameError, zone)
	checkNegative(t, ask(t, s, "other.svc.cluster.local.", mdns.TypeA), mdns.RcodeSuccess, zone)
}

func TestPublishNotReadyAddresses(t *testing.T) {
	s := mustStore(t)
	fixture(t, s)
	mustUpsertService(t, s, Service{Namespace: "default", Name: "db", Headless: true, PublishNotReadyAddresses: true})
	checkAnswer(t, ask(t, s, "db.default.svc.cluster.local.", mdns.TypeA), mdns.RcodeSuccess,
		"db.default.svc.cluster.local. A 10.1.0.1", "db.default.svc.cluster.local. A 10.1.0.2",
		"db.default.svc.cluster.local. A 10.1.0.3")
	checkAnswer(t, ask(t, s, "db-2.db.default.svc.cluster.local.", mdns.TypeA), mdns.RcodeSuccess,
		"db-2.db.default.svc.cluster.local. A 10.1.0.3")
}

func TestExternalNameAndVersion(t *testing.T) {
	s := mustStore(t)
	fixture(t, s)
	for _, qt := range []uint16{mdns.TypeA, mdns.TypeAAAA, mdns.TypeCNAME, mdns.TypeTXT} {
		checkAnswer(t, ask(t, s, "ext.default.svc.cluster.local.", qt), mdns.RcodeSuccess,
			"ext.default.svc.cluster.local. CNAME www.example.com.")
	}
	checkAnswer(t, ask(t, s, "dns-version.cluster.local.", mdns.TypeTXT), mdns.RcodeSuccess,
		`dns-version.cluster.local. TXT "1.1.0"`)
	checkAnswer(t, ask(t, s, "cluster.local.", mdns.TypeSOA), mdns.RcodeSuccess,
		"cluster.local. SOA ns.dns.cluster.local. hostmaster.cluster.local. 1767323045 7200 1800 86400 5")
}

func TestNXDomainVersusNoData(t *testing.T) {
	s := mustStore(t)
	fixture(t, s)
	cases := []struct {
		name  string
		qtype uint16
		rcode int
	}{
		{"web.default.svc.cluster.local.", mdns.TypeMX, mdns.RcodeSuccess},       // exists, other type
		{"db-0.db.default.svc.cluster.local.", mdns.TypeAAAA, mdns.RcodeSuccess}, // exists, other type
		{"cluster.local.", mdns.TypeA, mdns.RcodeSuccess},                        // apex
		{"svc.cluster.local.", mdns.TypeA, mdns.RcodeSuccess},                    // empty non-terminal
		{"default.svc.cluster.local.", mdns.TypeA, mdns.RcodeSuccess},            // namespace
		{"_tcp.web.default.svc.cluster.local.", mdns.TypeSRV, mdns.RcodeSuccess}, // under a service
		{"dns-version.cluster.local.", mdns.TypeA, mdns.RcodeSuccess},            // TXT only
		{"missing.default.svc.cluster.local.", mdns.TypeA, mdns.RcodeNameError},  // no such service
		{"web.nons.svc.cluster.local.", mdns.TypeA, mdns.RcodeNameError},         // no such namespace
		{"nons.svc.cluster.local.", mdns.TypeA, mdns.RcodeNameError},             // no such namespace
		{"x.web.default.svc.cluster.local.", mdns.TypeA, mdns.RcodeNameError},    // below a ClusterIP service
		{"_x._tcp.web.default.svc.cluster.local.", mdns.TypeSRV, mdns.RcodeNameError},
		{"foo.cluster.local.", mdns.TypeA, mdns.RcodeNameError},
	}
	for _, c := range cases {
		checkNegative(t, ask(t, s, c.name, c.qtype), c.rcode, zone)
	}
}

func TestAnyQuery(t *testing.T) {
	s := mustStore(t)
	fixture(t, s)
	checkAnswer(t, ask(t, s, "web.default.svc.cluster.local.", mdns.TypeANY), mdns.RcodeSuccess,
		"web.default.svc.cluster.local. A 10.96.0.10", "web.default.svc.cluster.local. AAAA fd00::10")
	checkAnswer(t, ask(t, s, "db-0.db.default.svc.cluster.local.", mdns.TypeANY), mdns.RcodeSuccess,
		"db-0.db.default.svc.cluster.local. A 10.1.0.1")
	checkNegative(t, ask(t, s, "default.svc.cluster.local.", mdns.TypeANY), mdns.RcodeSuccess, zone)
}

func TestPodRecords(t *testing.T) {
	s := mustStore(t)
	checkAnswer(t, ask(t, s, "10-1-2-3.default.pod.cluster.local.", mdns.TypeA), mdns.RcodeSuccess,
		"10-1-2-3.default.pod.cluster.local. A 10.1.2.3")
	checkNegative(t, ask(t, s, "10-1-2-3.default.pod.cluster.local.", mdns.TypeAAAA), mdns.RcodeSuccess, zone)
	checkNegative(t, ask(t, s, "default.pod.cluster.local.", mdns.TypeA), mdns.RcodeSuccess, zone)
	checkNegative(t, ask(t, s, "nope.default.pod.cluster.local.", mdns.TypeA), mdns.RcodeNameError, zone)
}

func TestUpdatesAndDeletes(t *testing.T) {
	s := mustStore(t)
	fixture(t, s)
	// Endpoints change: the old address and its names go, the new ones come.
	mustUpsertEndpoints(t, s, Endpoints{Namespace: "default", Name: "db", Subsets: []Subset{{
		Addresses: []Address{{IP: ip("10.1.0.9"), Hostname: "db-0"}},
		Ports:     []Port{{Name: "pg", Protocol: "TCP", Port: 5433}},
	}}})
	checkAnswer(t, ask(t, s, "db.default.svc.cluster.local.", mdns.TypeA), mdns.RcodeSuccess,
		"db.default.svc.cluster.local. A 10.1.0.9")
	checkNegative(t, ask(t, s, "10-1-0-2.db.default.svc.cluster.local.", mdns.TypeA), mdns.RcodeNameError, zone)
	checkAnswer(t, ask(t, s, "_pg._tcp.db.default.svc.cluster.local.", mdns.TypeSRV), mdns.RcodeSuccess,
		"_pg._tcp.db.default.svc.cluster.local. SRV 0 100 5433 db-0.db.default.svc.cluster.local.")
	if resp, fwd := s.respondMsg(question("2.0.1.10.in-addr.arpa.", mdns.TypePTR)); !fwd {
		t.Fatalf("PTR of a removed endpoint still answered locally: %v", resp)
	}

	// Deleting the endpoints makes the headless name NXDOMAIN.
	if err := s.DeleteEndpoints("default", "db"); err != nil {
		t.Fatal(err)
	}
	checkNegative(t, ask(t, s, "db.default.svc.cluster.local.", mdns.TypeA), mdns.RcodeNameError, zone)

	// ClusterIP change.
	mustUpsertService(t, s, Service{Namespace: "default", Name: "web", ClusterIPs: []netip.Addr{ip("10.96.0.11")}})
	checkAnswer(t, ask(t, s, "web.default.svc.cluster.local.", mdns.TypeA), mdns.RcodeSuccess,
		"web.default.svc.cluster.local. A 10.96.0.11")
	checkNegative(t, ask(t, s, "_http._tcp.web.default.svc.cluster.local.", mdns.TypeSRV), mdns.RcodeNameError, zone)

	// Deleting every service of a namespace removes the namespace.
	for _, n := range []string{"web", "db", "ext"} {
		if err := s.DeleteService("default", n); err != nil {
			t.Fatal(err)
		}
	}
	checkNegative(t, ask(t, s, "web.default.svc.cluster.local.", mdns.TypeA), mdns.RcodeNameError, zone)
	checkNegative(t, ask(t, s, "default.svc.cluster.local.", mdns.TypeA), mdns.RcodeNameError, zone)
	if err := s.DeleteService("other", "empty"); err != nil {
		t.Fatal(err)
	}
	want := []string{"cluster.local.", "dns-version.cluster.local.", "pod.cluster.local.", "svc.cluster.local."}
	if got := s.Names(); !slices.Equal(got, want) {
		t.Fatalf("names after deleting everything: %q, want %q", got, want)
	}
	// Deleting again is a no-op.
	if err := s.DeleteService("other", "empty"); err != nil {
		t.Fatal(err)
	}
}

func TestEndpointsBeforeService(t *testing.T) {
	s := mustStore(t)
	mustUpsertEndpoints(t, s, Endpoints{Namespace: "ns", Name: "h", Subsets: []Subset{{Addresses: []Address{{IP: ip("10.2.0.1")}}}}})
	checkNegative(t, ask(t, s, "h.ns.svc.cluster.local.", mdns.TypeA), mdns.RcodeNameError, zone)
	mustUpsertService(t, s, Service{Namespace: "ns", Name: "h", Headless: true})
	checkAnswer(t, ask(t, s, "h.ns.svc.cluster.local.", mdns.TypeA), mdns.RcodeSuccess, "h.ns.svc.cluster.local. A 10.2.0.1")
}

func TestSharedEndpointIPHasTwoPTRs(t *testing.T) {
	s := mustStore(t)
	for _, n := range []string{"a", "b"} {
		mustUpsertService(t, s, Service{Namespace: "ns", Name: n, Headless: true})
		mustUpsertEndpoints(t, s, Endpoints{Namespace: "ns", Name: n, Subsets: []Subset{{Addresses: []Address{{IP: ip("10.3.0.1"), Hostname: "p"}}}}})
	}
	checkAnswer(t, ask(t, s, "1.0.3.10.in-addr.arpa.", mdns.TypePTR), mdns.RcodeSuccess,
		"1.0.3.10.in-addr.arpa. PTR p.a.ns.svc.cluster.local.", "1.0.3.10.in-addr.arpa. PTR p.b.ns.svc.cluster.local.")
	if err := s.DeleteService("ns", "a"); err != nil {
		t.Fatal(err)
	}
	checkAnswer(t, ask(t, s, "1.0.3.10.in-addr.arpa.", mdns.TypePTR), mdns.RcodeSuccess,
		"1.0.3.10.in-addr.arpa. PTR p.b.ns.svc.cluster.local.")
}

func TestInvalidNamesAreReported(t *testing.T) {
	s := mustStore(t)
	err := s.UpsertService(Service{Namespace: "ns", Name: "bad", Type: TypeExternalName, ExternalName: "has space.example.com"})
	if err == nil {
		t.Fatal("an ExternalName that is not a domain name was accepted silently")
	}
	// The namespace still exists: the store stayed consistent.
	checkNegative(t, ask(t, s, "ns.svc.cluster.local.", mdns.TypeA), mdns.RcodeSuccess, zone)
	checkNegative(t, ask(t, s, "bad.ns.svc.cluster.local.", mdns.TypeA), mdns.RcodeNameError, zone)
}

func TestOutsideZoneIsForwarded(t *testing.T) {
	s := mustStore(t)
	fixture(t, s)
	for _, n := range []string{"example.com.", "9.9.9.9.in-addr.arpa.", "local.", "."} {
		if resp, fwd := s.respondMsg(question(n, mdns.TypeA)); !fwd {
			t.Fatalf("%s answered locally: %v", n, resp)
		}
	}
}

func TestCustomZoneAndTTL(t *testing.T) {
	s, err := NewStore(StoreConfig{Zone: "Strom.Test", TTL: 30e9, Clock: newFakeClock()})
	if err != nil {
		t.Fatal(err)
	}
	mustUpsertService(t, s, Service{Namespace: "ns", Name: "a", ClusterIPs: []netip.Addr{ip("10.0.0.1")}})
	resp := ask(t, s, "a.ns.svc.strom.test.", mdns.TypeA)
	checkAnswer(t, resp, mdns.RcodeSuccess, "a.ns.svc.strom.test. A 10.0.0.1")
	if resp.Answer[0].Header().Ttl != 30 {
		t.Fatalf("TTL %d, want 30", resp.Answer[0].Header().Ttl)
	}
	if _, fwd := s.respondMsg(question("a.ns.svc.cluster.local.", mdns.TypeA)); !fwd {
		t.Fatal("cluster.local is not this store's zone and must be forwarded")
	}
}

func question(name string, qtype uint16) *mdns.Msg {
	m := new(mdns.Msg)
	m.SetQuestion(name, qtype)
	return m
}

func TestHeadlessIPv6(t *testing.T) {
	s := mustStore(t)
	mustUpsertService(t, s, Service{Namespace: "ns", Name: "v6", Headless: true})
	mustUpsertEndpoints(t, s, Endpoints{Namespace: "ns", Name: "v6", Subsets: []Subset{{
		Addresses: []Address{{IP: ip("fd00::2")}, {IP: ip("10.9.0.1")}},
		Ports:     []Port{{Name: "web", Protocol: "TCP", Port: 8080}}}}})
	checkAnswer(t, ask(t, s, "v6.ns.svc.cluster.local.", mdns.TypeAAAA), mdns.RcodeSuccess, "v6.ns.svc.cluster.local. AAAA fd00::2")
	checkAnswer(t, ask(t, s, "v6.ns.svc.cluster.local.", mdns.TypeA), mdns.RcodeSuccess, "v6.ns.svc.cluster.local. A 10.9.0.1")
	checkAnswer(t, ask(t, s, "fd00--2.v6.ns.svc.cluster.local.", mdns.TypeAAAA), mdns.RcodeSuccess, "fd00--2.v6.ns.svc.cluster.local. AAAA fd00::2")
	checkAnswer(t, ask(t, s, "_web._tcp.v6.ns.svc.cluster.local.", mdns.TypeSRV), mdns.RcodeSuccess,
		"_web._tcp.v6.ns.svc.cluster.local. SRV 0 100 8080 fd00--2.v6.ns.svc.cluster.local.",
		"_web._tcp.v6.ns.svc.cluster.local. SRV 0 100 8080 10-9-0-1.v6.ns.svc.cluster.local.")
	rev, _ := mdns.ReverseAddr("fd00::2")
	checkAnswer(t, ask(t, s, rev, mdns.TypePTR), mdns.RcodeSuccess, rev+" PTR fd00--2.v6.ns.svc.cluster.local.")
	checkNegative(t, ask(t, s, rev, mdns.TypeA), mdns.RcodeSuccess, "ip6.arpa.")
}

// TestHugeHeadlessServiceFitsInMessages: 3,000 endpoints with a named port
// give SRV answers far beyond 64 KiB; they are cut to fit, not lost.
func TestHugeHeadlessServiceFitsInMessages(t *testing.T) {
	s := mustStore(t)
	mustUpsertService(t, s, Service{Namespace: "ns", Name: "huge", Headless: true})
	var addrs []Address
	for i := range 3000 {
		addrs = append(addrs, Address{IP: netip.AddrFrom4([4]byte{10, 7, byte(i >> 8), byte(i)}), Hostname: fmt.Sprintf("pod-with-a-long-hostname-%d", i)})
	}
	mustUpsertEndpoints(t, s, Endpoints{Namespace: "ns", Name: "huge", Subsets: []Subset{{Addresses: addrs,
		Ports: []Port{{Name: "http", Protocol: "TCP", Port: 80}}}}})
	resp := ask(t, s, "_http._tcp.huge.ns.svc.cluster.local.", mdns.TypeSRV)
	resp.Compress = true
	if n := len(resp.Answer); n == 0 || n >= 3000 {
		t.Fatalf("%d SRV records, want a non-empty cut", n)
	}
	if _, err := resp.Pack(); err != nil {
		t.Fatalf("cut answer does not pack: %v", err)
	}
	if got := len(ask(t, s, "huge.ns.svc.cluster.local.", mdns.TypeA).Answer); got != 3000 {
		t.Fatalf("%d A records, want all 3000 (they fit)", got)
	}
}
