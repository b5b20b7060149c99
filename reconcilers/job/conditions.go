package job

import (
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// condition returns the Job's condition of type t, or nil.
func condition(st *batchv1.JobStatus, t batchv1.JobConditionType) *batchv1.JobCondition {
	for i := range st.Conditions {
		if st.Conditions[i].Type == t {
			return &st.Conditions[i]
		}
	}
	return nil
}

// isTrue reports whether the condition of type t is True.
func isTrue(st *batchv1.JobStatus, t batchv1.JobConditionType) bool {
	c := condition(st, t)
	return c != nil && c.Status == corev1.ConditionTrue
}

// setCondition sets a condition, keeping its transition time when its
// status does not change and leaving it alone when nothing does. It
// reports whether anything changed.
func setCondition(st *batchv1.JobStatus, t batchv1.JobConditionType, s corev1.ConditionStatus, reason, msg string, now time.Time) bool {
	ts := metav1.NewTime(now)
	if c := condition(st, t); c != nil {
		if c.Status == s && c.Reason == reason && c.Message == msg {
			return false
		}
		if c.Status != s {
			c.LastTransitionTime = ts
		}
		c.Status, c.Reason, c.Message, c.LastProbeTime = s, reason, msg, ts
		return true
	}
	st.Conditions = append(st.Conditions, batchv1.JobCondition{Type: t, Status: s, Reason: reason, Message: msg,
		LastProbeTime: ts, LastTransitionTime: ts})
	return true
}

// Finished reports whether a Job has its final condition (Complete or
// Failed) and when it got it.
func Finished(j *batchv1.Job) (bool, time.Time) {
	for _, c := range j.Status.Conditions {
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
			return true, c.LastTransitionTime.Time
		}
	}
	return false, time.Time{}
}
