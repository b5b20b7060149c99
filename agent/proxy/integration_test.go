package proxy

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"
	"sigs.k8s.io/knftables"
)

// startProxier runs a Proxier in the given mode against the real
// iptables or nft in the bed's node namespace and stops it in t.Cleanup.
func startProxier(t *testing.T, b *testBed, mode string) (*Proxier, *ExecRunner, *ExecNFT) {
	t.Helper()
	cfg := ProxierConfig{
		Config: Config{PodCIDR: netip.MustParsePrefix("10.244.0.0/16"), LocalhostNodePorts: true,
			LocalPodCIDR: netip.MustParsePrefix("10.244.0.0/24")},
		MinSyncInterval: 10 * time.Millisecond,
	}
	r, err := NewExecRunner(ExecOptions{NetnsPath: "/var/run/netns/" + b.node})
	if err != nil {
		t.Fatalf("real runner: %v", err)
	}
	var nr *ExecNFT
	var p *Proxier
	if mode == ModeNFTables {
		if nr, err = NewExecNFT("/var/run/netns/" + b.node); err != nil {
			t.Fatalf("nft runner: %v", err)
		}
		p = NewNFTProxier(nr, cfg, zaptest.NewLogger(t), nil)
	} else {
		p = NewProxier(r, cfg, zaptest.NewLogger(t), nil)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return p, r, nr
}

func apply(t *testing.T, p *Proxier, state []ServicePort) {
	t.Helper()
	p.Update(state)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.WaitApplied(ctx, p.Generation()); err != nil {
		t.Fatalf("rules not programmed: %v (metrics %+v)", err, p.Metrics())
	}
}

func TestIntegrationServiceProxy(t *testing.T) {
	for _, mode := range []string{ModeIPTables, ModeNFTables} {
		t.Run(mode, func(t *testing.T) { testIntegrationServiceProxy(t, mode) })
	}
}

func testIntegrationServiceProxy(t *testing.T, mode string) {
	b := newTestBed(t)
	var backends []Endpoint
	for i, name := range []string{"pod1", "pod2", "pod3"} {
		ip := b.addPod(name, 11+i)
		backends = append(backends, Endpoint{IP: netip.MustParseAddr(ip), Port: 8080, Ready: true})
	}
	p, r, nr := startProxier(t, b, mode)

	web := ServicePort{Namespace: "default", Name: "web", Protocol: "TCP",
		ClusterIP: netip.MustParseAddr("10.96.0.10"), Port: 80, NodePort: 30080, Endpoints: backends}
	sticky := ServicePort{Namespace: "default", Name: "sticky", Protocol: "TCP",
		ClusterIP: netip.MustParseAddr("10.96.0.11"), Port: 80, SessionAffinityClientIP: true,
		AffinityTimeoutSeconds: 300, Endpoints: backends}
	down := ServicePort{Namespace: "default", Name: "down", Protocol: "TCP",
		ClusterIP: netip.MustParseAddr("10.96.0.12"), Port: 80, NodePort: 30082,
		Endpoints: []Endpoint{{IP: backends[0].IP, Port: 8080, Ready: false}}}
	apply(t, p, []ServicePort{web, sticky, down})

	t.Run("cluster IP reaches all backends", func(t *testing.T) {
		got, err := b.hits("10.96.0.10:80", 60)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 3 {
			t.Fatalf("60 connections reached %v, want all 3 backends", got)
		}
	})
	t.Run("node port on node address", func(t *testing.T) {
		got, err := b.hits(b.nodeIP+":30080", 30)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) < 2 {
			t.Fatalf("30 connections reached only %v", got)
		}
	})
	t.Run("node port on localhost", func(t *testing.T) {
		got, err := b.hits("127.0.0.1:30080", 30)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) < 2 {
			t.Fatalf("30 connections reached only %v", got)
		}
	})
	t.Run("pod reaches its own service, itself included (hairpin)", func(t *testing.T) {
		got := map[string]int{}
		for i := 0; i < 40; i++ {
			name, err := b.dialFrom(b.podNS["pod1"], "10.96.0.10:80")
			if err != nil {
				t.Fatalf("connection %d from pod1: %v (so far %v)", i, err, got)
			}
			got[name]++
		}
		if got["pod1"] == 0 || len(got) < 2 {
			t.Fatalf("40 connections from pod1 reached %v, want pod1 itself and others", got)
		}
	})
	t.Run("no ready endpoints is rejected fast", func(t *testing.T) {
		for _, a := range []string{"10.96.0.12:80", b.nodeIP + ":30082"} {
			start := time.Now()
			_, err := b.dial(a)
			if !errors.Is(err, syscall.ECONNREFUSED) {
				t.Fatalf("dial %s: got %v, want connection refused", a, err)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("dial %s took %v before being refused", a, d)
			}
		}
	})
	t.Run("client IP affinity sticks", func(t *testing.T) {
		got, err := b.hits("10.96.0.11:80", 20)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 {
			t.Fatalf("20 connections with ClientIP affinity reached %v, want one backend", got)
		}
	})
	t.Run("removed endpoint is taken out", func(t *testing.T) {
		w := web
		w.Endpoints = backends[:2]
		apply(t, p, []ServicePort{w, sticky, down})
		if m := p.Metrics(); m.LastFull {
			t.Errorf("endpoint removal ran a full sync, want incremental")
		}
		got, err := b.hits("10.96.0.10:80", 40)
		if err != nil {
			t.Fatal(err)
		}
		if got["pod3"] != 0 || len(got) != 2 {
			t.Fatalf("after removing pod3, 40 connections reached %v", got)
		}
		if mode == ModeNFTables {
			elems, err := nr.ListElements(context.Background(), "map", nftBackends+"-tcp")
			if err != nil {
				t.Fatal(err)
			}
			if len(elems) == 0 {
				t.Fatalf("no backends in the kernel's map %s-tcp", nftBackends)
			}
			for _, e := range elems {
				if slices.Contains(e.Value, backends[2].IP.String()) {
					t.Errorf("stale backend %s still in the table: %v : %v", backends[2].IP, e.Key, e.Value)
				}
			}
			return
		}
		saved, err := r.Save("nat")
		if err != nil {
			t.Fatal(err)
		}
		if stale := endpointChain(web.Key(), backends[2].IP, 8080); strings.Contains(string(saved), stale) {
			t.Errorf("stale chain %s still in the nat table", stale)
		}
	})
	t.Run("endpoints added back and a new service", func(t *testing.T) {
		extra := ServicePort{Namespace: "other", Name: "api", Protocol: "TCP",
			ClusterIP: netip.MustParseAddr("10.96.0.20"), Port: 8080, Endpoints: backends[2:]}
		apply(t, p, []ServicePort{web, sticky, down, extra})
		got, err := b.hits("10.96.0.10:80", 60)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 3 {
			t.Fatalf("60 connections reached %v, want all 3 backends again", got)
		}
		got, err = b.hits("10.96.0.20:8080", 5)
		if err != nil {
			t.Fatal(err)
		}
		if got["pod3"] != 5 {
			t.Fatalf("new service reached %v, want pod3 only", got)
		}
	})
	t.Run("full resync over the live table", func(t *testing.T) {
		p.syncMu.Lock()
		p.needFull = true
		p.syncMu.Unlock()
		if err := p.Sync(); err != nil {
			t.Fatalf("full sync over existing rules: %v", err)
		}
		if !p.Metrics().LastFull {
			t.Fatalf("forced sync was not a full one")
		}
		got, err := b.hits("10.96.0.10:80", 60)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 3 {
			t.Fatalf("after a full resync 60 connections reached %v", got)
		}
		if got, err := b.hits("10.96.0.11:80", 10); err != nil || len(got) != 1 {
			t.Fatalf("affinity after a full resync: %v %v", got, err)
		}
	})
	t.Run("cleanup leaves no STROM chains", func(t *testing.T) {
		if mode == ModeNFTables {
			if err := CleanupNFT(nr); err != nil {
				t.Fatalf("cleanup: %v", err)
			}
			if chains, err := nr.List(context.Background(), "chains"); !knftables.IsNotFound(err) {
				t.Fatalf("table ip %s still there after cleanup (chains %v, err %v)", NFTTable, chains, err)
			}
			if _, err := b.dial("10.96.0.10:80"); err == nil {
				t.Fatalf("cluster IP still answers after cleanup")
			}
			return
		}
		if err := Cleanup(r); err != nil {
			t.Fatalf("cleanup: %v", err)
		}
		for _, table := range []string{"nat", "filter"} {
			saved, err := r.Save(table)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(saved), "STROM") {
				t.Fatalf("%s table still mentions STROM after cleanup:\n%s", table, saved)
			}
		}
		if _, err := b.dial("10.96.0.10:80"); err == nil {
			t.Fatalf("cluster IP still answers after cleanup")
		}
	})
}

// TestRenderNFTLoadsIntoKernel loads every golden nftables script into a
// real kernel (in a throwaway namespace), so the goldens cannot drift
// into syntax nft refuses.
func TestRenderNFTLoadsIntoKernel(t *testing.T) {
	requireRoot(t)
	ns := testNetns(t, fmt.Sprintf("spxg%d", os.Getpid()%100000))
	r, err := NewExecNFT("/var/run/netns/" + ns)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tc := range goldenCases {
		tx := renderNFT(r, tc.state, tc.cfg)
		if got, want := tx.String(), RenderNFT(tc.state, tc.cfg); got != want {
			t.Fatalf("%s: the transaction differs from the golden rendering:\n%s\nwant:\n%s", tc.name, got, want)
		}
		if err := r.Run(ctx, tx); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if chains, err := r.List(ctx, "chains"); err != nil || !slices.Contains(chains, nftChainServices) {
			t.Fatalf("%s: table not there after apply (chains %v, err %v)", tc.name, chains, err)
		}
	}
	if err := CleanupNFT(r); err != nil {
		t.Fatal(err)
	}
	if _, err := r.List(ctx, "chains"); !knftables.IsNotFound(err) {
		t.Fatalf("table still there after cleanup (err %v)", err)
	}
}
