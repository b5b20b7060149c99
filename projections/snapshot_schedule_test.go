package projections_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"

	"github.com/strom-project/strom/test/logtest"
)

// Under 64 concurrent writers snapshots come every SnapshotEvery events:
// never closer (a trigger that arrived while the previous snapshot was
// being written used to write a second one an event later, halving the
// history the kept snapshots cover), and not much further apart.
func TestSnapshotScheduleUnderConcurrentWrites(t *testing.T) {
	const every, writers, perWriter = 500, 64, 100
	l := logtest.StartLog(t, clock.RealClock{})
	ctx := context.Background()
	if _, err := l.Writer.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, opts()); err != nil {
		t.Fatal(err)
	}
	p := startProjection(t, l, every)
	var wg sync.WaitGroup
	for c := 0; c < writers; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perWriter; i++ {
				cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("c%d-%d", c, i%10), Namespace: "default"}, Data: map[string]string{"v": strconv.Itoa(i)}}
				if _, err := l.Writer.Apply(ctx, cm, opts()); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	last := l.LastSeq(t)
	logtest.Eventually(t, 10*time.Second, func() error {
		if got := p.Store().LastSeq(); got != last {
			return fmt.Errorf("view at #%d, want #%d", got, last)
		}
		return nil
	})
	time.Sleep(200 * time.Millisecond) // let a last triggered snapshot finish
	snaps, err := p.Snapshots(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(snaps); i++ {
		if snaps[i]-snaps[i-1] < every {
			t.Fatalf("snapshots %v: #%d and #%d are closer than %d events", snaps, snaps[i-1], snaps[i], every)
		}
	}
	if ideal := int(last / every); len(snaps) < ideal/2 {
		t.Fatalf("%d snapshots over %d events (every %d): %v", len(snaps), last, every, snaps)
	}
}
