package deployment

import (
	"sort"
	"time"

	appsv1 "k8s.io/api/apps/v1"
)

// rolloutRolling does one step of a RollingUpdate: scale the new set up
// within the surge budget, else scale old sets down within the
// availability budget, else (when complete) clean up history.
func (p *planner) rolloutRolling() (appsv1.DeploymentStatus, time.Duration) {
	newRS, oldRSs := p.newAndOld(true)
	all := append(append([]*appsv1.ReplicaSet{}, oldRSs...), newRS)

	if p.reconcileNew(all, newRS) {
		return p.syncRolloutStatus(all, newRS)
	}
	if p.reconcileOld(all, active(oldRSs), newRS) {
		return p.syncRolloutStatus(all, newRS)
	}
	if deploymentComplete(p.d, &p.d.Status) {
		p.cleanup(oldRSs)
	}
	return p.syncRolloutStatus(all, newRS)
}

// reconcileNew scales the new set towards replicas; it reports whether it
// scaled.
func (p *planner) reconcileNew(all []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) bool {
	replicas := *p.d.Spec.Replicas
	switch cur := specReplicas(newRS); {
	case cur == replicas:
		return false
	case cur > replicas:
		return p.scaleRS(newRS, replicas)
	}
	return p.scaleRS(newRS, p.newRSReplicas(all, newRS))
}

// reconcileOld scales old sets down as far as availability allows; it
// reports whether it scaled.
func (p *planner) reconcileOld(all, oldRSs []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) bool {
	if sumSpec(oldRSs...) == 0 {
		return false
	}
	minAvailable := *p.d.Spec.Replicas - maxUnavailable(p.d)
	newUnavailable := specReplicas(newRS) - newRS.Status.AvailableReplicas
	maxScaledDown := sumSpec(all...) - minAvailable - newUnavailable
	if maxScaledDown <= 0 {
		return false
	}
	cleaned := p.cleanupUnhealthy(oldRSs, maxScaledDown)
	// Availability counts only active old sets and the new one: pods of
	// sets already scaled to 0 are on their way out.
	scaled := p.scaleDownOld(append(append([]*appsv1.ReplicaSet{}, oldRSs...), newRS), oldRSs)
	return cleaned+scaled > 0
}

// cleanupUnhealthy removes old replicas that are not available, oldest
// sets first, up to limit; it returns how many it removed.
func (p *planner) cleanupUnhealthy(oldRSs []*appsv1.ReplicaSet, limit int32) int32 {
	sorted := append([]*appsv1.ReplicaSet{}, oldRSs...)
	olderFirst(sorted)
	var total int32
	for _, rs := range sorted {
		if total >= limit {
			break
		}
		spec := specReplicas(rs)
		if spec == 0 || spec == rs.Status.AvailableReplicas {
			continue
		}
		down := min(limit-total, spec-rs.Status.AvailableReplicas)
		if down <= 0 {
			continue
		}
		p.scaleRS(rs, spec-down)
		total += down
	}
	return total
}

// scaleDownOld removes available old replicas while more than
// replicas−maxUnavailable pods are available; oldest sets first.
func (p *planner) scaleDownOld(all, oldRSs []*appsv1.ReplicaSet) int32 {
	minAvailable := *p.d.Spec.Replicas - maxUnavailable(p.d)
	available := sumStatus(statusAvailable, all...)
	if available <= minAvailable {
		return 0
	}
	budget := available - minAvailable
	sorted := append([]*appsv1.ReplicaSet{}, oldRSs...)
	olderFirst(sorted)
	var total int32
	for _, rs := range sorted {
		if total >= budget {
			break
		}
		spec := specReplicas(rs)
		if spec == 0 {
			continue
		}
		down := min(spec, budget-total)
		p.scaleRS(rs, spec-down)
		total += down
	}
	return total
}

// cleanup deletes the oldest old sets beyond revisionHistoryLimit that
// are scaled to zero, have no pods and are not changing.
func (p *planner) cleanup(oldRSs []*appsv1.ReplicaSet) {
	limit := int(*p.d.Spec.RevisionHistoryLimit)
	var cleanable []*appsv1.ReplicaSet
	for _, rs := range oldRSs {
		if rs.DeletionTimestamp == nil {
			cleanable = append(cleanable, rs)
		}
	}
	diff := len(cleanable) - limit
	if diff <= 0 {
		return
	}
	sort.SliceStable(cleanable, func(i, j int) bool {
		ri, rj := Revision(cleanable[i]), Revision(cleanable[j])
		if ri != rj {
			return ri < rj
		}
		return olderThan(cleanable[i], cleanable[j])
	})
	for _, rs := range cleanable[:diff] {
		if rs.Status.Replicas != 0 || specReplicas(rs) != 0 || rs.Generation > rs.Status.ObservedGeneration || p.changed[rs] {
			continue
		}
		p.deleted = append(p.deleted, rs)
	}
}
