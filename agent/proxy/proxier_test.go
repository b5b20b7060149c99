package proxy

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
	"go.uber.org/zap/zaptest/observer"
	clocktesting "k8s.io/utils/clock/testing"
)

// svc makes a service port with n ready endpoints.
func svc(ns, name string, octet, n int) ServicePort {
	sp := ServicePort{Namespace: ns, Name: name, Protocol: "TCP",
		ClusterIP: netip.AddrFrom4([4]byte{10, 96, byte(octet >> 8), byte(octet)}), Port: 80}
	for i := 0; i < n; i++ {
		sp.Endpoints = append(sp.Endpoints, Endpoint{
			IP: netip.AddrFrom4([4]byte{10, 244, byte(octet), byte(i + 1)}), Port: 8080, Ready: true})
	}
	return sp
}

func newTestProxier(t *testing.T, r Runner) *Proxier {
	return NewProxier(r, ProxierConfig{Config: Config{LocalhostNodePorts: true}}, zaptest.NewLogger(t), nil)
}

func mustSync(t *testing.T, p *Proxier) {
	t.Helper()
	if err := p.Sync(); err != nil {
		t.Fatalf("sync: %v", err)
	}
}

// strom returns the owned chains of a table in the fake.
func strom(f *FakeRunner, table string) []string {
	var out []string
	for _, c := range f.Chains(table) {
		if isOwnedChain(c) {
			out = append(out, c)
		}
	}
	return out
}

func TestFirstSyncInstallsHooks(t *testing.T) {
	f := NewFakeRunner()
	p := newTestProxier(t, f)
	p.Update([]ServicePort{svc("a", "web", 1, 2)})
	mustSync(t, p)
	mustSync(t, p) // nothing changed
	p.Update([]ServicePort{svc("a", "web", 1, 3)})
	p.needFull = true // a second full sync must not duplicate hooks
	mustSync(t, p)
	for _, h := range hooks {
		n := 0
		for _, r := range f.Rules(h.table, h.chain) {
			if r == joinRule(h.rule) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s/%s has %d copies of %v, want 1", h.table, h.chain, n, h.rule)
		}
	}
	if got := f.Rules("nat", "PREROUTING"); len(got) != 1 || ruleTarget(got[0]) != chainServices {
		t.Errorf("PREROUTING = %v", got)
	}
	if got := f.Rules("filter", "FORWARD"); len(got) != 3 || ruleTarget(got[0]) != chainServices || ruleTarget(got[2]) != chainForward {
		t.Errorf("FORWARD hooks out of order: %v", got)
	}
	if f.Sysctl("net/ipv4/conf/all/route_localnet") != "1" {
		t.Errorf("route_localnet not set")
	}
	if n := len(strom(f, "nat")); n != 4+1+3 {
		t.Errorf("nat has %d STROM chains, want 4 fixed + 1 SVC + 3 SEP: %v", n, strom(f, "nat"))
	}
}

