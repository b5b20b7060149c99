package scheduler

import (
	"fmt"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
)

// Taint keys Kubernetes uses for node conditions; pods tolerate them to
// land on cordoned or not-ready nodes.
const (
	TaintNodeUnschedulable = "node.kubernetes.io/unschedulable"
	TaintNodeNotReady      = "node.kubernetes.io/not-ready"
)

var (
	unschedulableTaint = corev1.Taint{Key: TaintNodeUnschedulable, Effect: corev1.TaintEffectNoSchedule}
	notReadyTaint      = corev1.Taint{Key: TaintNodeNotReady, Effect: corev1.TaintEffectNoSchedule}
	notReadyReason     = taintReason(&notReadyTaint)
)

// tolerates reports whether toleration t tolerates taint, with
// Kubernetes' own Toleration.ToleratesTaint (comparison operators off, as
// validation admits only Equal and Exists).
func tolerates(t *corev1.Toleration, taint *corev1.Taint) bool {
	return t.ToleratesTaint(logr.Discard(), taint, false)
}

// toleratesAll reports whether any of tols tolerates taint.
func toleratedBy(tols []corev1.Toleration, taint *corev1.Taint) bool {
	for i := range tols {
		if tolerates(&tols[i], taint) {
			return true
		}
	}
	return false
}

// taintReason is the kube-scheduler reason for an untolerated taint.
func taintReason(t *corev1.Taint) string {
	return fmt.Sprintf("node(s) had untolerated taint {%s: %s}", t.Key, t.Value)
}
