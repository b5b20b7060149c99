package deployment

import (
	"math"
	"sort"

	appsv1 "k8s.io/api/apps/v1"
)

// isScalingEvent reports whether spec.replicas changed since the active
// sets were last sized (their desired-replicas annotation differs).
func (p *planner) isScalingEvent() bool {
	for _, rs := range active(p.rss) {
		desired, ok := intAnnotation(rs, DesiredReplicasAnnotation)
		if ok && desired != *p.d.Spec.Replicas {
			return true
		}
	}
	return false
}

// scale resizes sets for a new replica count: a lone active set takes
// it all; a saturated new set means old ones go to 0; otherwise the
// change is spread proportionally (RollingUpdate only).
func (p *planner) scale(newRS *appsv1.ReplicaSet, oldRSs []*appsv1.ReplicaSet) {
	replicas := *p.d.Spec.Replicas
	if rs := activeOrLatest(newRS, oldRSs); rs != nil {
		// Unlike Kubernetes, refresh the annotations even when the size is
		// right, so stale desired-replicas cannot make every sync look
		// like a scaling event.
		p.scaleRS(rs, replicas)
		return
	}
	if p.saturated(newRS) {
		for _, rs := range active(oldRSs) {
			p.scaleRS(rs, 0)
		}
		return
	}
	if !isRollingUpdate(p.d) {
		return
	}
	sets := active(append(append([]*appsv1.ReplicaSet{}, oldRSs...), newRS))
	allowed := int32(0)
	if replicas > 0 {
		allowed = replicas + maxSurge(p.d)
	}
	toAdd := allowed - sumSpec(sets...)
	switch {
	case toAdd > 0: // bigger first, newer first among equals
		sort.SliceStable(sets, func(i, j int) bool {
			if specReplicas(sets[i]) != specReplicas(sets[j]) {
				return specReplicas(sets[i]) > specReplicas(sets[j])
			}
			return olderThan(sets[j], sets[i])
		})
	case toAdd < 0: // bigger first, older first among equals
		sort.SliceStable(sets, func(i, j int) bool {
			if specReplicas(sets[i]) != specReplicas(sets[j]) {
				return specReplicas(sets[i]) > specReplicas(sets[j])
			}
			return olderThan(sets[i], sets[j])
		})
	}
	sizes := make([]int32, len(sets))
	var added int32
	for i, rs := range sets {
		sizes[i] = specReplicas(rs)
		if toAdd != 0 {
			prop := p.proportion(rs, toAdd, added)
			sizes[i] += prop
			added += prop
		}
	}
	for i, rs := range sets {
		if i == 0 && toAdd != 0 {
			sizes[i] = max(sizes[i]+toAdd-added, 0)
		}
		p.scaleRS(rs, sizes[i])
	}
}

// activeOrLatest returns the only active set, or the newest set when none
// is active, or nil when several are active.
func activeOrLatest(newRS *appsv1.ReplicaSet, oldRSs []*appsv1.ReplicaSet) *appsv1.ReplicaSet {
	all := active(append(append([]*appsv1.ReplicaSet{}, oldRSs...), newRS))
	switch len(all) {
	case 0:
		if newRS != nil {
			return newRS
		}
		var latest *appsv1.ReplicaSet
		for _, rs := range oldRSs {
			if latest == nil || olderThan(latest, rs) {
				latest = rs
			}
		}
		return latest
	case 1:
		return all[0]
	}
	return nil
}

// saturated reports whether the new set is fully sized and available.
func (p *planner) saturated(newRS *appsv1.ReplicaSet) bool {
	if newRS == nil {
		return false
	}
	desired, ok := intAnnotation(newRS, DesiredReplicasAnnotation)
	return ok && specReplicas(newRS) == *p.d.Spec.Replicas && desired == *p.d.Spec.Replicas &&
		newRS.Status.AvailableReplicas == *p.d.Spec.Replicas
}

// proportion is rs's share of toAdd, given how much was already added.
func (p *planner) proportion(rs *appsv1.ReplicaSet, toAdd, added int32) int32 {
	if specReplicas(rs) == 0 || toAdd == 0 || toAdd == added {
		return 0
	}
	fraction := p.fraction(rs)
	allowed := toAdd - added
	if toAdd > 0 {
		return min(fraction, allowed)
	}
	return max(fraction, allowed)
}

// fraction is how much rs would grow or shrink if the whole Deployment
// went from its annotated max-replicas to the new replicas+maxSurge.
func (p *planner) fraction(rs *appsv1.ReplicaSet) int32 {
	if *p.d.Spec.Replicas == 0 {
		return -specReplicas(rs)
	}
	target := *p.d.Spec.Replicas + maxSurge(p.d)
	annotated, ok := intAnnotation(rs, MaxReplicasAnnotation)
	if !ok || annotated == 0 {
		annotated = p.d.Status.Replicas
	}
	if annotated == 0 {
		return 0
	}
	size := float64(specReplicas(rs)) * float64(target) / float64(annotated)
	return int32(math.Round(size)) - specReplicas(rs)
}
