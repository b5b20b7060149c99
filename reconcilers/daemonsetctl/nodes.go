package daemonsetctl

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"

	"github.com/strom-project/strom/events"
)

// nodeFilter passes on a node's event only when what decides where
// daemons run changed: its labels, taints, cordon or readiness. A node's
// status writes (heartbeats, addresses, images) would otherwise plan
// every DaemonSet each time.
type nodeFilter struct {
	mu   sync.Mutex        // guards seen
	seen map[string]string // node name -> fingerprint
}

// changed reports whether ev changes its node's placement fingerprint.
func (f *nodeFilter) changed(ev *events.Event) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.seen == nil {
		f.seen = map[string]string{}
	}
	if ev.Type == events.TypeDeleted {
		delete(f.seen, ev.Name)
		return true
	}
	var n corev1.Node
	if err := json.Unmarshal(ev.Object, &n); err != nil {
		return true // let the reconcile find out
	}
	fp := fingerprint(&n)
	if old, ok := f.seen[ev.Name]; ok && old == fp {
		return false
	}
	f.seen[ev.Name] = fp
	return true
}

func fingerprint(n *corev1.Node) string {
	var b strings.Builder
	keys := make([]string, 0, len(n.Labels))
	for k := range n.Labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "%q=%q,", k, n.Labels[k])
	}
	b.WriteString("|")
	for _, t := range n.Spec.Taints {
		fmt.Fprintf(&b, "%q=%q:%s,", t.Key, t.Value, t.Effect)
	}
	fmt.Fprintf(&b, "|%v|", n.Spec.Unschedulable)
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			b.WriteString(string(c.Status))
		}
	}
	return b.String()
}
