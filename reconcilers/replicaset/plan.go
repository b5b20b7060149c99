package replicaset

import (
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// DefaultBurstReplicas caps creations or deletions in one Plan, as
// Kubernetes' burstReplicas.
const DefaultBurstReplicas = 500

// Rand is the random source for pod names (math/rand/v2's *Rand fits).
type Rand interface{ IntN(n int) int }

// Planner plans ReplicaSets.
type Planner struct {
	Rand          Rand // random source for pod name suffixes; required
	BurstReplicas int  // 0 means DefaultBurstReplicas
	// Owner is the kind pods' controller references name; the zero value
	// is apps/v1 ReplicaSet. A ReplicationController is planned as the
	// ReplicaSet it converts to, with Owner v1 ReplicationController.
	Owner schema.GroupVersionKind
}

// ReplicationControllerKind is the Owner of a ReplicationController's
// pods.
var ReplicationControllerKind = corev1.SchemeGroupVersion.WithKind("ReplicationController")

func (p Planner) ref(rs *appsv1.ReplicaSet) metav1.OwnerReference {
	r := ControllerRef(rs)
	if !p.Owner.Empty() {
		r.APIVersion, r.Kind = p.Owner.GroupVersion().String(), p.Owner.Kind
	}
	return r
}

// Plan is what a ReplicaSet needs done.
type Plan struct {
	// Create holds fully built pods to create.
	Create []*corev1.Pod
	// Delete holds pods to delete, least valuable first.
	Delete []*corev1.Pod
	// Adopt holds copies of orphan pods with the ReplicaSet's controller
	// reference added: write them back (with the pod's resourceVersion).
	Adopt []*corev1.Pod
	// Release holds copies of owned pods that no longer match the
	// selector, with the controller reference removed.
	Release []*corev1.Pod
	// Status is the ReplicaSet's new status.
	Status appsv1.ReplicaSetStatus
	// RequeueAfter > 0 asks to plan again then: a ready pod will have
	// been ready for minReadySeconds.
	RequeueAfter time.Duration
}

// Plan computes the actions for rs given all pods in its namespace at now.
// It fails only on an invalid selector (a terminal error: retrying will
// not help).
func (p Planner) Plan(rs *appsv1.ReplicaSet, pods []*corev1.Pod, now time.Time) (Plan, error) {
	var plan Plan
	sel, err := selectorOf(rs)
	if err != nil {
		return plan, err
	}
	deleting := rs.DeletionTimestamp != nil

	var active []*corev1.Pod
	names := make(map[string]bool, len(pods))
	for _, pod := range pods {
		names[pod.Name] = true
		if pod.Namespace != rs.Namespace || !isActive(pod) {
			continue
		}
		ref := metav1.GetControllerOfNoCopy(pod)
		matches := sel.Matches(labels.Set(pod.Labels))
		switch {
		case ref != nil && ref.UID == rs.UID:
			if matches {
				active = append(active, pod)
			} else if !deleting {
				plan.Release = append(plan.Release, release(pod, rs))
			}
		case ref == nil && matches && !deleting:
			plan.Adopt = append(plan.Adopt, adopt(pod, p.ref(rs)))
			active = append(active, pod)
		}
	}

	if !deleting {
		want := int(replicasOf(rs))
		burst := p.BurstReplicas
		if burst <= 0 {
			burst = DefaultBurstReplicas
		}
		switch diff := len(active) - want; {
		case diff < 0:
			plan.Create, err = p.newPods(rs, min(-diff, burst), names)
			if err != nil {
				return Plan{}, err
			}
		case diff > 0:
			plan.Delete = PodsToDelete(active, min(diff, burst))
		}
	}
	plan.Status, plan.RequeueAfter = status(rs, active, now)
	return plan, nil
}

// selectorOf parses rs's selector; an empty selector is refused, as in
// Kubernetes (it would select every pod in the namespace).
func selectorOf(rs *appsv1.ReplicaSet) (labels.Selector, error) {
	if rs.Spec.Selector == nil || (len(rs.Spec.Selector.MatchLabels) == 0 && len(rs.Spec.Selector.MatchExpressions) == 0) {
		return nil, fmt.Errorf("replicaset %s/%s: empty selector", rs.Namespace, rs.Name)
	}
	sel, err := metav1.LabelSelectorAsSelector(rs.Spec.Selector)
	if err != nil {
		return nil, fmt.Errorf("replicaset %s/%s: invalid selector: %w", rs.Namespace, rs.Name, err)
	}
	return sel, nil
}

// replicasOf returns spec.replicas, defaulting to 1.
func replicasOf(rs *appsv1.ReplicaSet) int32 {
	if rs.Spec.Replicas == nil {
		return 1
	}
	return *rs.Spec.Replicas
}

// isActive reports whether a pod counts: not finished and not terminating.
func isActive(p *corev1.Pod) bool {
	return p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed && p.DeletionTimestamp == nil
}

// ControllerRef returns the owner reference a ReplicaSet's pods carry.
func ControllerRef(rs *appsv1.ReplicaSet) metav1.OwnerReference {
	t := true
	return metav1.OwnerReference{
		APIVersion:         appsv1.SchemeGroupVersion.String(),
		Kind:               "ReplicaSet",
		Name:               rs.Name,
		UID:                rs.UID,
		Controller:         &t,
		BlockOwnerDeletion: &t,
	}
}

func adopt(pod *corev1.Pod, ref metav1.OwnerReference) *corev1.Pod {
	c := pod.DeepCopy()
	c.OwnerReferences = append(c.OwnerReferences, ref)
	return c
}

func release(pod *corev1.Pod, rs *appsv1.ReplicaSet) *corev1.Pod {
	c := pod.DeepCopy()
	refs := c.OwnerReferences[:0]
	for _, r := range c.OwnerReferences {
		if r.UID != rs.UID {
			refs = append(refs, r)
		}
	}
	c.OwnerReferences = refs
	return c
}
