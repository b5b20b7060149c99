package replicasetctl

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/strom-project/strom/events/objects"
	"github.com/strom-project/strom/projections"
	"github.com/strom-project/strom/reconcilers/ctlutil"
	"github.com/strom-project/strom/reconcilers/manager"
	"github.com/strom-project/strom/reconcilers/replicaset"
)

// kindOps is what differs between the kinds this controller runs: a
// ReplicaSet is planned as itself, a ReplicationController as the
// ReplicaSet it converts to (as Kubernetes' replication controller is
// its ReplicaSet controller behind a conversion).
type kindOps struct {
	name, resource, kind string
	owner                schema.GroupVersionKind // zero for ReplicaSet
	// get reads one object as a ReplicaSet, and the object itself (for
	// its Events and status write).
	get func(st *projections.Store, ns, name string) (*appsv1.ReplicaSet, objects.Object, bool, error)
	// list reads a namespace's objects as ReplicaSets (for selectors).
	list func(st *projections.Store, ns string) ([]*appsv1.ReplicaSet, error)
	// withStatus returns a copy of the object with a new status.
	withStatus func(obj objects.Object, s appsv1.ReplicaSetStatus) objects.Object
}

var replicaSetOps = kindOps{
	name: "replicaset", resource: "replicasets", kind: "ReplicaSet",
	get: func(st *projections.Store, ns, name string) (*appsv1.ReplicaSet, objects.Object, bool, error) {
		rs, ok, err := ctlutil.Get[appsv1.ReplicaSet](st, "replicasets", ns, name)
		return rs, rs, ok, err
	},
	list: func(st *projections.Store, ns string) ([]*appsv1.ReplicaSet, error) {
		return ctlutil.List[appsv1.ReplicaSet](st, projections.Query{Resource: "replicasets", Namespace: ns})
	},
	withStatus: func(obj objects.Object, s appsv1.ReplicaSetStatus) objects.Object {
		next := obj.(*appsv1.ReplicaSet).DeepCopy()
		next.Status = s
		return next
	},
}

// RCActor is who the ReplicationController controller writes as.
const RCActor = "system:replication-controller"

// NewReplicationControllers returns the ReplicationController controller.
func NewReplicationControllers(env manager.Env) *Reconciler {
	return newReconciler(env, rcOps, RCActor, "replication-controller")
}

var rcOps = kindOps{
	name: "replicationcontroller", resource: "replicationcontrollers", kind: "ReplicationController",
	owner: replicaset.ReplicationControllerKind,
	get: func(st *projections.Store, ns, name string) (*appsv1.ReplicaSet, objects.Object, bool, error) {
		rc, ok, err := ctlutil.Get[corev1.ReplicationController](st, "replicationcontrollers", ns, name)
		if !ok || err != nil {
			return nil, nil, ok, err
		}
		return RCToReplicaSet(rc), rc, true, nil
	},
	list: func(st *projections.Store, ns string) ([]*appsv1.ReplicaSet, error) {
		rcs, err := ctlutil.List[corev1.ReplicationController](st, projections.Query{Resource: "replicationcontrollers", Namespace: ns})
		if err != nil {
			return nil, fmt.Errorf("listing replicationcontrollers: %w", err)
		}
		out := make([]*appsv1.ReplicaSet, len(rcs))
		for i, rc := range rcs {
			out[i] = RCToReplicaSet(rc)
		}
		return out, nil
	},
	withStatus: func(obj objects.Object, s appsv1.ReplicaSetStatus) objects.Object {
		next := obj.(*corev1.ReplicationController).DeepCopy()
		next.Status = RCStatus(s)
		return next
	},
}

// RCToReplicaSet is the ReplicaSet a ReplicationController plans as: its
// equality-based selector as matchLabels, its template (an empty one
// when it has none: validation requires one), its status.
func RCToReplicaSet(rc *corev1.ReplicationController) *appsv1.ReplicaSet {
	rs := &appsv1.ReplicaSet{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "ReplicaSet"},
		ObjectMeta: *rc.ObjectMeta.DeepCopy(),
		Spec: appsv1.ReplicaSetSpec{
			Replicas:        rc.Spec.Replicas,
			MinReadySeconds: rc.Spec.MinReadySeconds,
		},
		Status: appsv1.ReplicaSetStatus{
			Replicas:             rc.Status.Replicas,
			FullyLabeledReplicas: rc.Status.FullyLabeledReplicas,
			ReadyReplicas:        rc.Status.ReadyReplicas,
			AvailableReplicas:    rc.Status.AvailableReplicas,
			ObservedGeneration:   rc.Status.ObservedGeneration,
		},
	}
	if len(rc.Spec.Selector) > 0 {
		rs.Spec.Selector = &metav1.LabelSelector{MatchLabels: rc.Spec.Selector}
	}
	if rc.Spec.Template != nil {
		rs.Spec.Template = *rc.Spec.Template.DeepCopy()
	}
	for _, c := range rc.Status.Conditions {
		rs.Status.Conditions = append(rs.Status.Conditions, appsv1.ReplicaSetCondition{
			Type: appsv1.ReplicaSetConditionType(c.Type), Status: c.Status,
			LastTransitionTime: c.LastTransitionTime, Reason: c.Reason, Message: c.Message})
	}
	return rs
}

// RCStatus converts a planned ReplicaSet status back.
func RCStatus(s appsv1.ReplicaSetStatus) corev1.ReplicationControllerStatus {
	out := corev1.ReplicationControllerStatus{
		Replicas:             s.Replicas,
		FullyLabeledReplicas: s.FullyLabeledReplicas,
		ReadyReplicas:        s.ReadyReplicas,
		AvailableReplicas:    s.AvailableReplicas,
		ObservedGeneration:   s.ObservedGeneration,
	}
	for _, c := range s.Conditions {
		out.Conditions = append(out.Conditions, corev1.ReplicationControllerCondition{
			Type: corev1.ReplicationControllerConditionType(c.Type), Status: c.Status,
			LastTransitionTime: c.LastTransitionTime, Reason: c.Reason, Message: c.Message})
	}
	return out
}
