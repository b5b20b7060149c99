package deployment

import (
	"time"

	appsv1 "k8s.io/api/apps/v1"
)

// rolloutRecreate scales old sets to 0, waits for their pods to be gone,
// then creates or scales up the new set.
func (p *planner) rolloutRecreate() (appsv1.DeploymentStatus, time.Duration) {
	newRS, oldRSs := p.newAndOld(false)
	all := append(append([]*appsv1.ReplicaSet{}, oldRSs...), newRS)

	scaled := false
	for _, rs := range active(oldRSs) {
		if p.scaleRS(rs, 0) {
			scaled = true
		}
	}
	if scaled || p.oldPodsRunning(oldRSs) {
		return p.syncRolloutStatus(all, newRS)
	}
	if newRS == nil {
		newRS, oldRSs = p.newAndOld(true)
		all = append(append([]*appsv1.ReplicaSet{}, oldRSs...), newRS)
	}
	p.scaleRS(newRS, *p.d.Spec.Replicas)
	if deploymentComplete(p.d, &p.d.Status) {
		p.cleanup(oldRSs)
	}
	return p.syncRolloutStatus(all, newRS)
}

// oldPodsRunning reports whether any old set still has pods.
func (p *planner) oldPodsRunning(oldRSs []*appsv1.ReplicaSet) bool {
	if sumStatus(statusReplicas, oldRSs...) > 0 {
		return true
	}
	for _, rs := range oldRSs {
		if p.in.PodsRunning[rs.UID] > 0 {
			return true
		}
	}
	return false
}
