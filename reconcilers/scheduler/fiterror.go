package scheduler

import (
	"fmt"
	"sort"
	"strings"
)

// Reasons a node does not fit, worded as kube-scheduler words them.
const (
	ReasonUnschedulable         = "node(s) were unschedulable"
	ReasonNodeAffinity          = "node(s) didn't match Pod's node affinity/selector"
	ReasonHostPorts             = "node(s) didn't have free ports for the requested pod ports"
	ReasonTooManyPods           = "Too many pods"
	ReasonExistingAntiAffinity  = "node(s) didn't satisfy existing pods anti-affinity rules"
	ReasonPodAntiAffinity       = "node(s) didn't match pod anti-affinity rules"
	reasonInsufficientFormat    = "Insufficient %s"
	reasonInsufficientCPU       = "Insufficient cpu"
	reasonInsufficientMemory    = "Insufficient memory"
	noNodesAvailableExplanation = "no nodes available to schedule pods"
)

// FitError says why a pod fits no node. Its Error() reads like
// kube-scheduler's: "0/3 nodes are available: 1 node(s) had untolerated
// taint {key: value}, 2 Insufficient cpu." with one count per reason, the
// "count reason" strings sorted as strings (as kube-scheduler does).
type FitError struct {
	Pod         string         // namespace/name
	NumAllNodes int            // nodes considered
	Reasons     map[string]int // reason → number of nodes that gave it
	// PreFilterMsg explains a failure before any node was tried (an
	// invalid affinity, for example).
	PreFilterMsg string
}

// Error renders the kube-scheduler style message.
func (e *FitError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "0/%d nodes are available:", e.NumAllNodes)
	if e.PreFilterMsg != "" {
		fmt.Fprintf(&b, " %s.", e.PreFilterMsg)
	}
	if len(e.Reasons) > 0 {
		hist := make([]string, 0, len(e.Reasons))
		for reason, n := range e.Reasons {
			hist = append(hist, fmt.Sprintf("%d %s", n, reason))
		}
		sort.Strings(hist)
		fmt.Fprintf(&b, " %s.", strings.Join(hist, ", "))
	}
	if e.PreFilterMsg == "" && len(e.Reasons) == 0 {
		fmt.Fprintf(&b, " %s.", noNodesAvailableExplanation)
	}
	return b.String()
}
