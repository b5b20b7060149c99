package replicaset

import (
	"sort"
	"strconv"

	corev1 "k8s.io/api/core/v1"
)

// PodDeletionCostAnnotation lets users say which pods to delete first
// (lower cost first), as in Kubernetes.
const PodDeletionCostAnnotation = "controller.kubernetes.io/pod-deletion-cost"

// PodsToDelete returns the n least valuable of pods, in Kubernetes'
// order: unscheduled before scheduled; Pending before Unknown before
// Running; not ready before ready; lower pod-deletion-cost first; pods
// doubled up on a node with more of the set first; ready for less time
// first; more container restarts first; newer first; then by name, for
// determinism.
func PodsToDelete(pods []*corev1.Pod, n int) []*corev1.Pod {
	if n <= 0 {
		return nil
	}
	onNode := map[string]int{}
	for _, p := range pods {
		if p.Spec.NodeName != "" {
			onNode[p.Spec.NodeName]++
		}
	}
	ranked := make([]rankedPod, len(pods))
	for i, p := range pods {
		ready, since := PodReady(p)
		ranked[i] = rankedPod{
			pod:      p,
			assigned: p.Spec.NodeName != "",
			phase:    phaseRank(p.Status.Phase),
			ready:    ready,
			since:    since.UnixNano(),
			cost:     deletionCost(p),
			doubled:  onNode[p.Spec.NodeName],
			restarts: maxRestarts(p),
			created:  p.CreationTimestamp.UnixNano(),
		}
	}
	sort.SliceStable(ranked, func(i, j int) bool { return ranked[i].before(&ranked[j]) })
	if n > len(ranked) {
		n = len(ranked)
	}
	out := make([]*corev1.Pod, n)
	for i := range out {
		out[i] = ranked[i].pod
	}
	return out
}

type rankedPod struct {
	pod      *corev1.Pod
	assigned bool
	phase    int
	ready    bool
	since    int64
	cost     int64
	doubled  int
	restarts int32
	created  int64
}

// before reports whether a should be deleted before b.
func (a *rankedPod) before(b *rankedPod) bool {
	switch {
	case a.assigned != b.assigned:
		return !a.assigned
	case a.phase != b.phase:
		return a.phase < b.phase
	case a.ready != b.ready:
		return !a.ready
	case a.cost != b.cost:
		return a.cost < b.cost
	case a.doubled != b.doubled:
		return a.doubled > b.doubled
	case a.ready && a.since != b.since:
		return a.since > b.since
	case a.restarts != b.restarts:
		return a.restarts > b.restarts
	case a.created != b.created:
		return a.created > b.created
	}
	return a.pod.Name < b.pod.Name
}

func phaseRank(p corev1.PodPhase) int {
	switch p {
	case corev1.PodPending, "":
		return 0
	case corev1.PodUnknown:
		return 1
	case corev1.PodRunning:
		return 2
	}
	return 3
}

func deletionCost(p *corev1.Pod) int64 {
	v, ok := p.Annotations[PodDeletionCostAnnotation]
	if !ok {
		return 0
	}
	c, err := strconv.ParseInt(v, 10, 32)
	if err != nil {
		return 0
	}
	return c
}

func maxRestarts(p *corev1.Pod) int32 {
	var m int32
	for _, s := range p.Status.ContainerStatuses {
		m = max(m, s.RestartCount)
	}
	return m
}
