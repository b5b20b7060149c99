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
