package history

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func runtimeRaw(data []byte) runtime.RawExtension { return runtime.RawExtension{Raw: data} }

// Plan is what a parent's history needs so that one revision holds its
// current template.
type Plan struct {
	// Current is the revision of the parent's template: an existing one,
	// Renumber (an existing one given the next number) or Create.
	Current *appsv1.ControllerRevision
	// Create is a new revision to create (Current), or nil.
	Create *appsv1.ControllerRevision
	// Renumber is an existing revision equal to the template but older
	// than the newest, with Revision set to the next number (a rollback
	// to it makes it the newest again), to update; or nil.
	Renumber *appsv1.ControllerRevision
	// Dedup are revisions equal to Current besides it, to delete.
	Dedup []*appsv1.ControllerRevision
}

// Input is the state a history plan reads.
type Input struct {
	Parent         metav1.Object
	GVK            schema.GroupVersionKind
	Template       *corev1.PodTemplateSpec
	Revisions      []*appsv1.ControllerRevision // owned by Parent
	CollisionCount *int32
}

// PlanCurrent plans the revision for in.Parent's current template, as
// Kubernetes' controllers do: reuse an equal revision (renumbered to be
// the newest when it is not), else create one with the next number.
func PlanCurrent(in Input) (Plan, error) {
	data, err := TemplatePatch(in.Template)
	if err != nil {
		return Plan{}, err
	}
	revs := append([]*appsv1.ControllerRevision(nil), in.Revisions...)
	Sort(revs)
	next := Next(revs)
	want := New(in.Parent, in.GVK, in.Template.Labels, data, next, in.CollisionCount)
	// As Kubernetes' controllers do, a new revision keeps the parent's
	// annotations: kubernetes.io/change-cause is what rollout history
	// prints.
	if a := in.Parent.GetAnnotations(); len(a) > 0 {
		want.Annotations = make(map[string]string, len(a))
		for k, v := range a {
			want.Annotations[k] = v
		}
	}
	equal := FindEqual(revs, want)
	var p Plan
	switch n := len(equal); {
	case n == 0:
		p.Current, p.Create = want, want
	case equal[n-1].Revision == next-1:
		p.Current = equal[n-1] // already the newest
	default:
		re := equal[n-1].DeepCopy()
		re.Revision = next
		p.Current, p.Renumber = re, re
	}
	if n := len(equal); n > 1 {
		p.Dedup = equal[:n-1]
	}
	return p, nil
}

// Truncate returns the revisions to delete so that at most limit remain
// besides those kept: revisions named in keep (the current and update
// revisions, and those live pods were made from) are never deleted; of
// the others the oldest go first.
func Truncate(revs []*appsv1.ControllerRevision, keep map[string]bool, limit int32) []*appsv1.ControllerRevision {
	var old []*appsv1.ControllerRevision
	for _, r := range revs {
		if !keep[r.Name] {
			old = append(old, r)
		}
	}
	if limit < 0 {
		limit = 0
	}
	n := len(old) - int(limit)
	if n <= 0 {
		return nil
	}
	Sort(old)
	return old[:n]
}

// ErrCollision is returned by Create when another revision of a different
// template already has the name: bump the parent's collisionCount.
type ErrCollision struct{ Name string }

func (e *ErrCollision) Error() string {
	return fmt.Sprintf("controllerrevision %s exists with another template (hash collision)", e.Name)
}
