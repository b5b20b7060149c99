package bench

import (
	"bufio"
	"context"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/strom-project/strom/cmd/stromd/app"
	"github.com/strom-project/strom/events/api"
	"github.com/strom-project/strom/test/clustertest"
)

// rssMiB is this process's resident set (VmRSS).
func rssMiB(b *testing.B) float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024
		}
	}
	b.Fatal("no VmRSS in /proc/self/status")
	return 0
}

func heapMiB() float64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.HeapAlloc) / (1 << 20)
}

// BenchmarkMemoryUnderLoad: a whole stromd (embedded NATS) takes b.N
// ConfigMap updates from 64 clients over 3,200 objects, then idles. It
// reports the live heap and RSS after the load, after 15 s idle, and after
// the runtime has returned freed memory (debug.FreeOSMemory): what the
// process holds, and what it only has not given back yet. The benchmark
// process is stromd plus its clients, as in BenchmarkWritePath.
func BenchmarkMemoryUnderLoad(b *testing.B) {
	const clients = 64
	d := clustertest.StartStromd(b, func(c *app.Config) { c.Logger = zap.NewNop() })
	conns := make([]*api.Client, clients)
	for i := range conns {
		conns[i] = clustertest.AdminClient(b, d)
	}
	b.ReportMetric(rssMiB(b), "MiB-rss-start")
	ctx := context.Background()
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				obj := cmJSON("cm-"+strconv.Itoa(c)+"-"+strconv.Itoa(int(i%50)), int(i))
				if _, err := conns[c].Do(ctx, api.VerbApply, &api.Request{Object: obj, Namespace: "default"}); err != nil {
					b.Error(err)
					return
				}
			}
		}(c)
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(heapMiB(), "MiB-heap-load")
	b.ReportMetric(rssMiB(b), "MiB-rss-load")
	time.Sleep(15 * time.Second)
	b.ReportMetric(heapMiB(), "MiB-heap-idle")
	b.ReportMetric(rssMiB(b), "MiB-rss-idle")
	debug.FreeOSMemory()
	b.ReportMetric(heapMiB(), "MiB-heap-released")
	b.ReportMetric(rssMiB(b), "MiB-rss-released")
}
