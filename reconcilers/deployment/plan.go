package deployment

import (
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// planner holds the working copies one Plan call mutates.
type planner struct {
	in  Input
	now time.Time
	d   *appsv1.Deployment // defaulted copy; annotations and status change
	rss []*appsv1.ReplicaSet

	changed        map[*appsv1.ReplicaSet]bool
	created        *appsv1.ReplicaSet
	annotationsNew bool
	deleted        []*appsv1.ReplicaSet
}

// Plan returns the next step for in.Deployment. It fails only when the
// Deployment is invalid (a terminal error): empty or invalid selector,
// selector not matching the template labels, bad maxSurge/maxUnavailable.
func Plan(in Input) (Actions, error) {
	p := &planner{in: in, now: in.Now, d: withDefaults(in.Deployment), changed: map[*appsv1.ReplicaSet]bool{}}
	if err := validate(p.d); err != nil {
		return Actions{}, err
	}
	for _, rs := range in.ReplicaSets {
		p.rss = append(p.rss, rs.DeepCopy())
	}
	olderFirst(p.rss)

	var status appsv1.DeploymentStatus
	var requeue time.Duration
	switch {
	case p.d.DeletionTimestamp != nil:
		newRS, oldRSs := p.newAndOld(false)
		status = p.calculateStatus(append(oldRSs, newRS), newRS)
	default:
		p.checkPausedConditions()
		if p.d.Spec.Paused || p.isScalingEvent() {
			status = p.sync()
		} else if isRollingUpdate(p.d) {
			status, requeue = p.rolloutRolling()
		} else {
			status, requeue = p.rolloutRecreate()
		}
	}
	return p.actions(status, requeue), nil
}

func validate(d *appsv1.Deployment) error {
	sel := d.Spec.Selector
	if sel == nil || (len(sel.MatchLabels) == 0 && len(sel.MatchExpressions) == 0) {
		return fmt.Errorf("deployment %s/%s: empty selector", d.Namespace, d.Name)
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return fmt.Errorf("deployment %s/%s: invalid selector: %w", d.Namespace, d.Name, err)
	}
	if !s.Matches(labelsSet(d.Spec.Template.Labels)) {
		return fmt.Errorf("deployment %s/%s: selector does not match template labels", d.Namespace, d.Name)
	}
	if isRollingUpdate(d) {
		ru := d.Spec.Strategy.RollingUpdate
		if _, _, err := ResolveFenceposts(ru.MaxSurge, ru.MaxUnavailable, *d.Spec.Replicas); err != nil {
			return fmt.Errorf("deployment %s/%s: %w", d.Namespace, d.Name, err)
		}
	}
	return nil
}

func (p *planner) actions(status appsv1.DeploymentStatus, requeue time.Duration) Actions {
	a := Actions{Create: p.created, Status: status, RequeueAfter: requeue}
	for _, rs := range p.rss {
		if p.changed[rs] && rs != p.created {
			a.Update = append(a.Update, rs)
		}
	}
	a.Delete = p.deleted
	if p.annotationsNew {
		a.Annotations = p.d.Annotations
	}
	return a
}

// sync scales without rolling out (paused, or replicas changed) and
// updates the status.
func (p *planner) sync() appsv1.DeploymentStatus {
	newRS, oldRSs := p.newAndOld(false)
	p.scale(newRS, oldRSs)
	if p.d.Spec.Paused {
		p.cleanup(oldRSs)
	}
	return p.calculateStatus(append(oldRSs, newRS), newRS)
}

// scaleRS sets rs to n replicas and refreshes its replica annotations;
// it reports whether rs changed.
func (p *planner) scaleRS(rs *appsv1.ReplicaSet, n int32) bool {
	sizeChanged := specReplicas(rs) != n
	annChanged := setReplicasAnnotations(rs, *p.d.Spec.Replicas, *p.d.Spec.Replicas+maxSurge(p.d))
	if sizeChanged || annChanged {
		setReplicas(rs, n)
		p.changed[rs] = true
	}
	return sizeChanged
}
