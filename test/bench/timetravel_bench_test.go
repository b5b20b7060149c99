package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/strom-project/strom/cmd/stromd/app"
	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/api"
	"github.com/strom-project/strom/events/logfile"
	"github.com/strom-project/strom/projections"
	"github.com/strom-project/strom/test/clustertest"
	"github.com/strom-project/strom/test/logtest"
)

// BenchmarkTimeTravel builds a log of 1.25 × STROM_BENCH_EVENTS events
// (default 1,000,000: 1,250,000 events of ~1.3 KB pods, 10% distinct
// objects) in a stromd that snapshots every 10,000 events as it follows,
// then measures, each with -benchtime=1x:
//
//   - at: `get --at` a point STROM_BENCH_EVENTS events back, through the
//     API as the CLI asks it (snapshot load + tail replay + answer);
//   - export: `strom log export` of the whole log to a file (from a
//     stream snapshot; export-consumer with the push consumer instead,
//     export-cli through the strom binary);
//   - replay: loading that file with no server and folding it to its last
//     state (what `strom replay` and `stromd --replay` do first).
func BenchmarkTimeTravel(b *testing.B) {
	n := eventCount()
	total := n + n/4
	dir := b.TempDir()
	if keep := os.Getenv("STROM_BENCH_KEEP"); keep != "" {
		// Keep the data dir (log, export files) for looking into them.
		dir = keep
	}
	cfg := app.Config{DataDir: dir, Listen: "127.0.0.1:0", NoAgent: true, NoControllers: true, NodeName: "bench", Logger: zap.NewNop(), SnapshotEvery: 10000}
	d, err := app.Start(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer d.Stop()
	base, err := events.LastSeq(context.Background(), d.JetStream())
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	history(b, d.JetStream(), total, total/10)
	last := base + uint64(total)
	logtest.Eventually(b, 10*time.Minute, func() error {
		if s := d.Projection().Store().LastSeq(); s < last {
			return fmt.Errorf("projection at #%d of #%d", s, last)
		}
		return nil
	})
	b.Logf("built %d events in %s", total, time.Since(start).Round(time.Second))
	c := clustertest.AdminClient(b, d)
	at := last - uint64(n)
	file := filepath.Join(dir, "bench.stromlog")

	b.Run("at", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			t0 := time.Now()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			resp, err := c.Do(ctx, api.VerbGet, &api.Request{Resource: "pods", Namespace: "default", Name: "web-1", At: fmt.Sprint(at)})
			cancel()
			if err != nil {
				b.Fatal(err)
			}
			if resp.Seq != at {
				b.Fatalf("answered at #%d, want #%d", resp.Seq, at)
			}
			b.ReportMetric(time.Since(t0).Seconds(), "s-per-at")
		}
		snaps, _ := d.Projection().Snapshots(context.Background())
		b.Logf("--at #%d (%d events back of #%d), snapshots %v", at, n, last, snaps)
	})
	// export reads a stream snapshot (what an export of the whole log
	// does); export-consumer forces the push consumer, for comparison.
	for _, c := range []struct{ name, read string }{{"export", projections.ExportReadSnapshot}, {"export-consumer", projections.ExportReadConsumer}} {
		b.Run(c.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				// Start with no dirty pages: writing the 1.6 GB log above
				// leaves the kernel flushing it, which would compete with
				// the export's own writes and make runs differ by ±30 %.
				syscall.Sync()
				f, err := os.Create(file)
				if err != nil {
					b.Fatal(err)
				}
				stopProfile := startProfile(b, c.name)
				t0 := time.Now()
				h, err := projections.Export(context.Background(), d.JetStream(), f, projections.ExportOptions{Read: c.read})
				stopProfile()
				if err != nil {
					b.Fatal(err)
				}
				if err := f.Close(); err != nil {
					b.Fatal(err)
				}
				el := time.Since(t0)
				if h.LastSeq != last {
					b.Fatalf("exported to #%d, want #%d", h.LastSeq, last)
				}
				st, _ := os.Stat(file)
				b.ReportMetric(float64(h.Count)/el.Seconds(), "events/s")
				b.ReportMetric(float64(st.Size())/el.Seconds()/(1<<20), "MiB/s")
			}
		})
	}
	bin := filepath.Join(b.TempDir(), "strom")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/strom-project/strom/cmd/strom").CombinedOutput(); err != nil {
		b.Fatalf("building strom: %v\n%s", err, out)
	}
	// The same export as `strom log export --file` runs it: its own
	// process, the admin user, TCP to stromd's listener.
	b.Run("export-cli", func(b *testing.B) {
		cliFile := filepath.Join(dir, "cli.stromlog")
		for i := 0; i < b.N; i++ {
			quiesce()
			cpu0 := selfCPU()
			t0 := time.Now()
			out, err := exec.Command(bin, "--config", filepath.Join(dir, "admin.conf"), "log", "export", "--file", cliFile).CombinedOutput()
			if err != nil {
				b.Fatalf("strom log export: %v\n%s", err, out)
			}
			el := time.Since(t0)
			b.ReportMetric((selfCPU() - cpu0).Seconds(), "s-cpu-stromd")
			if !strings.Contains(string(out), "read from a stream snapshot") {
				b.Fatalf("strom log export did not read a snapshot:\n%s", out)
			}
			st, err := os.Stat(cliFile)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(total)/el.Seconds(), "events/s")
			b.ReportMetric(float64(st.Size())/el.Seconds()/(1<<20), "MiB/s")
			_ = os.Remove(cliFile)
		}
	})
	b.Run("replay", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			syscall.Sync()
			stopProfile := startProfile(b, "replay")
			t0 := time.Now()
			h, err := projections.LoadFile(file, nil)
			if err != nil {
				b.Fatal(err)
			}
			loaded := time.Since(t0)
			st, err := h.Latest(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			el := time.Since(t0)
			stopProfile()
			if st.LastSeq() != last {
				b.Fatalf("replayed to #%d, want #%d", st.LastSeq(), last)
			}
			if err := projections.Compare(st, d.Projection().Store()); err != nil {
				b.Fatalf("replayed state differs from the live view: %v", err)
			}
			cnt := h.Header().Count
			b.ReportMetric(float64(cnt)/el.Seconds(), "events/s")
			b.ReportMetric(loaded.Seconds(), "s-load")
			b.ReportMetric(el.Seconds()-loaded.Seconds(), "s-fold")
		}
	})
	// What a user waits for: `strom replay` in its own process, loading
	// the file, folding it and answering one get at its last point.
	b.Run("replay-cli", func(b *testing.B) {
		f, err := os.Open(file)
		if err != nil {
			b.Fatal(err)
		}
		r, err := logfile.NewReader(f)
		f.Close()
		if err != nil {
			b.Fatal(err)
		}
		count := r.Header().Count
		for i := 0; i < b.N; i++ {
			quiesce()
			cpu0 := selfCPU()
			t0 := time.Now()
			out, err := exec.Command(bin, "replay", "--file", file, "get", "pods", "web-1", "-n", "default", "-o", "name").CombinedOutput()
			if err != nil {
				b.Fatalf("strom replay: %v\n%s", err, out)
			}
			el := time.Since(t0)
			b.ReportMetric((selfCPU() - cpu0).Seconds(), "s-cpu-bench")
			if strings.TrimSpace(string(out)) != "pod/web-1" {
				b.Fatalf("strom replay get: %q", out)
			}
			b.ReportMetric(float64(count)/el.Seconds(), "events/s")
		}
	})
}

// quiesce settles this process before a timed child process runs: the
// bench process holds the live cluster's heap, and a background GC of it
// would share the machine's two cores with the command being timed.
// (Not debug.FreeOSMemory: on this VM memory handed back costs a page
// fault per page when the in-process stromd needs it again.)
func quiesce() {
	runtime.GC()
	syscall.Sync()
}

// selfCPU is the CPU time this process (the benchmark with its stromd)
// has used: the CLI parts report how much it took while they ran.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// startProfile writes a CPU profile of what follows to
// $STROM_BENCH_CPUPROFILE/<name>.pprof when that variable names a
// directory; the returned function stops it.
func startProfile(b *testing.B, name string) func() {
	dir := os.Getenv("STROM_BENCH_CPUPROFILE")
	if dir == "" {
		return func() {}
	}
	f, err := os.Create(filepath.Join(dir, name+".pprof"))
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		b.Fatal(err)
	}
	return func() {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
	}
}
