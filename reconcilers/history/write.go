package history

import (
	"context"
	"fmt"

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
