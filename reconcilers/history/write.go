package history

import (
	"context"
	"fmt"
	"slices"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/objects"
)

// Create writes rev. When a revision of that name exists already it is
// success if it holds the same template (returned as is) and an
// *ErrCollision otherwise.
func Create(ctx context.Context, w *events.Writer, rev *appsv1.ControllerRevision, o events.WriteOptions) (*events.Result, *appsv1.ControllerRevision, error) {
	res, err := w.Create(ctx, rev, o)
	if err == nil {
		return res, rev, nil
	}
	if !events.IsAlreadyExists(err) {
		return nil, nil, fmt.Errorf("creating controllerrevision %s/%s: %w", rev.Namespace, rev.Name, err)
	}
	got, gerr := w.Get(ctx, revisionKind, rev.Namespace, rev.Name)
	if gerr != nil {
		return nil, nil, fmt.Errorf("reading controllerrevision %s/%s: %w", rev.Namespace, rev.Name, gerr)
	}
	cur, ok := got.(*appsv1.ControllerRevision)
	if !ok || !Equal(cur, rev) {
		return nil, nil, &ErrCollision{Name: rev.Name}
	}
	return nil, cur, nil
}

// revisionKind is the ControllerRevision kind.
var revisionKind = objects.ByKind("ControllerRevision")

// Delete removes a revision; one already gone is success.
func Delete(ctx context.Context, w *events.Writer, rev *appsv1.ControllerRevision, o events.WriteOptions) (*events.Result, error) {
	res, err := w.Delete(ctx, revisionKind, rev.Namespace, rev.Name, events.DeleteOptions{}, o)
	if events.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("deleting controllerrevision %s/%s: %w", rev.Namespace, rev.Name, err)
	}
	return res, nil
}

// Ensure makes sure a revision holds in.Template, as Kubernetes' DaemonSet
// and StatefulSet controllers do: an equal one is reused (renumbered to be
// the newest after a rollback), duplicates are deleted, else one is
// created. It returns the current revision and the revisions left, and
// each write's result to add. redo reports that the parent must be planned
// again (a renumbering that lost a race); a hash collision is an
// *ErrCollision, on which the caller bumps the parent's collisionCount.
func Ensure(ctx context.Context, w *events.Writer, in Input, o events.WriteOptions, add func(*events.Result)) (cur *appsv1.ControllerRevision, revs []*appsv1.ControllerRevision, redo bool, err error) {
	p, err := PlanCurrent(in)
	if err != nil {
		return nil, nil, false, err
	}
	revs, cur = in.Revisions, p.Current
	switch {
	case p.Create != nil:
		res, got, err := Create(ctx, w, p.Create, o)
		if err != nil {
			return nil, nil, false, err
		}
		add(res)
		cur = got
		revs = append(revs[:len(revs):len(revs)], got)
	case p.Renumber != nil:
		res, err := w.Update(ctx, p.Renumber, o)
		if events.IsConflict(err) || events.IsNotFound(err) {
			return nil, nil, true, nil // re-planned on the revision's next version
		}
		if err != nil {
			return nil, nil, false, fmt.Errorf("renumbering controllerrevision %s/%s: %w", p.Renumber.Namespace, p.Renumber.Name, err)
		}
		add(res)
		for i := range revs {
			if revs[i].Name == p.Renumber.Name {
				revs[i] = p.Renumber
			}
		}
	}
	// Duplicates (the same template and hash under another name) go;
	// their pods already carry the current hash.
	keep := revs[:0:0]
	for _, rev := range revs {
		if !slices.Contains(p.Dedup, rev) {
			keep = append(keep, rev)
		}
	}
	for _, d := range p.Dedup {
		res, err := Delete(ctx, w, d, o)
		if err != nil {
			return nil, nil, false, err
		}
		add(res)
	}
	return cur, keep, false, nil
}
