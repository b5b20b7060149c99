package objects

import (
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// validateDaemonSetUpdate refuses what Kubernetes' apps validation
// refuses on a DaemonSet update: a changed selector (the pods the set
// already made would no longer be its own). The spec itself is checked
// by validateDaemonSet, as on create.
func validateDaemonSetUpdate(next, cur *appsv1.DaemonSet) field.ErrorList {
	if !equality.Semantic.DeepEqual(next.Spec.Selector, cur.Spec.Selector) {
		return field.ErrorList{field.Invalid(specPath.Child("selector"), next.Spec.Selector, fieldImmutable)}
	}
	return nil
}

// validateStatefulSetUpdate refuses, as Kubernetes' apps validation does,
// an update that changes a StatefulSet's spec beyond the fields a set
// may change once it exists (its selector, serviceName, claim templates
// and pod management policy name what it already made).
func validateStatefulSetUpdate(next, cur *appsv1.StatefulSet) field.ErrorList {
	s := next.Spec.DeepCopy()
	s.Replicas = cur.Spec.Replicas
	s.Ordinals = cur.Spec.Ordinals
	s.Template = cur.Spec.Template
	s.UpdateStrategy = cur.Spec.UpdateStrategy
	s.RevisionHistoryLimit = cur.Spec.RevisionHistoryLimit
	s.PersistentVolumeClaimRetentionPolicy = cur.Spec.PersistentVolumeClaimRetentionPolicy
	s.MinReadySeconds = cur.Spec.MinReadySeconds
	if !equality.Semantic.DeepEqual(*s, cur.Spec) {
		return field.ErrorList{field.Forbidden(specPath, "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden")}
	}
	return nil
}
