package daemonsetctl

import (
	"context"
	"errors"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/reconcilers/ctlutil"
	"github.com/strom-project/strom/reconcilers/history"
)

var gvk = appsv1.SchemeGroupVersion.WithKind("DaemonSet")

func uidSelector(uid types.UID) fields.Selector {
	return fields.OneTermEqualSelector("metadata.ownerReferences.uid", string(uid))
}

// hist is a set's revisions and the hash of the current one.
type hist struct {
	revs    []*appsv1.ControllerRevision
	current *appsv1.ControllerRevision
	hash    string
}

// revisions makes sure a revision holds ds's template, as Kubernetes'
// controller does: an equal one is reused (renumbered to be the newest
// after a rollback), duplicates are deleted, else one is created. On a
// hash collision it bumps status.collisionCount and reports done: the
// set's new version is planned afresh.
func (r *Reconciler) revisions(ctx context.Context, ds *appsv1.DaemonSet, o events.WriteOptions, seqs *ctlutil.Seqs) (hist, bool, error) {
	revs, err := history.Owned(r.env.Store, ds.Namespace, ds.UID)
	if err != nil {
		return hist{}, false, err
	}
	cur, keep, redo, err := history.Ensure(ctx, r.env.Writer, history.Input{Parent: ds, GVK: gvk, Template: &ds.Spec.Template, Revisions: revs,
		CollisionCount: ds.Status.CollisionCount}, o, seqs.Add)
	var coll *history.ErrCollision
	switch {
	case errors.As(err, &coll):
		return hist{}, true, r.bumpCollisions(ctx, ds, o, seqs)
	case err != nil:
		return hist{}, false, err
	case redo:
		return hist{}, true, nil
	}
	return hist{revs: keep, current: cur, hash: cur.Labels[history.HashLabel]}, false, nil
}

func (r *Reconciler) bumpCollisions(ctx context.Context, ds *appsv1.DaemonSet, o events.WriteOptions, seqs *ctlutil.Seqs) error {
	next := ds.DeepCopy()
	n := int32(1)
	if c := ds.Status.CollisionCount; c != nil {
		n = *c + 1
	}
	next.Status.CollisionCount = &n
	res, err := r.env.Writer.UpdateStatus(ctx, next, o)
	if events.IsConflict(err) || events.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("bumping the collision count of daemonset %s/%s: %w", ds.Namespace, ds.Name, err)
	}
	seqs.Add(res)
	return nil
}

// truncate deletes the revisions beyond revisionHistoryLimit that
// neither the current template nor a live pod uses.
func (r *Reconciler) truncate(ctx context.Context, ds *appsv1.DaemonSet, h hist, pods []*corev1.Pod, o events.WriteOptions, seqs *ctlutil.Seqs) error {
	limit := int32(10)
	if ds.Spec.RevisionHistoryLimit != nil {
		limit = *ds.Spec.RevisionHistoryLimit
	}
	if len(h.revs) <= int(limit)+1 {
		return nil
	}
	live := map[string]bool{}
	for _, p := range pods {
		if p.DeletionTimestamp == nil {
			live[p.Labels[history.HashLabel]] = true
		}
	}
	keep := map[string]bool{h.current.Name: true}
	for _, rev := range h.revs {
		if live[rev.Labels[history.HashLabel]] {
			keep[rev.Name] = true
		}
	}
	var errs []error
	for _, rev := range history.Truncate(h.revs, keep, limit) {
		res, err := history.Delete(ctx, r.env.Writer, rev, o)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		seqs.Add(res)
	}
	return errors.Join(errs...)
}
