package statefulsetctl

import (
	"context"
	"errors"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/reconcilers/ctlutil"
	"github.com/strom-project/strom/reconcilers/history"
	"github.com/strom-project/strom/reconcilers/statefulset"
)

var gvk = appsv1.SchemeGroupVersion.WithKind("StatefulSet")

// hist is a set's revisions, its current and its update revision.
type hist struct {
	revs            []*appsv1.ControllerRevision
	current, update statefulset.Rev
}

// revisions makes sure a revision holds ss's template, as Kubernetes'
// controller does (reused, renumbered after a rollback, deduplicated, or
// created), and finds the one status.currentRevision names. On a hash
// collision it bumps status.collisionCount and reports done.
func (r *Reconciler) revisions(ctx context.Context, ss *appsv1.StatefulSet, o events.WriteOptions, seqs *ctlutil.Seqs) (hist, bool, error) {
	revs, err := history.Owned(r.env.Store, ss.Namespace, ss.UID)
	if err != nil {
		return hist{}, false, err
	}
	upd, keep, redo, err := history.Ensure(ctx, r.env.Writer, history.Input{Parent: ss, GVK: gvk, Template: &ss.Spec.Template, Revisions: revs,
		CollisionCount: ss.Status.CollisionCount}, o, seqs.Add)
	var coll *history.ErrCollision
	switch {
	case errors.As(err, &coll):
		return hist{}, true, r.bumpCollisions(ctx, ss, o, seqs)
	case err != nil:
		return hist{}, false, err
	case redo:
		return hist{}, true, nil
	}
	h := hist{revs: keep, update: statefulset.Rev{Name: upd.Name, Template: &ss.Spec.Template}}
	h.current = h.update
	if name := ss.Status.CurrentRevision; name != "" && name != upd.Name {
		for _, rev := range keep {
			if rev.Name != name {
				continue
			}
			t, err := history.Template(rev)
			if err != nil {
				return hist{}, false, err
			}
			h.current = statefulset.Rev{Name: rev.Name, Template: t}
		}
	}
	return h, false, nil
}

func (r *Reconciler) bumpCollisions(ctx context.Context, ss *appsv1.StatefulSet, o events.WriteOptions, seqs *ctlutil.Seqs) error {
	next := ss.DeepCopy()
	n := int32(1)
	if c := ss.Status.CollisionCount; c != nil {
		n = *c + 1
	}
	next.Status.CollisionCount = &n
	res, err := r.env.Writer.UpdateStatus(ctx, next, o)
	if events.IsConflict(err) || events.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("bumping the collision count of statefulset %s/%s: %w", ss.Namespace, ss.Name, err)
	}
	seqs.Add(res)
	return nil
}

// truncate deletes the revisions beyond revisionHistoryLimit that are
// neither the current nor the update revision nor used by a live pod.
func (r *Reconciler) truncate(ctx context.Context, ss *appsv1.StatefulSet, h hist, pods []*corev1.Pod, o events.WriteOptions, seqs *ctlutil.Seqs) error {
	limit := int32(10)
	if ss.Spec.RevisionHistoryLimit != nil {
		limit = *ss.Spec.RevisionHistoryLimit
	}
	if len(h.revs) <= int(limit)+2 {
		return nil
	}
	keep := map[string]bool{h.current.Name: true, h.update.Name: true}
	for _, p := range pods {
		if p.DeletionTimestamp == nil {
			keep[statefulset.Revision(p)] = true
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
