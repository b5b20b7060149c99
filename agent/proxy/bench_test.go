package proxy

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"testing"
	"time"

	"go.uber.org/zap"
)

// Benchmarks of the sync path against real iptables in a throwaway
// network namespace. scripts/bench-proxy.sh runs them and explains the
// numbers; docs/bench/proxy.md records them.

// benchState is n service ports with 5 ready endpoints each.
func benchState(n int) []ServicePort {
	out := make([]ServicePort, n)
	for i := range out {
		sp := ServicePort{Namespace: fmt.Sprintf("ns%d", i%100), Name: fmt.Sprintf("svc%d", i), PortName: "http",
			Protocol: "TCP", ClusterIP: netip.AddrFrom4([4]byte{10, 96, byte(i >> 8), byte(i)}), Port: 80}
		if i%10 == 0 {
			sp.NodePort = int32(30000 + i/10)
		}
		for k := 0; k < 5; k++ {
			sp.Endpoints = append(sp.Endpoints, Endpoint{IP: benchEndpointIP(i*5 + k), Port: 8080, Ready: true})
		}
		out[i] = sp
	}
	return out
}

func benchEndpointIP(j int) netip.Addr {
	return netip.AddrFrom4([4]byte{10, byte(128 + j>>16), byte(j >> 8), byte(j)})
}

var benchSizes = []int{1000, 10000}

func BenchmarkRender(b *testing.B) {
	for _, n := range benchSizes {
		state := benchState(n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			var size int
			for b.Loop() {
				nat, filter := Render(state, Config{PodCIDR: netip.MustParsePrefix("10.128.0.0/9")})
				size = len(nat) + len(filter)
			}
			b.ReportMetric(float64(size), "bytes")
		})
	}
}

func BenchmarkRenderNFT(b *testing.B) {
	for _, n := range benchSizes {
		state := benchState(n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			var size int
			for b.Loop() {
				size = len(RenderNFT(state, benchConfig))
			}
			b.ReportMetric(float64(size), "bytes")
		})
	}
}

// benchConfig: endpoints are spread over a /9 of pod addresses; this node
// holds the first /24 of them (256 of the endpoints), which is what the
// nftables mode keeps hairpin entries for.
var benchConfig = Config{PodCIDR: netip.MustParsePrefix("10.128.0.0/9"), LocalPodCIDR: netip.MustParsePrefix("10.128.0.0/24")}

// benchBackends are the data planes installed here: "nftables" (the
// nftables mode, nft) and the iptables mode's "nft" and "legacy"
// iptables backends.
func benchBackends() []string {
	var out []string
	if _, err := exec.LookPath("nft"); err == nil {
		out = append(out, "nftables")
	}
	for _, be := range []string{"nft", "legacy"} {
		if _, err := exec.LookPath("iptables-" + be + "-restore"); err == nil {
			out = append(out, be)
		}
	}
	return out
}

// benchProxier is a Proxier on real iptables in a fresh namespace,
// already fully synced with n services.
func benchProxier(b *testing.B, backend string, n int) (*Proxier, []ServicePort) {
	requireRoot(b)
	ns := testNetns(b, fmt.Sprintf("spxb%d-%s-%d", os.Getpid()%100000, backend, n))
	cfg := ProxierConfig{Config: benchConfig, FullSyncInterval: -1}
	var p *Proxier
	if backend == "nftables" {
		r, err := NewExecNFT("/var/run/netns/" + ns)
		if err != nil {
			b.Fatalf("runner: %v", err)
		}
		p = NewNFTProxier(r, cfg, zap.NewNop(), nil)
	} else {
		r, err := NewExecRunner(ExecOptions{Backend: backend, NetnsPath: "/var/run/netns/" + ns})
		if err != nil {
			b.Fatalf("runner: %v", err)
		}
		p = NewProxier(r, cfg, zap.NewNop(), nil)
	}
	state := benchState(n)
	p.Update(state)
	if err := p.Sync(); err != nil {
		b.Fatalf("initial sync: %v", err)
	}
	return p, state
}

// BenchmarkSyncFull rewrites every rule (and, in the nftables mode,
// every element) of a table that already holds n services: the repair
// sync that runs hourly and after a failure.
func BenchmarkSyncFull(b *testing.B) { benchSyncFull(b, false) }

// BenchmarkSyncFresh (nftables mode) deletes the table and programs n
// services from nothing in one transaction: the first sync of an agent.
func BenchmarkSyncFresh(b *testing.B) { benchSyncFull(b, true) }

