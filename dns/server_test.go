package dns

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
	"go.uber.org/zap/zaptest"
	"k8s.io/utils/clock"
)

// fakeUpstream is a resolver on loopback that counts the questions it gets.
type fakeUpstream struct {
	addr    string
	queries sync.Map // "name/type" → *atomic.Int64
	udp     *mdns.Server
	tcp     *mdns.Server
}

func (u *fakeUpstream) count(name string, qtype uint16) int64 {
	v, ok := u.queries.Load(fmt.Sprintf("%s/%d", name, qtype))
	if !ok {
		return 0
	}
	return v.(*atomic.Int64).Load()
}

func (u *fakeUpstream) serve(w mdns.ResponseWriter, req *mdns.Msg) {
	q := req.Question[0]
	v, _ := u.queries.LoadOrStore(fmt.Sprintf("%s/%d", mdns.CanonicalName(q.Name), q.Qtype), new(atomic.Int64))
	v.(*atomic.Int64).Add(1)
	resp := new(mdns.Msg)
	resp.SetReply(req)
	soa := &mdns.SOA{Hdr: mdns.RR_Header{Name: "example.com.", Rrtype: mdns.TypeSOA, Class: mdns.ClassINET, Ttl: 10},
		Ns: "ns.example.com.", Mbox: "h.example.com.", Serial: 1, Refresh: 1, Retry: 1, Expire: 1, Minttl: 10}
	switch mdns.CanonicalName(q.Name) {
	case "example.com.":
		resp.Answer = append(resp.Answer, &mdns.A{Hdr: mdns.RR_Header{Name: q.Name, Rrtype: mdns.TypeA, Class: mdns.ClassINET, Ttl: 60}, A: net.IPv4(192, 0, 2, 1)})
	case "nx.example.com.":
		resp.Rcode = mdns.RcodeNameError
		resp.Ns = []mdns.RR{soa}
	case "big.example.com.":
		for i := range 60 {
			resp.Answer = append(resp.Answer, &mdns.A{Hdr: mdns.RR_Header{Name: q.Name, Rrtype: mdns.TypeA, Class: mdns.ClassINET, Ttl: 60}, A: net.IPv4(192, 0, 2, byte(i+1))})
		}
		if _, isUDP := w.RemoteAddr().(*net.UDPAddr); isUDP {
			resp.Truncate(512)
		}
	case "fail.example.com.":
		resp.Rcode = mdns.RcodeServerFailure
	default:
		resp.Rcode = mdns.RcodeNameError
		resp.Ns = []mdns.RR{soa}
	}
	w.WriteMsg(resp)
}

func startUpstream(t *testing.T) *fakeUpstream {
	t.Helper()
	u := &fakeUpstream{}
	udps, ln, err := listenAll("127.0.0.1:0", 1)
	if err != nil {
		t.Fatalf("upstream: %v", err)
	}
	pc := udps[0]
	u.addr = pc.LocalAddr().String()
	var started sync.WaitGroup
	started.Add(2)
	u.udp = &mdns.Server{PacketConn: pc, Handler: mdns.HandlerFunc(u.serve), NotifyStartedFunc: started.Done}
	u.tcp = &mdns.Server{Listener: ln, Handler: mdns.HandlerFunc(u.serve), NotifyStartedFunc: started.Done}
	go u.udp.ActivateAndServe()
	go u.tcp.ActivateAndServe()
	started.Wait()
	t.Cleanup(func() {
		u.udp.Shutdown()
		u.tcp.Shutdown()
	})
	return u
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close()
	return addr
}

func startServer(t *testing.T, s *Store, upstreams []string, clk clock.PassiveClock) *Server {
	t.Helper()
	if len(upstreams) == 0 {
		upstreams = []string{closedPort(t)}
	}
	srv, err := NewServer(Config{Addr: "127.0.0.1:0", Store: s, Upstreams: upstreams, Clock: clk,
		Logger: zaptest.NewLogger(t), UpstreamTimeout: time.Second})
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(srv.Stop)
	return srv
}

