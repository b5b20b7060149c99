package controller

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkControllerLoop measures the controller loop's throughput: b.N
// distinct keys are enqueued while the workers reconcile them with a no-op
// reconciler, so the cost measured is the queue and the loop around
// Reconcile. It reports keys/s.
func BenchmarkControllerLoop(b *testing.B) {
	for _, workers := range []int{1, 4} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			keys := make([]string, b.N)
			for i := range keys {
				keys[i] = fmt.Sprintf("ns/k%d", i)
			}
			var n atomic.Int64
			all := make(chan struct{})
			r := ReconcilerFunc(func(context.Context, string) (Result, error) {
				if n.Add(1) == int64(b.N) {
					close(all)
				}
				return Result{}, nil
			})
			c := New(r, Options{Workers: workers})
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			b.ResetTimer()
			start := time.Now()
			go func() { done <- c.Run(ctx) }()
			for _, k := range keys {
				c.Enqueue(k)
			}
			<-all
			elapsed := time.Since(start)
			b.StopTimer()
			cancel()
			if err := <-done; err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "keys/s")
		})
	}
}
