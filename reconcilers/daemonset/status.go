package daemonset

import (
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/strom-project/strom/reconcilers/replicaset"
)

// status counts, over the nodes, what Kubernetes' DaemonSet status says:
// per node that should run the daemon its oldest pod decides scheduled,
// ready, available and updated; a node that should not run it but has a
// pod is misscheduled. The wait is until a ready pod becomes available.
func status(ds *appsv1.DaemonSet, nodes []*corev1.Node, byNode map[string][]*corev1.Pod, hash string, collisions *int32, now time.Time) (appsv1.DaemonSetStatus, time.Duration) {
	s := appsv1.DaemonSetStatus{
		ObservedGeneration: ds.Generation,
		CollisionCount:     collisions,
		Conditions:         ds.Status.Conditions,
	}
	gen := TemplateGeneration(ds)
	minReady := time.Duration(ds.Spec.MinReadySeconds) * time.Second
	var wait time.Duration
	for _, node := range nodes {
		run, _ := ShouldRun(ds, node)
		pods := byNode[node.Name]
		if !run {
			if len(pods) > 0 {
				s.NumberMisscheduled++
			}
			continue
		}
		s.DesiredNumberScheduled++
		if len(pods) == 0 {
			continue
		}
		s.CurrentNumberScheduled++
		pods = append([]*corev1.Pod(nil), pods...)
		byAge(pods)
		pod := pods[0]
		if ready, since := replicaset.PodReady(pod); ready {
			s.NumberReady++
			if at := since.Add(minReady); minReady == 0 || !at.After(now) {
				s.NumberAvailable++
			} else if d := at.Sub(now); wait == 0 || d < wait {
				wait = d
			}
		}
		if IsUpdated(pod, hash, gen) {
			s.UpdatedNumberScheduled++
		}
	}
	s.NumberUnavailable = s.DesiredNumberScheduled - s.NumberAvailable
	return s, wait
}