func exchange(t *testing.T, addr, network, name string, qtype uint16, edns uint16) *mdns.Msg {
	t.Helper()
	req := question(name, qtype)
	if edns > 0 {
		req.SetEdns0(edns, false)
	}
	c := &mdns.Client{Net: network, Timeout: 3 * time.Second, UDPSize: 65535}
	resp, _, err := c.Exchange(req, addr)
	if err != nil {
		t.Fatalf("%s %s over %s: %v", name, mdns.TypeToString[qtype], network, err)
	}
	if resp.Id != req.Id {
		t.Fatalf("%s: response ID %d, query ID %d", name, resp.Id, req.Id)
	}
	return resp
}

func TestServerAnswersEveryRecordType(t *testing.T) {
	s := mustStore(t)
	fixture(t, s)
	srv := startServer(t, s, nil, nil)
	for _, network := range []string{"udp", "tcp"} {
		for _, edns := range []uint16{0, 1232} {
			a := func(name string, qtype uint16) *mdns.Msg { return exchange(t, srv.Addr(), network, name, qtype, edns) }
			checkAnswer(t, a("web.default.svc.cluster.local.", mdns.TypeA), mdns.RcodeSuccess, "web.default.svc.cluster.local. A 10.96.0.10")
			checkAnswer(t, a("web.default.svc.cluster.local.", mdns.TypeAAAA), mdns.RcodeSuccess, "web.default.svc.cluster.local. AAAA fd00::10")
			checkAnswer(t, a("_http._tcp.web.default.svc.cluster.local.", mdns.TypeSRV), mdns.RcodeSuccess,
				"_http._tcp.web.default.svc.cluster.local. SRV 0 100 80 web.default.svc.cluster.local.")
			checkAnswer(t, a("db.default.svc.cluster.local.", mdns.TypeA), mdns.RcodeSuccess,
				"db.default.svc.cluster.local. A 10.1.0.1", "db.default.svc.cluster.local. A 10.1.0.2")
			checkAnswer(t, a("db-0.db.default.svc.cluster.local.", mdns.TypeA), mdns.RcodeSuccess, "db-0.db.default.svc.cluster.local. A 10.1.0.1")
			checkAnswer(t, a("_pg._tcp.db.default.svc.cluster.local.", mdns.TypeSRV), mdns.RcodeSuccess,
				"_pg._tcp.db.default.svc.cluster.local. SRV 0 100 5432 db-0.db.default.svc.cluster.local.",
				"_pg._tcp.db.default.svc.cluster.local. SRV 0 100 5432 10-1-0-2.db.default.svc.cluster.local.")
			checkAnswer(t, a("10.0.96.10.in-addr.arpa.", mdns.TypePTR), mdns.RcodeSuccess, "10.0.96.10.in-addr.arpa. PTR web.default.svc.cluster.local.")
			checkAnswer(t, a("1.0.1.10.in-addr.arpa.", mdns.TypePTR), mdns.RcodeSuccess, "1.0.1.10.in-addr.arpa. PTR db-0.db.default.svc.cluster.local.")
			checkAnswer(t, a("ext.default.svc.cluster.local.", mdns.TypeA), mdns.RcodeSuccess, "ext.default.svc.cluster.local. CNAME www.example.com.")
			checkAnswer(t, a("dns-version.cluster.local.", mdns.TypeTXT), mdns.RcodeSuccess, `dns-version.cluster.local. TXT "1.1.0"`)
			checkAnswer(t, a("10-1-2-3.default.pod.cluster.local.", mdns.TypeA), mdns.RcodeSuccess, "10-1-2-3.default.pod.cluster.local. A 10.1.2.3")
			// Negative answers.
			checkNegative(t, a("web.default.svc.cluster.local.", mdns.TypeTXT), mdns.RcodeSuccess, zone)
			checkNegative(t, a("default.svc.cluster.local.", mdns.TypeA), mdns.RcodeSuccess, zone)
			checkNegative(t, a("svc.cluster.local.", mdns.TypeA), mdns.RcodeSuccess, zone)
			checkNegative(t, a("nope.default.svc.cluster.local.", mdns.TypeA), mdns.RcodeNameError, zone)
			checkNegative(t, a("empty.other.svc.cluster.local.", mdns.TypeA), mdns.RcodeNameError, zone)
			// Mixed case is answered, and the question echoed as asked.
			r := a("Web.DEFAULT.svc.Cluster.Local.", mdns.TypeA)
			checkAnswer(t, r, mdns.RcodeSuccess, "web.default.svc.cluster.local. A 10.96.0.10")
			if r.Question[0].Name != "Web.DEFAULT.svc.Cluster.Local." {
				t.Fatalf("question not echoed: %v", r.Question)
			}
			if got := r.IsEdns0() != nil; got != (edns > 0) {
				t.Fatalf("%s edns=%d: OPT in response: %v", network, edns, got)
			}
		}
	}
}

