package daemonsetctl

import (
	"fmt"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
)

// Back-off between replacements of failed daemon pods on one node, as
// Kubernetes' controller has it: 1 s doubling to 15 min, per set,
// template generation and node; an entry idle for twice the maximum is
// forgotten.
const (
	backoffInitial = time.Second
	backoffMax     = 15 * time.Minute
)

type backoffEntry struct {
	delay time.Duration
	last  time.Time
}

// failedBackoff remembers, per set generation and node, when a failed
// pod was last deleted.
type failedBackoff struct {
	mu sync.Mutex // guards m
	m  map[string]backoffEntry
}

func backoffKey(ds *appsv1.DaemonSet, node string) string {
	return fmt.Sprintf("%s/%d/%s", ds.UID, ds.Generation, node)
}

// until returns, per node of ds in back-off, the end of its back-off.
func (b *failedBackoff) until(ds *appsv1.DaemonSet, nodes []string, now time.Time) map[string]time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	for k, e := range b.m {
		if now.Sub(e.last) > 2*backoffMax {
			delete(b.m, k)
		}
	}
	var out map[string]time.Time
	for _, n := range nodes {
		if e, ok := b.m[backoffKey(ds, n)]; ok {
			if out == nil {
				out = map[string]time.Time{}
			}
			out[n] = e.last.Add(e.delay)
		}
	}
	return out
}

// next notes a failed pod deleted on node now, doubling its back-off.
func (b *failedBackoff) next(ds *appsv1.DaemonSet, node string, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.m == nil {
		b.m = map[string]backoffEntry{}
	}
	k := backoffKey(ds, node)
	e, ok := b.m[k]
	switch {
	case !ok:
		e.delay = backoffInitial
	default:
		e.delay = min(2*e.delay, backoffMax)
	}
	e.last = now
	b.m[k] = e
}