func TestIncrementalSyncWritesOnlyChanges(t *testing.T) {
	f := NewFakeRunner()
	p := newTestProxier(t, f)
	state := []ServicePort{svc("a", "one", 1, 3), svc("a", "two", 2, 3), svc("b", "three", 3, 3)}
	p.Update(state)
	mustSync(t, p)
	if m := p.Metrics(); !m.LastFull || m.LastServices != 3 {
		t.Fatalf("first sync: %+v", m)
	}
	before := len(f.Restores())

	state[1].Endpoints = state[1].Endpoints[:2] // drop 10.244.2.3
	p.Update(state)
	mustSync(t, p)
	rs := f.Restores()[before:]
	if len(rs) != 1 || rs[0].Table != "nat" {
		t.Fatalf("incremental sync restored %d tables, want nat only (filter unchanged)", len(rs))
	}
	data := string(rs[0].Data)
	if strings.Contains(data, ":"+serviceChain(state[0].Key())) || strings.Contains(data, ":"+serviceChain(state[2].Key())) {
		t.Errorf("unchanged services were rewritten:\n%s", data)
	}
	if strings.Contains(data, ":"+chainServices+" ") {
		t.Errorf("an endpoint change rewrote %s:\n%s", chainServices, data)
	}
	gone := endpointChain(state[1].Key(), netip.MustParseAddr("10.244.2.3"), 8080)
	if !strings.Contains(data, "-X "+gone+"\n") {
		t.Errorf("removed endpoint's chain %s not deleted:\n%s", gone, data)
	}
	if m := p.Metrics(); m.LastFull || m.LastServices != 1 {
		t.Errorf("metrics after incremental sync: %+v", m)
	}
	// The unchanged services' chains are intact.
	if got := f.Rules("nat", serviceChain(state[0].Key())); len(got) != 3 {
		t.Errorf("service one's chain has %d rules, want 3: %v", len(got), got)
	}
	assertMatchesFresh(t, f, state, p.cfg.Config)

	// Nothing changed: no restore at all.
	before = len(f.Restores())
	p.Update(state)
	mustSync(t, p)
	if n := len(f.Restores()) - before; n != 0 {
		t.Errorf("a sync without changes ran %d restores", n)
	}
	// A new service rewrites the top chains.
	state = append(state, svc("c", "four", 4, 1))
	p.Update(state)
	mustSync(t, p)
	rs = f.Restores()
	if last := string(rs[len(rs)-1].Data); !strings.Contains(last, ":"+chainServices+" ") {
		t.Errorf("adding a service did not rewrite %s:\n%s", chainServices, last)
	}
	assertMatchesFresh(t, f, state, p.cfg.Config)
}

func TestNoEndpointsMovesToFilter(t *testing.T) {
	f := NewFakeRunner()
	p := newTestProxier(t, f)
	sp := svc("a", "web", 1, 2)
	p.Update([]ServicePort{sp})
	mustSync(t, p)
	for i := range sp.Endpoints {
		sp.Endpoints[i].Ready = false
	}
	p.Update([]ServicePort{sp})
	mustSync(t, p)
	if got := strom(f, "nat"); len(got) != 4 {
		t.Errorf("nat still has service chains: %v", got)
	}
	rej := f.Rules("filter", chainServices)
	if len(rej) != 1 || !strings.Contains(rej[0], "-d 10.96.0.1/32") || ruleTarget(rej[0]) != "REJECT" {
		t.Errorf("filter STROM-SERVICES = %v", rej)
	}
}

func TestFailureRetriesWithFullSync(t *testing.T) {
	f := NewFakeRunner()
	core, logs := observer.New(zap.DebugLevel)
	p := NewProxier(f, ProxierConfig{}, zap.New(core), nil)
	a, b := svc("a", "one", 1, 2), svc("a", "two", 2, 2)
	p.Update([]ServicePort{a})
	mustSync(t, p)

	f.FailRestores(2, errors.New("boom"))
	p.Update([]ServicePort{a, b})
	for i := 0; i < 2; i++ {
		if err := p.Sync(); err == nil {
			t.Fatalf("sync %d succeeded while restore fails", i)
		}
	}
	if n := logs.FilterLevelExact(zap.ErrorLevel).Len(); n != 1 {
		t.Errorf("failure logged %d times at error level, want once", n)
	}
	if got := f.Rules("nat", serviceChain(b.Key())); got != nil {
		t.Fatalf("failed sync left rules: %v", got)
	}
	mustSync(t, p)
	if m := p.Metrics(); !m.LastFull || m.Failures != 2 {
		t.Errorf("after recovery: %+v, want a full sync and 2 failures", m)
	}
	if logs.FilterMessage("service proxy sync recovered").Len() != 1 {
		t.Errorf("recovery not logged")
	}
	assertMatchesFresh(t, f, []ServicePort{a, b}, p.cfg.Config)
}