func benchSyncFull(b *testing.B, fresh bool) {
	for _, be := range benchBackends() {
		if fresh && be != "nftables" {
			continue
		}
		for _, n := range benchSizes {
			b.Run(fmt.Sprintf("%s/%d", be, n), func(b *testing.B) {
				p, _ := benchProxier(b, be, n)
				var render, restore, cpu, total time.Duration
				for b.Loop() {
					p.syncMu.Lock()
					p.needFull = true
					if fresh {
						p.nft.fresh = true
					}
					p.syncMu.Unlock()
					if err := p.Sync(); err != nil {
						b.Fatal(err)
					}
					m := p.Metrics()
					render += m.LastRender
					restore += m.LastRestore
					cpu += m.LastRestoreCPU
					total += m.LastDuration
				}
				b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "sync-ms/op")
				b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "restore-cpu-ms/op")
				b.ReportMetric(float64(render.Milliseconds())/float64(b.N), "render-ms/op")
				b.ReportMetric(float64(restore.Milliseconds())/float64(b.N), "restore-ms/op")
				reportSize(b, p.Metrics())
			})
		}
	}
}

// BenchmarkSyncIncremental changes one endpoint of one random service
// per iteration and syncs; it reports percentiles of the sync time.
func BenchmarkSyncIncremental(b *testing.B) {
	for _, be := range benchBackends() {
		for _, n := range benchSizes {
			b.Run(fmt.Sprintf("%s/%d", be, n), func(b *testing.B) {
				p, state := benchProxier(b, be, n)
				rng := rand.New(rand.NewPCG(uint64(n), 7))
				var total, render, restore, cpu []time.Duration
				next := n * 5
				for b.Loop() {
					i := rng.IntN(n)
					sp := state[i]
					sp.Endpoints = slices.Clone(sp.Endpoints)
					sp.Endpoints[rng.IntN(5)].IP = benchEndpointIP(next)
					next++
					state[i] = sp
					p.OnServiceUpdate(sp.Namespace, sp.Name, []ServicePort{sp})
					if err := p.Sync(); err != nil {
						b.Fatal(err)
					}
					m := p.Metrics()
					if m.LastFull || m.LastServices != 1 {
						b.Fatalf("not an incremental sync of one service: %+v", m)
					}
					total = append(total, m.LastDuration)
					render = append(render, m.LastRender)
					restore = append(restore, m.LastRestore)
					cpu = append(cpu, m.LastRestoreCPU)
				}
				reportPercentiles(b, "restore-cpu", cpu)
				reportPercentiles(b, "sync", total)
				reportPercentiles(b, "render", render)
				reportPercentiles(b, "restore", restore)
				reportSize(b, p.Metrics())
			})
		}
	}
}

// BenchmarkProgrammingLatency runs the coalescing Proxier (default 100 ms
// minimum interval) on real iptables and measures, per endpoint change,
// the time from Update to the rules being programmed. Changes arrive
// every 30 ms, faster than the minimum interval, so some wait for it.
func BenchmarkProgrammingLatency(b *testing.B) {
	for _, be := range benchBackends() {
		for _, n := range benchSizes {
			b.Run(fmt.Sprintf("%s/%d", be, n), func(b *testing.B) {
				p, state := benchProxier(b, be, n)
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan struct{})
				go func() { p.Run(ctx); close(done) }()
				defer func() { cancel(); <-done }()
				rng := rand.New(rand.NewPCG(uint64(n), 9))
				type pending struct {
					gen uint64
					at  time.Time
				}
				results := make(chan time.Duration, 1<<16)
				waits := make(chan pending, 1<<16)
				go func() {
					for w := range waits {
						if err := p.WaitApplied(ctx, w.gen); err != nil {
							close(results)
							return
						}
						results <- time.Since(w.at)
					}
					close(results)
				}()
				next := n * 5
				tick := time.NewTicker(30 * time.Millisecond)
				defer tick.Stop()
				for b.Loop() {
					<-tick.C
					i := rng.IntN(n)
					sp := state[i]
					sp.Endpoints = slices.Clone(sp.Endpoints)
					sp.Endpoints[rng.IntN(5)].IP = benchEndpointIP(next)
					next++
					state[i] = sp
					at := time.Now()
					p.OnServiceUpdate(sp.Namespace, sp.Name, []ServicePort{sp})
					waits <- pending{gen: p.Generation(), at: at}
				}
				close(waits)
				var lat []time.Duration
				for d := range results {
					lat = append(lat, d)
				}
				if len(lat) != b.N {
					b.Fatalf("%d of %d changes confirmed", len(lat), b.N)
				}
				reportPercentiles(b, "latency", lat)
				b.ReportMetric(float64(p.Metrics().Syncs), "syncs")
			})
		}
	}
}

// reportSize reports the size of the last sync's input: bytes of
// iptables-restore input, or operations of the nftables transaction.
func reportSize(b *testing.B, m SyncMetrics) {
	if m.LastOps > 0 {
		b.ReportMetric(float64(m.LastOps), "ops")
		return
	}
	b.ReportMetric(float64(m.LastBytes), "bytes")
}

func reportPercentiles(b *testing.B, name string, ds []time.Duration) {
	if len(ds) == 0 {
		return
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	pct := func(q float64) float64 {
		return float64(s[min(len(s)-1, int(q*float64(len(s))))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.5), name+"-p50-ms")
	b.ReportMetric(pct(0.99), name+"-p99-ms")
	b.ReportMetric(float64(s[len(s)-1].Microseconds())/1000, name+"-max-ms")
}
