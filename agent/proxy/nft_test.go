package proxy

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
)

func newTestNFTProxier(t *testing.T, f *FakeNFT, cfg Config) *Proxier {
	return NewNFTProxier(f, ProxierConfig{Config: cfg}, zaptest.NewLogger(t), nil)
}

var nftTestConfig = Config{PodCIDR: netip.MustParsePrefix("10.244.0.0/16"), LocalhostNodePorts: true}

func TestRenderNFTGolden(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			got := RenderNFT(tc.state, tc.cfg)
			checkGolden(t, filepath.Join("testdata", "nft-"+tc.name+".golden"), got)
			// Whatever is rendered must load into an empty table.
			if err := NewFakeNFT().Apply(got); err != nil {
				t.Fatalf("rendered script does not apply: %v", err)
			}
		})
	}
}

func TestRenderNFTDeterministic(t *testing.T) {
	tc := goldenCases[2]
	a := RenderNFT(tc.state, tc.cfg)
	rev := []ServicePort{tc.state[1], tc.state[0]}
	rev[1].Endpoints = []Endpoint{tc.state[0].Endpoints[1], tc.state[0].Endpoints[0]}
	if b := RenderNFT(rev, tc.cfg); !bytes.Equal(a, b) {
		t.Fatalf("output depends on input order:\n%s\nvs\n%s", a, b)
	}
}

// nftFreshDump is what a fresh full sync of state into an empty table
// holds.
func nftFreshDump(t *testing.T, state []ServicePort, cfg Config) string {
	t.Helper()
	f := NewFakeNFT()
	p := NewNFTProxier(f, ProxierConfig{Config: cfg}, zap.NewNop(), nil)
	p.Update(state)
	if err := p.Sync(); err != nil {
		t.Fatalf("fresh sync: %v", err)
	}
	return f.Dump(false)
}

func randomChanges(rng *rand.Rand, state map[int]ServicePort) {
	for k := 0; k < 1+rng.IntN(3); k++ {
		i := rng.IntN(30)
		switch op := rng.IntN(6); {
		case op == 0:
			delete(state, i)
		case op == 1:
			sp := svc("ns", fmt.Sprintf("s%d", i), i+1, rng.IntN(6))
			sp.NodePort = int32(30000 + i)
			sp.SessionAffinityClientIP = rng.IntN(3) == 0
			sp.Protocol = []string{"TCP", "UDP", "SCTP"}[rng.IntN(3)]
			if rng.IntN(3) == 0 {
				// Shared external IPs: frontends two services claim.
				sp.ExternalIPs = []netip.Addr{netip.MustParseAddr("192.0.2.1")}
			}
			state[i] = sp
		default:
			sp, ok := state[i]
			if !ok {
				sp = svc("ns", fmt.Sprintf("s%d", i), i+1, 0)
			}
			sp.Endpoints = slices.Clone(sp.Endpoints)
			// Endpoint IPs are shared across services sometimes, so
			// hairpin entries are reference counted.
			e := Endpoint{IP: netip.AddrFrom4([4]byte{10, 244, byte(rng.IntN(4)), byte(1 + rng.IntN(8))}), Port: 8080, Ready: rng.IntN(4) > 0}
			if j := slices.IndexFunc(sp.Endpoints, func(x Endpoint) bool { return x.IP == e.IP }); j >= 0 {
				sp.Endpoints = slices.Delete(sp.Endpoints, j, j+1)
			} else {
				sp.Endpoints = append(sp.Endpoints, e)
			}
			state[i] = sp
		}
	}
}

func TestNFTIncrementalEqualsFull(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	f := NewFakeNFT()
	p := NewNFTProxier(f, ProxierConfig{Config: nftTestConfig, FullSyncInterval: -1}, zaptest.NewLogger(t), nil)
	state := map[int]ServicePort{}
	for step := 0; step < 400; step++ {
		randomChanges(rng, state)
		list := make([]ServicePort, 0, len(state))
		for _, sp := range state {
			list = append(list, sp)
		}
		p.Update(list)
		if step%97 == 96 {
			// An hourly full sync over the existing table.
			p.syncMu.Lock()
			p.needFull = true
			p.syncMu.Unlock()
		}
		mustSync(t, p)
		full := p.Metrics().LastFull
		if step > 0 && full != (step%97 == 96) {
			t.Fatalf("step %d: full sync %v", step, full)
		}
		if full && p.nft.fresh {
			t.Fatalf("step %d: the model still wants a fresh table after a good sync", step)
		}
		got := f.Dump(true)
		want := nftFreshDump(t, list, nftTestConfig)
		if got != want {
			t.Fatalf("step %d: table differs from a fresh full sync\n got:\n%s\nwant:\n%s", step, got, want)
		}
	}
}

