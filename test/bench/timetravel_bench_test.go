package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/strom-project/strom/cmd/stromd/app"
	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/api"
	"github.com/strom-project/strom/projections"
	"github.com/strom-project/strom/test/testutil"
)

// BenchmarkTimeTravel builds a log of 1.25 × STROM_BENCH_EVENTS events
// (default 1,000,000: 1,250,000 events of ~1.3 KB pods, 10% distinct
// objects) in a stromd that snapshots every 10,000 events as it follows,
// then measures, each with -benchtime=1x:
//
//   - at: `get --at` a point STROM_BENCH_EVENTS events back, through the
//     API as the CLI asks it (snapshot load + tail replay + answer);
//   - export: `strom log export` of the whole log to a file;
//   - replay: loading that file with no server and folding it to its last
//     state (what `strom replay` and `stromd --replay` do first).
func BenchmarkTimeTravel(b *testing.B) {
	n := eventCount()
	total := n + n/4
	dir := b.TempDir()
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
	testutil.Eventually(b, 10*time.Minute, func() error {
		if s := d.Projection().Store().LastSeq(); s < last {
			return fmt.Errorf("projection at #%d of #%d", s, last)
		}
		return nil
	})
	b.Logf("built %d events in %s", total, time.Since(start).Round(time.Second))
	c := testutil.AdminClient(b, d)
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
	b.Run("export", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			// Start with no dirty pages: writing the 1.6 GB log above
			// leaves the kernel flushing it, which would compete with the
			// export's own writes and make runs differ by ±30 %.
			syscall.Sync()
			f, err := os.Create(file)
			if err != nil {
				b.Fatal(err)
			}
			t0 := time.Now()
			h, err := projections.Export(context.Background(), d.JetStream(), f, projections.ExportOptions{})
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
	// The same export as `strom log export --file` runs it: its own
	// process, the admin user, TCP to stromd's listener.
	b.Run("export-cli", func(b *testing.B) {
		bin := filepath.Join(b.TempDir(), "strom")
		if out, err := exec.Command("go", "build", "-o", bin, "github.com/strom-project/strom/cmd/strom").CombinedOutput(); err != nil {
			b.Fatalf("building strom: %v\n%s", err, out)
		}
		cliFile := filepath.Join(dir, "cli.stromlog")
		for i := 0; i < b.N; i++ {
			syscall.Sync()
			t0 := time.Now()
			out, err := exec.Command(bin, "--config", filepath.Join(dir, "admin.conf"), "log", "export", "--file", cliFile).CombinedOutput()
			if err != nil {
				b.Fatalf("strom log export: %v\n%s", err, out)
			}
			el := time.Since(t0)
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
}