func TestServerTruncatesOverUDPThenAnswersOverTCP(t *testing.T) {
	s := mustStore(t)
	headless100(t, s)
	srv := startServer(t, s, nil, nil)
	for _, qt := range []uint16{mdns.TypeA, mdns.TypeSRV} {
		name := "big.default.svc.cluster.local."
		if qt == mdns.TypeSRV {
			name = "_http._tcp." + name
		}
		udp := exchange(t, srv.Addr(), "udp", name, qt, 0)
		if !udp.Truncated || len(udp.Answer) >= 100 {
			t.Fatalf("%s over UDP: TC=%v with %d answers, want truncation", name, udp.Truncated, len(udp.Answer))
		}
		udp.Compress = true
		if udp.Len() > 512 {
			t.Fatalf("%s over UDP: %d bytes without EDNS", name, udp.Len())
		}
		tcp := exchange(t, srv.Addr(), "tcp", name, qt, 0)
		if tcp.Truncated || len(tcp.Answer) != 100 {
			t.Fatalf("%s over TCP: TC=%v with %d answers, want 100", name, tcp.Truncated, len(tcp.Answer))
		}
		if qt == mdns.TypeSRV && len(tcp.Extra) != 100 {
			t.Fatalf("SRV over TCP: %d additional records, want 100", len(tcp.Extra))
		}
	}
}

func TestServerForwardsAndCaches(t *testing.T) {
	s := mustStore(t)
	up := startUpstream(t)
	clock := newFakeClock()
	srv := startServer(t, s, []string{up.addr}, clock)

	r := exchange(t, srv.Addr(), "udp", "example.com.", mdns.TypeA, 0)
	checkAnswer(t, r, mdns.RcodeSuccess, "example.com. A 192.0.2.1")
	if r.Authoritative || !r.RecursionAvailable {
		t.Fatalf("forwarded answer: AA=%v RA=%v", r.Authoritative, r.RecursionAvailable)
	}
	clock.Step(20 * time.Second)
	r = exchange(t, srv.Addr(), "tcp", "EXAMPLE.com.", mdns.TypeA, 1232)
	checkAnswer(t, r, mdns.RcodeSuccess, "EXAMPLE.com. A 192.0.2.1")
	if got := up.count("example.com.", mdns.TypeA); got != 1 {
		t.Fatalf("upstream asked %d times, want 1 (second answer from cache)", got)
	}
	if ttl := r.Answer[0].Header().Ttl; ttl != 40 {
		t.Fatalf("cached TTL %d, want 60-20=40", ttl)
	}
	clock.Step(41 * time.Second)
	exchange(t, srv.Addr(), "udp", "example.com.", mdns.TypeA, 0)
	if got := up.count("example.com.", mdns.TypeA); got != 2 {
		t.Fatalf("upstream asked %d times after expiry, want 2", got)
	}

	// Negative answers are cached for the SOA's negative TTL.
	for range 3 {
		checkNegative(t, exchange(t, srv.Addr(), "udp", "nx.example.com.", mdns.TypeA, 0), mdns.RcodeNameError, "example.com.")
	}
	if got := up.count("nx.example.com.", mdns.TypeA); got != 1 {
		t.Fatalf("NXDOMAIN asked upstream %d times, want 1", got)
	}
	clock.Step(11 * time.Second)
	exchange(t, srv.Addr(), "udp", "nx.example.com.", mdns.TypeA, 0)
	if got := up.count("nx.example.com.", mdns.TypeA); got != 2 {
		t.Fatalf("NXDOMAIN asked upstream %d times after its TTL, want 2", got)
	}

	// SERVFAIL from upstream is passed on and not cached.
	for range 2 {
		if r := exchange(t, srv.Addr(), "udp", "fail.example.com.", mdns.TypeA, 0); r.Rcode != mdns.RcodeServerFailure {
			t.Fatalf("rcode %s, want SERVFAIL", mdns.RcodeToString[r.Rcode])
		}
	}
	if got := up.count("fail.example.com.", mdns.TypeA); got != 2 {
		t.Fatalf("failing name asked upstream %d times, want 2 (no caching)", got)
	}

	// A truncated upstream answer is fetched again over TCP; our UDP
	// client gets TC, our TCP client everything.
	if r := exchange(t, srv.Addr(), "udp", "big.example.com.", mdns.TypeA, 0); !r.Truncated {
		t.Fatalf("big forwarded answer over UDP not truncated (%d answers)", len(r.Answer))
	}
	if r := exchange(t, srv.Addr(), "tcp", "big.example.com.", mdns.TypeA, 0); r.Truncated || len(r.Answer) != 60 {
		t.Fatalf("big forwarded answer over TCP: TC=%v, %d answers", r.Truncated, len(r.Answer))
	}
	if got := up.count("big.example.com.", mdns.TypeA); got != 2 { // one UDP, one TCP, then cached
		t.Fatalf("big name asked upstream %d times, want 2", got)
	}
}