func TestNFTIncrementalIsSmall(t *testing.T) {
	f := NewFakeNFT()
	p := newTestNFTProxier(t, f, nftTestConfig)
	var state []ServicePort
	for i := 0; i < 200; i++ {
		state = append(state, svc("ns", fmt.Sprintf("s%d", i), i+1, 5))
	}
	p.Update(state)
	mustSync(t, p)
	state[7].Endpoints = slices.Clone(state[7].Endpoints)
	state[7].Endpoints[2].IP = netip.MustParseAddr("10.244.99.99")
	p.Update(state)
	mustSync(t, p)
	scripts := f.Scripts()
	last := string(scripts[len(scripts)-1])
	if m := p.Metrics(); m.LastFull || m.LastServices != 1 {
		t.Fatalf("metrics %+v, want an incremental sync of 1 service port", m)
	}
	// Endpoints are sorted by address, so the new one takes the last
	// index and the ones after the replaced endpoint move up one.
	want := "delete element ip strom backends-tcp { 10.96.0.8 . 80 . 2, 10.96.0.8 . 80 . 3, 10.96.0.8 . 80 . 4 }\n" +
		"delete element ip strom hairpin { 10.244.8.3 . 10.244.8.3 }\n" +
		"add element ip strom backends-tcp { 10.96.0.8 . 80 . 2 : 10.244.8.4 . 8080, 10.96.0.8 . 80 . 3 : 10.244.8.5 . 8080, 10.96.0.8 . 80 . 4 : 10.244.99.99 . 8080 }\n" +
		"add element ip strom hairpin { 10.244.99.99 . 10.244.99.99 }\n"
	if last != want {
		t.Fatalf("incremental script:\n%s\nwant:\n%s", last, want)
	}
	// Nothing changed: no transaction at all.
	n := len(f.Scripts())
	p.Update(state)
	mustSync(t, p)
	if len(f.Scripts()) != n {
		t.Fatalf("a sync with no change ran nft: %s", f.Scripts()[n])
	}
}

func TestNFTConflictingFrontends(t *testing.T) {
	f := NewFakeNFT()
	p := newTestNFTProxier(t, f, nftTestConfig)
	a := svc("a", "one", 1, 2)
	b := svc("b", "two", 2, 3)
	ext := []netip.Addr{netip.MustParseAddr("192.0.2.7")}
	a.ExternalIPs, b.ExternalIPs = ext, ext
	a.NodePort, b.NodePort = 30001, 30001
	p.Update([]ServicePort{a, b})
	mustSync(t, p)
	dump := f.Dump(false)
	// "a/one" sorts first and owns both shared frontends.
	for _, want := range []string{"192.0.2.7 . tcp . 80 : goto external-2", "tcp . 30001 : goto nodeport-2",
		"10.96.0.1 . tcp . 80 : goto cluster-2", "10.96.0.2 . tcp . 80 : goto cluster-3"} {
		if !strings.Contains(dump, want) {
			t.Fatalf("table lacks %q:\n%s", want, dump)
		}
	}
	// When the owner goes, the other service takes the frontends over.
	p.Update([]ServicePort{b})
	mustSync(t, p)
	dump = f.Dump(false)
	for _, want := range []string{"192.0.2.7 . tcp . 80 : goto external-3", "tcp . 30001 : goto nodeport-3"} {
		if !strings.Contains(dump, want) {
			t.Fatalf("after removing the owner, table lacks %q:\n%s", want, dump)
		}
	}
	if strings.Contains(dump, "10.96.0.1 ") {
		t.Fatalf("removed service still programmed:\n%s", dump)
	}
}

func TestNFTNoEndpointsRejects(t *testing.T) {
	f := NewFakeNFT()
	p := newTestNFTProxier(t, f, nftTestConfig)
	sp := svc("ns", "web", 5, 0)
	sp.NodePort = 30005
	p.Update([]ServicePort{sp})
	mustSync(t, p)
	dump := f.Dump(false)
	if !strings.Contains(dump, "set no-endpoint-services\n  10.96.0.5 . tcp . 80\n") ||
		!strings.Contains(dump, "set no-endpoint-nodeports\n  tcp . 30005\n") {
		t.Fatalf("no-endpoint service not rejected:\n%s", dump)
	}
	sp = svc("ns", "web", 5, 1)
	sp.NodePort = 30005
	p.Update([]ServicePort{sp})
	mustSync(t, p)
	dump = f.Dump(false)
	if strings.Contains(dump, "set no-endpoint-services\n  10.96") || !strings.Contains(dump, "10.96.0.5 . tcp . 80 : goto cluster-1") {
		t.Fatalf("service with an endpoint still rejected or not programmed:\n%s", dump)
	}
}

