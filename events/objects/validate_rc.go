package objects

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// defaultReplicationController follows core/v1: the selector and the
// controller's labels default to the template's labels, replicas to 1.
func defaultReplicationController(rc *corev1.ReplicationController) {
	setIfNil(&rc.Spec.Replicas, 1)
	t := rc.Spec.Template
	if t == nil {
		return
	}
	if len(rc.Spec.Selector) == 0 && len(t.Labels) > 0 {
		rc.Spec.Selector = make(map[string]string, len(t.Labels))
		for k, v := range t.Labels {
			rc.Spec.Selector[k] = v
		}
	}
	if len(rc.Labels) == 0 && len(t.Labels) > 0 {
		rc.Labels = make(map[string]string, len(t.Labels))
		for k, v := range t.Labels {
			rc.Labels[k] = v
		}
	}
	defaultPodTemplate(t)
}

// validateReplicationController follows Kubernetes' rules: an
// equality-based selector that is not empty and selects the template
// (which is required), pods that always restart.
func validateReplicationController(rc *corev1.ReplicationController) field.ErrorList {
	errs := nonNegativePtr32(rc.Spec.Replicas, specPath.Child("replicas"))
	errs = append(errs, nonNegative32(rc.Spec.MinReadySeconds, specPath.Child("minReadySeconds"))...)
	sp := specPath.Child("selector")
	if len(rc.Spec.Selector) == 0 {
		errs = append(errs, field.Required(sp, "a non-empty selector, or template labels to default it from"))
	}
	if rc.Spec.Template == nil {
		return append(errs, field.Required(specPath.Child("template"), ""))
	}
	var sel *metav1.LabelSelector
	if len(rc.Spec.Selector) > 0 {
		sel = &metav1.LabelSelector{MatchLabels: rc.Spec.Selector}
	}
	return append(errs, validateSelectorAndTemplate(sel, false, rc.Spec.Template, alwaysRestart, specPath)...)
}
