package daemonset

import (
	"sort"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/strom-project/strom/reconcilers/replicaset"
)

// budget resolves maxUnavailable and maxSurge against desired (the number
// of nodes that should run the daemon), percentages rounded up; both zero
// (a set from before defaulting) means maxUnavailable 1.
func budget(ds *appsv1.DaemonSet, desired int) (maxSurge, maxUnavailable int) {
	ru := ds.Spec.UpdateStrategy.RollingUpdate
	if ds.Spec.UpdateStrategy.Type == appsv1.RollingUpdateDaemonSetStrategyType && ru != nil {
		maxUnavailable = scaled(ru.MaxUnavailable, desired)
		maxSurge = scaled(ru.MaxSurge, desired)
	}
	if maxUnavailable == 0 && maxSurge == 0 {
		maxUnavailable = 1
	}
	return maxSurge, maxUnavailable
}

func scaled(v *intstr.IntOrString, total int) int {
	if v == nil {
		return 0
	}
	n, err := intstr.GetScaledValueFromIntOrPercent(v, total, true)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// allowsSurge reports whether the set's strategy surges (maxSurge is not
// zero; a percentage counts against one node).
func allowsSurge(ds *appsv1.DaemonSet) bool {
	ru := ds.Spec.UpdateStrategy.RollingUpdate
	return ds.Spec.UpdateStrategy.Type == appsv1.RollingUpdateDaemonSetStrategyType && ru != nil && scaled(ru.MaxSurge, 1) > 0
}

// updatedPods returns the node's one new and one old pod (either may be
// nil), not counting pods being deleted; ok is false when a node has two
// of a kind (the per-node step prunes them first).
func updatedPods(pods []*corev1.Pod, hash string, gen int64) (newPod, oldPod *corev1.Pod, ok bool) {
	for _, pod := range pods {
		if pod.DeletionTimestamp != nil {
			continue
		}
		if IsUpdated(pod, hash, gen) {
			if newPod != nil {
				return nil, nil, false
			}
			newPod = pod
		} else {
			if oldPod != nil {
				return nil, nil, false
			}
			oldPod = pod
		}
	}
	return newPod, oldPod, true
}

// rollingUpdate plans one step of a rolling update: the old pods to
// delete and, with surge, the nodes to start a new pod on beside the old.
func rollingUpdate(ds *appsv1.DaemonSet, nodes []*corev1.Node, byNode map[string][]*corev1.Pod, hash string, now time.Time) (create []string, del []*corev1.Pod) {
	gen := TemplateGeneration(ds)
	minReady := ds.Spec.MinReadySeconds
	available := func(p *corev1.Pod) bool { return replicaset.PodAvailable(p, minReady, now) }
	shouldRun := map[string]bool{}
	var names []string
	for name := range byNode {
		names = append(names, name)
	}
	desired := 0
	for _, n := range nodes {
		run, _ := ShouldRun(ds, n)
		shouldRun[n.Name] = run
		if run {
			desired++
			if _, ok := byNode[n.Name]; !ok {
				names = append(names, n.Name)
			}
		}
	}
	sort.Strings(names) // deterministic plans
	maxSurge, maxUnavailable := budget(ds, desired)

	if maxSurge == 0 {
		// Delete old pods while the unavailable stay within budget; the
		// per-node step creates their replacements.
		unavailable := 0
		var replace, candidates []*corev1.Pod
		for _, name := range names {
			newPod, oldPod, ok := updatedPods(byNode[name], hash, gen)
			switch {
			case !ok, newPod == nil && oldPod == nil, newPod != nil && oldPod != nil:
				unavailable++
			case newPod != nil:
				if !available(newPod) {
					unavailable++
				}
			case !available(oldPod):
				replace = append(replace, oldPod) // unavailable anyway
			case unavailable < maxUnavailable:
				candidates = append(candidates, oldPod)
			}
		}
		n := max(0, min(maxUnavailable-unavailable, len(candidates)))
		return nil, append(replace, candidates[:n]...)
	}

	// Surge: start a new pod beside each old unavailable one, and beside
	// up to maxSurge old available ones; an old pod goes once the new pod
	// beside it is available.
	surge, numAvailable := 0, 0
	var allowed, candidates []string
	var offNode []*corev1.Pod // old available pods on nodes that should not run
	for _, name := range names {
		newPod, oldPod, ok := updatedPods(byNode[name], hash, gen)
		if !ok {
			surge++
			continue
		}
		if (oldPod != nil && available(oldPod)) || (oldPod == nil && newPod != nil && available(newPod)) {
			numAvailable++
		}
		switch {
		case oldPod == nil:
		case newPod == nil:
			switch {
			case !available(oldPod):
				if !shouldRun[name] {
					del = append(del, oldPod)
					continue
				}
				allowed = append(allowed, name)
			case !shouldRun[name]:
				offNode = append(offNode, oldPod)
			case surge < maxSurge:
				candidates = append(candidates, name)
			}
		default:
			if !available(newPod) {
				surge++
				continue
			}
			del = append(del, oldPod)
		}
	}
	// Pods on nodes that should no longer run go only while enough pods
	// elsewhere are available.
	if extra := min(numAvailable-desired, len(offNode)); extra > 0 {
		del = append(del, offNode[:extra]...)
	}
	n := max(0, min(maxSurge-surge, len(candidates)))
	return append(allowed, candidates[:n]...), del
}
