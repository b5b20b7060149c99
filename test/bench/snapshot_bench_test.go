package bench

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/strom-project/strom/cmd/stromd/app"
	"github.com/strom-project/strom/test/clustertest"
)

// BenchmarkSnapshotSchedule writes b.N ConfigMap updates through a whole
// stromd from 64 clients (its own NATS connections, as the CLI) and
// reports the gap between the newest two snapshots and the tail of
// events after the newest (what a restart replays): the target is a
// snapshot every --snapshot-every (10,000) events whatever the write
// rate.
func BenchmarkSnapshotSchedule(b *testing.B) {
	d := clustertest.StartStromd(b, func(c *app.Config) { c.Logger = zap.NewNop() })
	conns := adminClients(b, d, 64)
	ctx := context.Background()
	b.ResetTimer()
	elapsed := applyLoad(b, conns, b.N, nil)
	b.StopTimer()
	time.Sleep(time.Second) // a snapshot triggered by the last writes
	snaps, err := d.Projection().Snapshots(ctx)
	if err != nil {
		b.Fatal(err)
	}
	// Kept snapshots are thinned to 16 spread over the history, so the
	// schedule shows in the newest two and in the tail after the newest:
	// what a restart now replays.
	last := d.Projection().Store().LastSeq()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "writes/s")
	if n := len(snaps); n >= 2 {
		b.ReportMetric(float64(snaps[n-1]-snaps[n-2]), "newest-gap-events")
		b.ReportMetric(float64(last-snaps[n-1]), "tail-events")
	}
	b.Log(fmt.Sprint("snapshots kept: ", snaps))
}
