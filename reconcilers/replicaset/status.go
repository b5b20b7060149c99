package replicaset

import (
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// status computes rs's status from its active pods, and how long until a
// ready pod becomes available (0 if none is waiting).
func status(rs *appsv1.ReplicaSet, active []*corev1.Pod, now time.Time) (appsv1.ReplicaSetStatus, time.Duration) {
	s := appsv1.ReplicaSetStatus{
		Replicas:           int32(len(active)),
		ObservedGeneration: rs.Generation,
		Conditions:         rs.Status.Conditions,
	}
	minReady := time.Duration(rs.Spec.MinReadySeconds) * time.Second
	var requeue time.Duration
	for _, pod := range active {
		if labelsContain(pod.Labels, rs.Spec.Template.Labels) {
			s.FullyLabeledReplicas++
		}
		ready, since := PodReady(pod)
		if !ready {
			continue
		}
		s.ReadyReplicas++
		if wait := since.Add(minReady).Sub(now); minReady > 0 && wait > 0 {
			if requeue == 0 || wait < requeue {
				requeue = wait
			}
			continue
		}
		s.AvailableReplicas++
	}
	return s, requeue
}

// PodReady reports whether pod's Ready condition is True and since when.
func PodReady(pod *corev1.Pod) (bool, time.Time) {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue, c.LastTransitionTime.Time
		}
	}
	return false, time.Time{}
}

// PodAvailable reports whether pod has been ready for minReadySeconds at
// now.
func PodAvailable(pod *corev1.Pod, minReadySeconds int32, now time.Time) bool {
	ready, since := PodReady(pod)
	if !ready {
		return false
	}
	return minReadySeconds == 0 || !since.Add(time.Duration(minReadySeconds)*time.Second).After(now)
}

func labelsContain(have, want map[string]string) bool {
	for k, v := range want {
		if got, ok := have[k]; !ok || got != v {
			return false
		}
	}
	return true
}
