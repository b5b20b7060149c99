package bench

import (
	"bufio"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/strom-project/strom/cmd/stromd/app"
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
	d := clustertest.StartStromd(b, func(c *app.Config) { c.Logger = zap.NewNop() })
	conns := adminClients(b, d, 64)
	b.ReportMetric(rssMiB(b), "MiB-rss-start")
	b.ResetTimer()
	applyLoad(b, conns, b.N, nil)
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
