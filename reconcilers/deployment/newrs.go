package deployment

import (
	"fmt"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

func labelsSet(m map[string]string) labels.Set { return labels.Set(m) }

// findNew returns the oldest set whose template equals the Deployment's.
func (p *planner) findNew() *appsv1.ReplicaSet {
	for _, rs := range p.rss { // oldest first
		if EqualIgnoreHash(&rs.Spec.Template, &p.d.Spec.Template) {
			return rs
		}
	}
	return nil
}

// newAndOld finds (or, with create, makes) the new ReplicaSet, syncs its
// revision, and returns it with the old ones. newRS may be nil.
func (p *planner) newAndOld(create bool) (*appsv1.ReplicaSet, []*appsv1.ReplicaSet) {
	existing := p.findNew()
	var old []*appsv1.ReplicaSet
	for _, rs := range p.rss {
		if rs != existing {
			old = append(old, rs)
		}
	}
	newRevision := strconv.FormatInt(maxRevision(old)+1, 10)
	if existing != nil {
		annChanged := p.setNewRSAnnotations(existing, newRevision, true)
		if annChanged || existing.Spec.MinReadySeconds != p.d.Spec.MinReadySeconds {
			existing.Spec.MinReadySeconds = p.d.Spec.MinReadySeconds
			p.changed[existing] = true
		}
		p.setDeploymentRevision(existing.Annotations[RevisionAnnotation])
		if progressCondition(&p.d.Status) == nil {
			p.setCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, ReasonFoundNewRS,
				fmt.Sprintf("Found new replica set %q", existing.Name))
		}
		return existing, old
	}
	if !create {
		return nil, old
	}
	rs := p.buildNewRS(old, newRevision)
	p.rss = append(p.rss, rs)
	p.created = rs
	p.changed[rs] = true
	p.setDeploymentRevision(newRevision)
	p.setCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, ReasonNewRSCreated,
		fmt.Sprintf("Created new replica set %q", rs.Name))
	return rs, old
}

// buildNewRS makes the ReplicaSet for the Deployment's current template.
// If an owned set already has the name (with another template), the
// collision count is raised until the name is free.
func (p *planner) buildNewRS(old []*appsv1.ReplicaSet, revision string) *appsv1.ReplicaSet {
	d := p.d
	var hash string
	for {
		hash = ComputeHash(&d.Spec.Template, d.Status.CollisionCount)
		if !p.nameTaken(d.Name + "-" + hash) {
			break
		}
		c := int32(0)
		if d.Status.CollisionCount != nil {
			c = *d.Status.CollisionCount
		}
		c++
		d.Status.CollisionCount = &c
	}
	tmpl := d.Spec.Template.DeepCopy()
	tmpl.Labels = withLabel(tmpl.Labels, PodTemplateHashLabel, hash)
	sel := d.Spec.Selector.DeepCopy()
	sel.MatchLabels = withLabel(sel.MatchLabels, PodTemplateHashLabel, hash)
	t := true
	rs := &appsv1.ReplicaSet{
		TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "ReplicaSet"},
		ObjectMeta: metav1.ObjectMeta{
			Name:      d.Name + "-" + hash,
			Namespace: d.Namespace,
			Labels:    tmpl.Labels,
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "apps/v1", Kind: "Deployment", Name: d.Name, UID: d.UID,
				Controller: &t, BlockOwnerDeletion: &t,
			}},
			CreationTimestamp: metav1.NewTime(p.now),
		},
		Spec: appsv1.ReplicaSetSpec{
			MinReadySeconds: d.Spec.MinReadySeconds,
			Selector:        sel,
			Template:        *tmpl,
		},
	}
	setReplicas(rs, 0)
	setReplicas(rs, p.newRSReplicas(append(old, rs), rs))
	p.setNewRSAnnotations(rs, revision, false)
	return rs
}

func (p *planner) nameTaken(name string) bool {
	for _, rs := range p.rss {
		if rs.Name == name {
			return true
		}
	}
	return false
}

func withLabel(m map[string]string, k, v string) map[string]string {
	out := make(map[string]string, len(m)+1)
	for a, b := range m {
		out[a] = b
	}
	out[k] = v
	return out
}

// setNewRSAnnotations copies the Deployment's annotations, raises the
// revision (recording the old one in the revision history) and, for a new
// set, records the replica annotations. It reports whether rs changed.
func (p *planner) setNewRSAnnotations(rs *appsv1.ReplicaSet, newRevision string, exists bool) bool {
	if rs.Annotations == nil {
		rs.Annotations = map[string]string{}
	}
	changed := false
	for k, v := range p.d.Annotations {
		if skipCopy[k] || rs.Annotations[k] == v {
			continue
		}
		rs.Annotations[k] = v
		changed = true
	}
	oldRevision := rs.Annotations[RevisionAnnotation]
	oldN, _ := strconv.ParseInt(oldRevision, 10, 64)
	newN, _ := strconv.ParseInt(newRevision, 10, 64)
	if oldN < newN {
		rs.Annotations[RevisionAnnotation] = newRevision
		changed = true
		if oldRevision != "" {
			if h := rs.Annotations[RevisionHistoryAnnotation]; h == "" {
				rs.Annotations[RevisionHistoryAnnotation] = oldRevision
			} else {
				rs.Annotations[RevisionHistoryAnnotation] = strings.Join([]string{h, oldRevision}, ",")
			}
		}
	}
	if !exists && setReplicasAnnotations(rs, *p.d.Spec.Replicas, *p.d.Spec.Replicas+maxSurge(p.d)) {
		changed = true
	}
	return changed
}

func (p *planner) setDeploymentRevision(rev string) {
	if p.d.Annotations[RevisionAnnotation] != rev {
		p.d.Annotations[RevisionAnnotation] = rev
		p.annotationsNew = true
	}
}

// newRSReplicas is how big the new set may be now.
func (p *planner) newRSReplicas(all []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) int32 {
	replicas := *p.d.Spec.Replicas
	if !isRollingUpdate(p.d) {
		return replicas
	}
	maxTotal := replicas + maxSurge(p.d)
	current := sumSpec(all...)
	if current >= maxTotal {
		return specReplicas(newRS)
	}
	up := min(maxTotal-current, replicas-specReplicas(newRS))
	return specReplicas(newRS) + up
}