func TestRestartDeletesLeftoverChains(t *testing.T) {
	f := NewFakeRunner()
	old := newTestProxier(t, f)
	old.Update([]ServicePort{svc("a", "gone", 1, 2), svc("a", "kept", 2, 1)})
	mustSync(t, old)

	p := newTestProxier(t, f) // a new agent process
	p.Update([]ServicePort{svc("a", "kept", 2, 1)})
	mustSync(t, p)
	assertMatchesFresh(t, f, []ServicePort{svc("a", "kept", 2, 1)}, p.cfg.Config)
}

func TestOnServiceUpdate(t *testing.T) {
	f := NewFakeRunner()
	p := newTestProxier(t, f)
	a, b := svc("a", "web", 1, 1), svc("a", "webx", 2, 1)
	b2 := b
	b2.PortName = "metrics"
	b2.Port = 9090
	p.OnServiceUpdate("a", "web", []ServicePort{a})
	p.OnServiceUpdate("a", "webx", []ServicePort{b, b2})
	mustSync(t, p)
	assertMatchesFresh(t, f, []ServicePort{a, b, b2}, p.cfg.Config)
	p.OnServiceUpdate("a", "webx", []ServicePort{b2})
	p.OnServiceUpdate("a", "web", nil)
	mustSync(t, p)
	assertMatchesFresh(t, f, []ServicePort{b2}, p.cfg.Config)
}

// TestIncrementalEqualsFull drives random changes through incremental
// syncs and checks after each that the tables are exactly what a full
// sync of the same state into empty tables produces.
func TestIncrementalEqualsFull(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	f := NewFakeRunner()
	p := newTestProxier(t, f)
	state := map[int]ServicePort{}
	for step := 0; step < 300; step++ {
		randomChanges(rng, state)
		list := make([]ServicePort, 0, len(state))
		for _, sp := range state {
			list = append(list, sp)
		}
		p.Update(list)
		mustSync(t, p)
		if step > 0 && p.Metrics().LastFull {
			t.Fatalf("step %d ran a full sync", step)
		}
		assertMatchesFresh(t, f, list, p.cfg.Config)
		if t.Failed() {
			t.Fatalf("diverged at step %d", step)
		}
	}
}

// assertMatchesFresh checks that f's tables equal a fresh full sync of
// state into empty tables.
func assertMatchesFresh(t *testing.T, f *FakeRunner, state []ServicePort, cfg Config) {
	t.Helper()
	want := NewFakeRunner()
	fresh := NewProxier(want, ProxierConfig{Config: cfg}, zap.NewNop(), nil)
	fresh.Update(state)
	if err := fresh.Sync(); err != nil {
		t.Fatalf("fresh sync: %v", err)
	}
	for _, table := range []string{"nat", "filter"} {
		g, _ := f.Save(table)
		w, _ := want.Save(table)
		if !bytes.Equal(g, w) {
			t.Errorf("%s table differs from a fresh full sync\n got:\n%s\nwant:\n%s", table, g, w)
		}
	}
}

