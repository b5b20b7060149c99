package api

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/objects"
)

// Deletion propagation policies (delete's Params["propagation"]).
const (
	PropagationBackground = "background" // the default: delete now, dependents next
	PropagationForeground = "foreground" // dependents first, then the owner
	PropagationOrphan     = "orphan"     // keep dependents, drop their owner reference
)

// MarkForDeletion adds finalizer fin to an object and marks it deleting:
// whoever handles fin deletes it for good later.
func MarkForDeletion(ctx context.Context, w *events.Writer, k *objects.Kind, ns, name, fin string, opts events.WriteOptions) (*events.Result, error) {
	for attempt := 0; attempt < 5; attempt++ {
		obj, err := w.Get(ctx, k, ns, name)
		if err != nil {
			return nil, err
		}
		has := false
		for _, f := range obj.GetFinalizers() {
			has = has || f == fin
		}
		if !has {
			obj.SetFinalizers(append(obj.GetFinalizers(), fin))
			if _, err := w.Update(ctx, obj, opts); events.IsConflict(err) {
				continue
			} else if err != nil {
				return nil, fmt.Errorf("adding finalizer %s to %s %s: %w", fin, k.Resource, name, err)
			}
		}
		return w.MarkDeleting(ctx, k, ns, name, nil, opts)
	}
	return nil, events.Errorf(events.ReasonConflict, "%s %q kept changing while being marked for deletion", k.Resource, name)
}

// SetNamespaceTerminating writes status.phase Terminating.
func SetNamespaceTerminating(ctx context.Context, w *events.Writer, ns *corev1.Namespace, opts events.WriteOptions) (*events.Result, error) {
	if ns.Status.Phase == corev1.NamespaceTerminating {
		return &events.Result{Outcome: events.Unchanged, Object: ns}, nil
	}
	next := ns.DeepCopy()
	next.ResourceVersion = ""
	next.Status.Phase = corev1.NamespaceTerminating
	res, err := w.UpdateStatus(ctx, next, opts)
	if err != nil {
		return nil, fmt.Errorf("marking namespace %s Terminating: %w", ns.Name, err)
	}
	return res, nil
}
