package proxy

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
	"sigs.k8s.io/knftables"
)

// testNFT is knftables' fake with what NFTRunner adds, a way to fail the
// next transaction, and the text of every transaction that ran.
type testNFT struct {
	*knftables.Fake
	mu       sync.Mutex
	failNext error
	txs      []string
}

func newTestNFT() *testNFT { return &testNFT{Fake: knftables.NewFake(knftables.IPv4Family, NFTTable)} }

func (f *testNFT) Run(ctx context.Context, tx *knftables.Transaction) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.failNext; err != nil {
		f.failNext = nil
		return err
	}
	if err := f.Fake.Run(ctx, tx); err != nil {
		return err
	}
	f.txs = append(f.txs, tx.String())
	return nil
}

func (f *testNFT) SetSysctl(name, value string) error { return nil }

// transactions returns the text of every transaction that ran, oldest
// first.
func (f *testNFT) transactions() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.txs)
}

func (f *testNFT) exists() bool {
	f.RLock()
	defer f.RUnlock()
	return f.Table != nil
}

// dump is the fake's Dump with the elements sorted (the fake keeps them
// in insertion order), so that tables with the same content compare
// equal. With skipUnused, per-count chains nothing points at
// (incremental syncs leave them; full syncs remove them) are left out.
func (f *testNFT) dump(skipUnused bool) string {
	if !f.exists() {
		return "<no table>\n"
	}
	skip := map[string]bool{}
	if skipUnused {
		f.RLock()
		for again := true; again; {
			again = false
			for c := range f.Table.Chains {
				if _, _, count := nftCountChain(c, Config{PodCIDR: netip.MustParsePrefix("10.0.0.0/8")}); count && !skip[c] && !f.chainUsed(c, skip) {
					skip[c] = true
					again = true
				}
			}
		}
		f.RUnlock()
	}
	var objs, elems []string
	prefix := "ip " + NFTTable + " "
	for _, line := range strings.Split(strings.TrimSuffix(f.Dump(), "\n"), "\n") {
		fields := strings.Fields(line) // add chain|rule ip strom NAME ...
		if len(fields) > 4 && (fields[1] == "chain" || fields[1] == "rule") && skip[fields[4]] {
			continue
		}
		if strings.HasPrefix(line, "add element "+prefix) {
			elems = append(elems, line)
		} else {
			objs = append(objs, line)
		}
	}
	slices.Sort(elems)
	return strings.Join(append(objs, elems...), "\n") + "\n"
}

// chainUsed tells whether a rule of a chain not in skip, or a map
// element, jumps to chain. Hold f.RLock.
func (f *testNFT) chainUsed(chain string, skip map[string]bool) bool {
	for name, c := range f.Table.Chains {
		if skip[name] {
			continue
		}
		for _, r := range c.Rules {
			words := strings.Fields(r.Rule)
			for i := 0; i+1 < len(words); i++ {
				if (words[i] == "goto" || words[i] == "jump") && words[i+1] == chain {
					return true
				}
			}
		}
	}
	for _, m := range f.Table.Maps {
		for _, e := range m.Elements {
			if len(e.Value) == 1 && (e.Value[0] == "goto "+chain || e.Value[0] == "jump "+chain) {
				return true
			}
		}
	}
	return false
}

func newTestNFTProxier(t *testing.T, f *testNFT, cfg Config) *Proxier {
	return NewNFTProxier(f, ProxierConfig{Config: cfg}, zaptest.NewLogger(t), nil)
}

var nftTestConfig = Config{PodCIDR: netip.MustParsePrefix("10.244.0.0/16"), LocalhostNodePorts: true}

func TestRenderNFTGolden(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			got := RenderNFT(tc.state, tc.cfg)
			checkGolden(t, filepath.Join("testdata", "nft-"+tc.name+".golden"), []byte(got))
			// Whatever is rendered must load into an empty table.
			f := newTestNFT()
			if err := f.Run(context.Background(), renderNFT(f, tc.state, tc.cfg)); err != nil {
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
	if b := RenderNFT(rev, tc.cfg); a != b {
		t.Fatalf("output depends on input order:\n%s\nvs\n%s", a, b)
	}
}

// nftFreshDump is what a fresh full sync of state into an empty table
// holds.
func nftFreshDump(t *testing.T, state []ServicePort, cfg Config) string {
	t.Helper()
	f := newTestNFT()
	p := NewNFTProxier(f, ProxierConfig{Config: cfg}, zap.NewNop(), nil)
	p.Update(state)
	if err := p.Sync(); err != nil {
		t.Fatalf("fresh sync: %v", err)
	}
	return f.dump(false)
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
	f := newTestNFT()
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
		got := f.dump(true)
		want := nftFreshDump(t, list, nftTestConfig)
		if got != want {
			t.Fatalf("step %d: table differs from a fresh full sync\n got:\n%s\nwant:\n%s", step, got, want)
		}
	}
}