func TestServerUpstreamDownIsServfail(t *testing.T) {
	s := mustStore(t)
	srv := startServer(t, s, []string{closedPort(t)}, nil)
	if r := exchange(t, srv.Addr(), "udp", "example.com.", mdns.TypeA, 1232); r.Rcode != mdns.RcodeServerFailure {
		t.Fatalf("rcode %s, want SERVFAIL", mdns.RcodeToString[r.Rcode])
	}
}

func TestServerSecondUpstreamUsedWhenFirstFails(t *testing.T) {
	s := mustStore(t)
	up := startUpstream(t)
	srv := startServer(t, s, []string{closedPort(t), up.addr}, nil)
	checkAnswer(t, exchange(t, srv.Addr(), "udp", "example.com.", mdns.TypeA, 0), mdns.RcodeSuccess, "example.com. A 192.0.2.1")
}

func TestServerSeesStoreUpdates(t *testing.T) {
	s := mustStore(t)
	srv := startServer(t, s, nil, nil)
	name := "late.ns.svc.cluster.local."
	checkNegative(t, exchange(t, srv.Addr(), "udp", name, mdns.TypeA, 0), mdns.RcodeNameError, zone)
	mustUpsertService(t, s, Service{Namespace: "ns", Name: "late", ClusterIPs: []netip.Addr{ip("10.96.1.1")}})
	checkAnswer(t, exchange(t, srv.Addr(), "udp", name, mdns.TypeA, 0), mdns.RcodeSuccess, name+" A 10.96.1.1")
	mustUpsertService(t, s, Service{Namespace: "ns", Name: "late", ClusterIPs: []netip.Addr{ip("10.96.1.2")}})
	checkAnswer(t, exchange(t, srv.Addr(), "tcp", name, mdns.TypeA, 0), mdns.RcodeSuccess, name+" A 10.96.1.2")
	if err := s.DeleteService("ns", "late"); err != nil {
		t.Fatal(err)
	}
	checkNegative(t, exchange(t, srv.Addr(), "udp", name, mdns.TypeA, 0), mdns.RcodeNameError, zone)
}

