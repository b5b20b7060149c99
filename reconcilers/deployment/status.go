package deployment

import (
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// calculateStatus derives the Deployment's status from its sets, keeping
// the conditions set so far and refreshing Available.
func (p *planner) calculateStatus(all []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) appsv1.DeploymentStatus {
	d := p.d
	available := sumStatus(statusAvailable, all...)
	s := appsv1.DeploymentStatus{
		ObservedGeneration:  d.Generation,
		Replicas:            sumStatus(statusReplicas, all...),
		UpdatedReplicas:     sumStatus(statusReplicas, newRS),
		ReadyReplicas:       sumStatus(statusReady, all...),
		AvailableReplicas:   available,
		UnavailableReplicas: max(*d.Spec.Replicas-available, 0),
		CollisionCount:      d.Status.CollisionCount,
		Conditions:          append([]appsv1.DeploymentCondition(nil), d.Status.Conditions...),
	}
	if available >= *d.Spec.Replicas-maxUnavailable(d) {
		setCondition(&s, p.condition(appsv1.DeploymentAvailable, corev1.ConditionTrue, ReasonMinimumAvailable, "Deployment has minimum availability."))
	} else {
		setCondition(&s, p.condition(appsv1.DeploymentAvailable, corev1.ConditionFalse, ReasonMinimumUnavailable, "Deployment does not have minimum availability."))
	}
	return s
}

// syncRolloutStatus computes the status and the Progressing condition,
// and when to check the progress deadline again.
func (p *planner) syncRolloutStatus(all []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) (appsv1.DeploymentStatus, time.Duration) {
	d := p.d
	s := p.calculateStatus(all, newRS)
	deadline := time.Duration(*d.Spec.ProgressDeadlineSeconds) * time.Second
	cur := progressCondition(&d.Status)
	complete := s.Replicas == s.UpdatedReplicas && cur != nil && cur.Reason == ReasonNewRSAvailable
	subject := fmt.Sprintf("Deployment %q", d.Name)
	if newRS != nil {
		subject = fmt.Sprintf("ReplicaSet %q", newRS.Name)
	}
	if !complete {
		switch {
		case deploymentComplete(d, &s):
			setCondition(&s, p.condition(appsv1.DeploymentProgressing, corev1.ConditionTrue, ReasonNewRSAvailable,
				subject+" has successfully progressed."))
		case deploymentProgressing(d, &s):
			c := p.condition(appsv1.DeploymentProgressing, corev1.ConditionTrue, ReasonRSUpdated,
				subject+" is progressing.")
			if cur != nil {
				if cur.Status == corev1.ConditionTrue {
					c.LastTransitionTime = cur.LastTransitionTime
				}
				removeCondition(&s, appsv1.DeploymentProgressing)
			}
			setCondition(&s, c)
		case p.timedOut(&s):
			setCondition(&s, p.condition(appsv1.DeploymentProgressing, corev1.ConditionFalse, ReasonTimedOut,
				subject+" has timed out progressing."))
		}
	}
	return s, p.requeueForDeadline(&s, deadline)
}

// requeueForDeadline returns when the progress deadline of an unfinished
// rollout will pass (at least 1 ms), or 0.
func (p *planner) requeueForDeadline(s *appsv1.DeploymentStatus, deadline time.Duration) time.Duration {
	c := progressCondition(s)
	if c == nil || p.d.Spec.Paused || deploymentComplete(p.d, s) || c.Reason == ReasonTimedOut || c.Reason == ReasonNewRSAvailable {
		return 0
	}
	after := c.LastUpdateTime.Add(deadline).Sub(p.now)
	return max(after, time.Millisecond)
}

// timedOut reports whether the rollout made no progress for the deadline.
func (p *planner) timedOut(s *appsv1.DeploymentStatus) bool {
	c := progressCondition(s)
	if c == nil {
		return false
	}
	switch c.Reason {
	case ReasonNewRSAvailable:
		return false
	case ReasonTimedOut:
		return true
	}
	deadline := time.Duration(*p.d.Spec.ProgressDeadlineSeconds) * time.Second
	return c.LastUpdateTime.Add(deadline).Before(p.now)
}

// deploymentComplete: every replica updated and available, and the
// status is about the current generation.
func deploymentComplete(d *appsv1.Deployment, s *appsv1.DeploymentStatus) bool {
	r := *d.Spec.Replicas
	return s.UpdatedReplicas == r && s.Replicas == r && s.AvailableReplicas == r && s.ObservedGeneration >= d.Generation
}

// deploymentProgressing: more updated, ready or available pods, or fewer
// old ones, than the last status said.
func deploymentProgressing(d *appsv1.Deployment, s *appsv1.DeploymentStatus) bool {
	old := d.Status
	return s.UpdatedReplicas > old.UpdatedReplicas ||
		s.Replicas-s.UpdatedReplicas < old.Replicas-old.UpdatedReplicas ||
		s.ReadyReplicas > old.ReadyReplicas ||
		s.AvailableReplicas > old.AvailableReplicas
}

// checkPausedConditions records pausing and resuming in Progressing.
func (p *planner) checkPausedConditions() {
	c := progressCondition(&p.d.Status)
	if c != nil && c.Reason == ReasonTimedOut {
		return
	}
	pausedCond := c != nil && c.Reason == ReasonPaused
	switch {
	case p.d.Spec.Paused && !pausedCond:
		p.setCondition(appsv1.DeploymentProgressing, corev1.ConditionUnknown, ReasonPaused, "Deployment is paused")
	case !p.d.Spec.Paused && pausedCond:
		p.setCondition(appsv1.DeploymentProgressing, corev1.ConditionUnknown, ReasonResumed, "Deployment is resumed")
	}
}

func (p *planner) condition(t appsv1.DeploymentConditionType, st corev1.ConditionStatus, reason, msg string) appsv1.DeploymentCondition {
	now := metav1.NewTime(p.now)
	return appsv1.DeploymentCondition{Type: t, Status: st, Reason: reason, Message: msg, LastUpdateTime: now, LastTransitionTime: now}
}

// setCondition sets a condition on the working Deployment's status.
func (p *planner) setCondition(t appsv1.DeploymentConditionType, st corev1.ConditionStatus, reason, msg string) {
	setCondition(&p.d.Status, p.condition(t, st, reason, msg))
}

// setCondition replaces the condition of c's type unless status and
// reason are unchanged; the transition time survives when status does.
func setCondition(s *appsv1.DeploymentStatus, c appsv1.DeploymentCondition) {
	cur := getCondition(s, c.Type)
	if cur != nil && cur.Status == c.Status && cur.Reason == c.Reason {
		return
	}
	if cur != nil && cur.Status == c.Status {
		c.LastTransitionTime = cur.LastTransitionTime
	}
	removeCondition(s, c.Type)
	s.Conditions = append(s.Conditions, c)
}

func removeCondition(s *appsv1.DeploymentStatus, t appsv1.DeploymentConditionType) {
	out := s.Conditions[:0:0]
	for _, c := range s.Conditions {
		if c.Type != t {
			out = append(out, c)
		}
	}
	s.Conditions = out
}

func getCondition(s *appsv1.DeploymentStatus, t appsv1.DeploymentConditionType) *appsv1.DeploymentCondition {
	for i := range s.Conditions {
		if s.Conditions[i].Type == t {
			return &s.Conditions[i]
		}
	}
	return nil
}

func progressCondition(s *appsv1.DeploymentStatus) *appsv1.DeploymentCondition {
	return getCondition(s, appsv1.DeploymentProgressing)
}