func TestNFTIncrementalIsSmall(t *testing.T) {
	f := newTestNFT()
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
	txs := f.transactions()
	last := txs[len(txs)-1]
	if m := p.Metrics(); m.LastFull || m.LastServices != 1 {
		t.Fatalf("metrics %+v, want an incremental sync of 1 service port", m)
	}
	// Endpoints are sorted by address, so the new one takes the last
	// index and the ones after the replaced endpoint move up one.
	want := "delete element ip strom backends-tcp { 10.96.0.8 . 80 . 2 }\n" +
		"delete element ip strom backends-tcp { 10.96.0.8 . 80 . 3 }\n" +
		"delete element ip strom backends-tcp { 10.96.0.8 . 80 . 4 }\n" +
		"delete element ip strom hairpin { 10.244.8.3 . 10.244.8.3 }\n" +
		"add element ip strom backends-tcp { 10.96.0.8 . 80 . 2 : 10.244.8.4 . 8080 }\n" +
		"add element ip strom backends-tcp { 10.96.0.8 . 80 . 3 : 10.244.8.5 . 8080 }\n" +
		"add element ip strom backends-tcp { 10.96.0.8 . 80 . 4 : 10.244.99.99 . 8080 }\n" +
		"add element ip strom hairpin { 10.244.99.99 . 10.244.99.99 }\n"
	if last != want {
		t.Fatalf("incremental script:\n%s\nwant:\n%s", last, want)
	}
	// Nothing changed: no transaction at all.
	n := len(f.transactions())
	p.Update(state)
	mustSync(t, p)
	if txs := f.transactions(); len(txs) != n {
		t.Fatalf("a sync with no change ran nft: %s", txs[n])
	}
}

func TestNFTConflictingFrontends(t *testing.T) {
	f := newTestNFT()
	p := newTestNFTProxier(t, f, nftTestConfig)
	a := svc("a", "one", 1, 2)
	b := svc("b", "two", 2, 3)
	ext := []netip.Addr{netip.MustParseAddr("192.0.2.7")}
	a.ExternalIPs, b.ExternalIPs = ext, ext
	a.NodePort, b.NodePort = 30001, 30001
	p.Update([]ServicePort{a, b})
	mustSync(t, p)
	dump := f.dump(false)
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
	dump = f.dump(false)
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
	f := newTestNFT()
	p := newTestNFTProxier(t, f, nftTestConfig)
	sp := svc("ns", "web", 5, 0)
	sp.NodePort = 30005
	p.Update([]ServicePort{sp})
	mustSync(t, p)
	dump := f.dump(false)
	if !strings.Contains(dump, "add element ip strom no-endpoint-services { 10.96.0.5 . tcp . 80 }\n") ||
		!strings.Contains(dump, "add element ip strom no-endpoint-nodeports { tcp . 30005 }\n") {
		t.Fatalf("no-endpoint service not rejected:\n%s", dump)
	}
	sp = svc("ns", "web", 5, 1)
	sp.NodePort = 30005
	p.Update([]ServicePort{sp})
	mustSync(t, p)
	dump = f.dump(false)
	if strings.Contains(dump, "add element ip strom no-endpoint-services { 10.96") ||
		!strings.Contains(dump, "add element ip strom service-ips { 10.96.0.5 . tcp . 80 : goto cluster-1 }") {
		t.Fatalf("service with an endpoint still rejected or not programmed:\n%s", dump)
	}
}

func TestNFTFailureRebuildsTable(t *testing.T) {
	f := newTestNFT()
	p := newTestNFTProxier(t, f, nftTestConfig)
	p.Update([]ServicePort{svc("ns", "a", 1, 2)})
	mustSync(t, p)
	f.mu.Lock()
	f.failNext = errors.New("boom")
	f.mu.Unlock()
	state := []ServicePort{svc("ns", "a", 1, 3), svc("ns", "b", 2, 1)}
	p.Update(state)
	if err := p.Sync(); err == nil {
		t.Fatalf("sync with a failing nft succeeded")
	}
	mustSync(t, p)
	txs := f.transactions()
	last := txs[len(txs)-1]
	if !strings.HasPrefix(last, "add table ip strom\ndelete table ip strom\n") || !p.Metrics().LastFull {
		t.Fatalf("sync after a failure did not rebuild the table:\n%s", last)
	}
	if got, want := f.dump(false), nftFreshDump(t, state, nftTestConfig); got != want {
		t.Fatalf("after recovery:\n%s\nwant:\n%s", got, want)
	}
}

func TestNFTAffinityStateKept(t *testing.T) {
	f := newTestNFT()
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
	txs := f.transactions()
	last := txs[len(txs)-1]
	if strings.Contains(last, "delete set") || strings.Count(last, "add set") != 1 {
		t.Fatalf("adding an endpoint recreated affinity sets:\n%s", last)
	}
	// A new timeout is a new set for every endpoint.
	sp.AffinityTimeoutSeconds = 60
	p.Update([]ServicePort{sp})
	mustSync(t, p)
	txs = f.transactions()
	last = txs[len(txs)-1]
	if strings.Count(last, "delete set") != 3 || !strings.Contains(last, "timeout 60s") {
		t.Fatalf("timeout change did not replace the sets:\n%s", last)
	}
}

func TestNFTCleanup(t *testing.T) {
	f := newTestNFT()
	p := newTestNFTProxier(t, f, nftTestConfig)
	p.Update([]ServicePort{svc("ns", "a", 1, 2)})
	mustSync(t, p)
	if err := p.Cleanup(); err != nil || f.exists() {
		t.Fatalf("cleanup: %v, table exists %v", err, f.exists())
	}
	// The next sync starts over.
	mustSync(t, p)
	if !p.Metrics().LastFull || !f.exists() {
		t.Fatalf("sync after cleanup was not a full one")
	}
}