// TestServerConcurrentQueriesAndUpdates runs queries from several clients
// while the endpoints of a headless service flip between two states; every
// answer must be one of the two states, never a mix or an error.
func TestServerConcurrentQueriesAndUpdates(t *testing.T) {
	s := mustStore(t)
	mustUpsertService(t, s, Service{Namespace: "ns", Name: "h", Headless: true})
	stateA := Endpoints{Namespace: "ns", Name: "h", Subsets: []Subset{{Addresses: []Address{{IP: ip("10.4.0.1")}, {IP: ip("10.4.0.2")}}}}}
	stateB := Endpoints{Namespace: "ns", Name: "h", Subsets: []Subset{{Addresses: []Address{{IP: ip("10.4.0.3")}}}}}
	mustUpsertEndpoints(t, s, stateA)
	srv := startServer(t, s, nil, nil)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	var updates atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ctx.Err() == nil && i < 5000; i++ {
			e := stateA
			if i%2 == 1 {
				e = stateB
			}
			if err := s.UpsertEndpoints(e); err != nil {
				t.Errorf("update: %v", err)
				return
			}
			updates.Add(1)
		}
	}()
	var answered atomic.Int64
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			network := []string{"udp", "tcp"}[w%2]
			c := &mdns.Client{Net: network, Timeout: 3 * time.Second}
			for i := 0; ctx.Err() == nil && i < 2000; i++ {
				resp, _, err := c.Exchange(question("h.ns.svc.cluster.local.", mdns.TypeA), srv.Addr())
				if err != nil {
					t.Errorf("query over %s: %v", network, err)
					return
				}
				got := shorts(resp.Answer)
				okA := len(got) == 2 && got[0] == "h.ns.svc.cluster.local. A 10.4.0.1" && got[1] == "h.ns.svc.cluster.local. A 10.4.0.2"
				okB := len(got) == 1 && got[0] == "h.ns.svc.cluster.local. A 10.4.0.3"
				if resp.Rcode != mdns.RcodeSuccess || !(okA || okB) {
					t.Errorf("inconsistent answer: %s %q", mdns.RcodeToString[resp.Rcode], got)
					return
				}
				answered.Add(1)
			}
		}()
	}
	wg.Wait()
	if answered.Load() < 100 || updates.Load() < 100 {
		t.Fatalf("too little concurrency exercised: %d answers, %d updates", answered.Load(), updates.Load())
	}
}

func TestServerStartStop(t *testing.T) {
	s := mustStore(t)
	srv, err := NewServer(Config{Addr: "127.0.0.1:0", Store: s, Upstreams: []string{closedPort(t)}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(ctx); err == nil {
		t.Fatal("second Start succeeded")
	}
	addr := srv.Addr()
	exchange(t, addr, "udp", "dns-version.cluster.local.", mdns.TypeTXT, 0)
	cancel() // ending the context stops the server
	deadline := time.Now().Add(5 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			break
		}
		conn.Close()
		if time.Now().After(deadline) {
			t.Fatal("server still accepting TCP 5 s after its context ended")
		}
		time.Sleep(20 * time.Millisecond)
	}
	srv.Stop() // idempotent
}

func TestNewServerReadsResolvConf(t *testing.T) {
	path := t.TempDir() + "/resolv.conf"
	if err := writeFile(path, "nameserver 127.0.0.53\nnameserver ::1\nsearch x\n"); err != nil {
		t.Fatal(err)
	}
	srv, err := NewServer(Config{Store: mustStore(t), ResolvConf: path})
	if err != nil {
		t.Fatal(err)
	}
	if got := srv.cfg.Upstreams; len(got) != 2 || got[0] != "127.0.0.53:53" || got[1] != "[::1]:53" {
		t.Fatalf("upstreams %q", got)
	}
	if _, err := NewServer(Config{Store: mustStore(t), ResolvConf: t.TempDir() + "/missing"}); err == nil {
		t.Fatal("a missing resolv.conf was accepted")
	}
}

// TestServerFixedPortUsesReusePortSockets starts a server on a fixed port,
// where each UDP worker gets its own SO_REUSEPORT socket; queries from many
// client sockets (spread by the kernel) are all answered, and a second
// server cannot take the same port.
func TestServerFixedPortUsesReusePortSockets(t *testing.T) {
	s := mustStore(t)
	fixture(t, s)
	var srv *Server
	var err error
	for attempt := 0; attempt < 10; attempt++ {
		addr := closedPort(t) // free for UDP now; TCP may be taken, then retry
		srv, err = NewServer(Config{Addr: addr, Store: s, Upstreams: []string{closedPort(t)}, UDPWorkers: 3})
		if err != nil {
			t.Fatal(err)
		}
		if err = srv.Start(context.Background()); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("starting on a fixed port: %v", err)
	}
	t.Cleanup(srv.Stop)
	if got := len(srv.udps); got != 3 {
		t.Fatalf("%d UDP sockets, want 3", got)
	}
	for range 20 { // each exchange dials a new socket
		checkAnswer(t, exchange(t, srv.Addr(), "udp", "web.default.svc.cluster.local.", mdns.TypeA, 0), mdns.RcodeSuccess,
			"web.default.svc.cluster.local. A 10.96.0.10")
	}
	other, err := NewServer(Config{Addr: srv.Addr(), Store: s, Upstreams: []string{closedPort(t)}})
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Start(context.Background()); err == nil {
		other.Stop()
		t.Fatal("a second server started on a port in use")
	}
}
