package proxy

import (
	"fmt"
	"math/rand/v2"
	"os"
	"testing"

	"go.uber.org/zap/zaptest"
)

// TestNFTIncrementalAcceptedByKernel replays the random changes of
// TestNFTIncrementalEqualsFull against the real kernel in a throwaway
// namespace. knftables' fake does not refuse everything the kernel does
// (deleting a chain that is still referenced, re-adding a map key with
// another value), so this checks that every incremental transaction,
// and the periodic full resyncs over the live table, are accepted.
func TestNFTIncrementalAcceptedByKernel(t *testing.T) {
	requireRoot(t)
	ns := testNetns(t, fmt.Sprintf("spxk%d", os.Getpid()%100000))
	r, err := NewExecNFT("/var/run/netns/" + ns)
	if err != nil {
		t.Fatal(err)
	}
	p := NewNFTProxier(r, ProxierConfig{Config: nftTestConfig, FullSyncInterval: -1}, zaptest.NewLogger(t), nil)
	rng := rand.New(rand.NewPCG(3, 4))
	state := map[int]ServicePort{}
	fulls := 0
	for step := 0; step < 400; step++ {
		randomChanges(rng, state)
		list := make([]ServicePort, 0, len(state))
		for _, sp := range state {
			list = append(list, sp)
		}
		p.Update(list)
		if step%97 == 96 {
			p.syncMu.Lock()
			p.needFull = true
			p.syncMu.Unlock()
		}
		if err := p.Sync(); err != nil {
			t.Fatalf("step %d: the kernel refused the sync: %v", step, err)
		}
		if p.Metrics().LastFull {
			fulls++
		}
	}
	if m := p.Metrics(); m.Failures != 0 || fulls != 5 { // the first sync and 4 forced ones
		t.Fatalf("metrics %+v, %d full syncs, want no failures and 5 full syncs", m, fulls)
	}
	if err := CleanupNFT(r); err != nil {
		t.Fatal(err)
	}
}