func TestCleanupFake(t *testing.T) {
	f := NewFakeRunner()
	p := newTestProxier(t, f)
	down := svc("a", "down", 2, 0)
	p.Update([]ServicePort{svc("a", "web", 1, 3), down})
	mustSync(t, p)
	// A user rule in a built-in chain survives cleanup.
	if _, err := f.EnsureRule("filter", "INPUT", "-p", "tcp", "--dport", "22", "-j", "ACCEPT"); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ { // idempotent
		if err := Cleanup(f); err != nil {
			t.Fatalf("cleanup %d: %v", i, err)
		}
	}
	for _, table := range []string{"nat", "filter"} {
		saved, _ := f.Save(table)
		if strings.Contains(string(saved), "STROM") {
			t.Errorf("%s still mentions STROM:\n%s", table, saved)
		}
	}
	if got := f.Rules("filter", "INPUT"); len(got) != 1 {
		t.Errorf("cleanup touched a foreign rule: INPUT = %v", got)
	}
	// After Proxier.Cleanup the next sync reprograms everything.
	if err := p.Cleanup(); err != nil {
		t.Fatal(err)
	}
	mustSync(t, p)
	if !p.Metrics().LastFull {
		t.Errorf("sync after Cleanup was not full")
	}
	web := svc("a", "web", 1, 3)
	if got := f.Rules("nat", serviceChain(web.Key())); len(got) != 3 {
		t.Errorf("service chain after resync = %v", got)
	}
	if got := f.Rules("filter", chainServices); len(got) != 1 {
		t.Errorf("no-endpoint reject after resync = %v", got)
	}
}

func TestRunCoalescesBursts(t *testing.T) {
	f := NewFakeRunner()
	p := NewProxier(f, ProxierConfig{MinSyncInterval: time.Second}, zaptest.NewLogger(t), nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	if err := p.WaitApplied(wctx, 0); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return p.Metrics().Syncs >= 1 })
	for i := 0; i < 100; i++ {
		p.Update([]ServicePort{svc("a", "web", 1, 1+i%5)})
	}
	if err := p.WaitApplied(wctx, p.Generation()); err != nil {
		t.Fatal(err)
	}
	if n := p.Metrics().Syncs; n > 3 {
		t.Errorf("a burst of 100 updates took %d syncs, want them coalesced into 1 or 2", n-1)
	}
	assertMatchesFresh(t, f, []ServicePort{svc("a", "web", 1, 5)}, Config{})
}

func TestRunRetriesFailures(t *testing.T) {
	f := NewFakeRunner()
	p := NewProxier(f, ProxierConfig{MinSyncInterval: time.Millisecond, RetryMin: 5 * time.Millisecond},
		zaptest.NewLogger(t), nil)
	f.FailRestores(3, errors.New("xtables lock held"))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	p.Update([]ServicePort{svc("a", "web", 1, 2)})
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	if err := p.WaitApplied(wctx, p.Generation()); err != nil {
		t.Fatal(err)
	}
	if m := p.Metrics(); m.Failures != 3 {
		t.Errorf("failures = %d, want 3", m.Failures)
	}
	assertMatchesFresh(t, f, []ServicePort{svc("a", "web", 1, 2)}, Config{})
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestProxierClock checks that syncs are timed, and full syncs
// scheduled, on the injected clock.
func TestProxierClock(t *testing.T) {
	fc := clocktesting.NewFakeClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	p := NewNFTProxier(newTestNFT(), ProxierConfig{Config: nftTestConfig, FullSyncInterval: time.Hour},
		zaptest.NewLogger(t), fc)
	p.Update([]ServicePort{svc("ns", "a", 1, 2)})
	fc.Step(3 * time.Second)
	mustSync(t, p)
	if m := p.Metrics(); !m.LastFull || m.LastLatency != 3*time.Second || !m.LastSyncAt.Equal(fc.Now()) || m.LastDuration != 0 {
		t.Fatalf("first sync metrics %+v, want a full sync 3s after the update, at %v, taking no fake time", m, fc.Now())
	}
	p.Update([]ServicePort{svc("ns", "a", 1, 3)})
	fc.Step(59 * time.Minute)
	mustSync(t, p)
	if m := p.Metrics(); m.LastFull || m.LastLatency != 59*time.Minute {
		t.Fatalf("sync after 59 minutes: %+v, want an incremental one with 59m latency", m)
	}
	p.Update([]ServicePort{svc("ns", "a", 1, 4)})
	fc.Step(time.Minute)
	mustSync(t, p)
	if m := p.Metrics(); !m.LastFull {
		t.Fatalf("sync an hour after the last full one: %+v, want a full one", m)
	}
}