func TestNFTFailureRebuildsTable(t *testing.T) {
	f := NewFakeNFT()
	p := newTestNFTProxier(t, f, nftTestConfig)
	p.Update([]ServicePort{svc("ns", "a", 1, 2)})
	mustSync(t, p)
	f.FailNext = errors.New("boom")
	state := []ServicePort{svc("ns", "a", 1, 3), svc("ns", "b", 2, 1)}
	p.Update(state)
	if err := p.Sync(); err == nil {
		t.Fatalf("sync with a failing nft succeeded")
	}
	mustSync(t, p)
	scripts := f.Scripts()
	last := string(scripts[len(scripts)-1])
	if !strings.HasPrefix(last, "add table ip strom\ndelete table ip strom\n") || !p.Metrics().LastFull {
		t.Fatalf("sync after a failure did not rebuild the table:\n%s", last)
	}
	if got, want := f.Dump(false), nftFreshDump(t, state, nftTestConfig); got != want {
		t.Fatalf("after recovery:\n%s\nwant:\n%s", got, want)
	}
}

func TestNFTAffinityStateKept(t *testing.T) {
	f := NewFakeNFT()
	p := NewNFTProxier(f, ProxierConfig{Config: nftTestConfig, FullSyncInterval: -1}, zaptest.NewLogger(t), nil)
	sp := svc("ns", "sticky", 3, 2)
	sp.SessionAffinityClientIP = true
	p.Update([]ServicePort{sp})
	mustSync(t, p)
	// One more endpoint: the existing endpoints' affinity sets stay (a
	// delete would forget which clients stick to them).
	sp.Endpoints = append(slices.Clone(sp.Endpoints), Endpoint{IP: netip.MustParseAddr("10.244.3.9"), Port: 8080, Ready: true})
	p.Update([]ServicePort{sp})
	mustSync(t, p)
	scripts := f.Scripts()
	last := string(scripts[len(scripts)-1])
	if strings.Contains(last, "delete set") || strings.Count(last, "add set") != 1 {
		t.Fatalf("adding an endpoint recreated affinity sets:\n%s", last)
	}
	// A new timeout is a new set for every endpoint.
	sp.AffinityTimeoutSeconds = 60
	p.Update([]ServicePort{sp})
	mustSync(t, p)
	scripts = f.Scripts()
	last = string(scripts[len(scripts)-1])
	if strings.Count(last, "delete set") != 3 || !strings.Contains(last, "timeout 60s") {
		t.Fatalf("timeout change did not replace the sets:\n%s", last)
	}
}

func TestNFTCleanup(t *testing.T) {
	f := NewFakeNFT()
	p := newTestNFTProxier(t, f, nftTestConfig)
	p.Update([]ServicePort{svc("ns", "a", 1, 2)})
	mustSync(t, p)
	if err := p.Cleanup(); err != nil || f.Exists() {
		t.Fatalf("cleanup: %v, table exists %v", err, f.Exists())
	}
	// The next sync starts over.
	mustSync(t, p)
	if !p.Metrics().LastFull || !f.Exists() {
		t.Fatalf("sync after cleanup was not a full one")
	}
}

func TestFakeNFTRefuses(t *testing.T) {
	for _, script := range []string{
		"add rule ip strom nochain accept\n",
		"add table ip strom\nadd chain ip strom a\nadd rule ip strom a goto b\n",
		"add table ip strom\nadd map ip strom m { type inet_service : verdict; }\nadd element ip strom m { 80 : goto nowhere }\n",
		"add table ip strom\nadd set ip strom s { type inet_service; }\ndelete element ip strom s { 80 }\n",
		"add table ip strom\nadd chain ip strom a\nadd chain ip strom b\nadd rule ip strom a goto b\ndelete chain ip strom b\n",
		"add table ip strom\nbogus\n",
	} {
		f := NewFakeNFT()
		if err := f.Apply([]byte(script)); err == nil {
			t.Errorf("fake accepted %q", script)
		}
		if f.Exists() {
			t.Errorf("a refused script left a table behind: %q", script)
		}
	}
}
