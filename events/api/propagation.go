package api

import (
	"context"
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/objects"
)

// Deletion propagation policies (delete's Params["propagation"]).
const (
	PropagationBackground = "background" // the default: delete now, dependents next
	PropagationForeground = "foreground" // dependents first, then the owner
	PropagationOrphan     = "orphan"     // keep dependents, drop their owner reference
)

// deleteWithPropagation handles the deletions that do not simply remove
// the object: a Namespace (marked Terminating; the namespace controller
// empties and removes it) and the foreground and orphan policies (the
// object is marked deleting with the policy's finalizer; the garbage
// collector finishes). handled is false for everything else.
func (s *Server) deleteWithPropagation(ctx context.Context, k *objects.Kind, req *Request, opts events.WriteOptions) (_ *Response, handled bool, _ error) {
	prop := req.Params["propagation"]
	switch prop {
	case "", PropagationBackground, PropagationForeground, PropagationOrphan:
	default:
		return nil, true, events.Errorf(events.ReasonBadRequest, "propagation %q: want background, foreground or orphan", prop)
	}
	if k.Kind == "Namespace" {
		resp, err := s.terminateNamespace(ctx, k, req, opts)
		return resp, true, err
	}
	if k.Kind == "Pod" || prop == "" || prop == PropagationBackground {
		return nil, false, nil
	}
	fin := metav1.FinalizerDeleteDependents
	if prop == PropagationOrphan {
		fin = metav1.FinalizerOrphanDependents
	}
	if opts.DryRun {
		obj, err := s.cfg.Writer.Get(ctx, k, req.Namespace, req.Name)
		if err != nil {
			return nil, true, err
		}
		data, _ := json.Marshal(obj)
		return &Response{Outcome: string(events.Deleted), Kind: k.Kind, Object: data}, true, nil
	}
	res, err := MarkForDeletion(ctx, s.cfg.Writer, k, req.Namespace, req.Name, fin, opts)
	if err != nil {
		return nil, true, err
	}
	data, _ := json.Marshal(res.Object)
	return &Response{Outcome: string(events.Deleted), Kind: k.Kind, Object: data, Seq: res.Seq}, true, nil
}

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

// terminateNamespace marks a Namespace deleting with phase Terminating.
func (s *Server) terminateNamespace(ctx context.Context, k *objects.Kind, req *Request, opts events.WriteOptions) (*Response, error) {
	if opts.DryRun {
		obj, err := s.cfg.Writer.Get(ctx, k, "", req.Name)
		if err != nil {
			return nil, err
		}
		data, _ := json.Marshal(obj)
		return &Response{Outcome: string(events.Deleted), Kind: k.Kind, Object: data}, nil
	}
	res, err := s.cfg.Writer.MarkDeleting(ctx, k, "", req.Name, nil, opts)
	if err != nil {
		return nil, err
	}
	res, err = SetNamespaceTerminating(ctx, s.cfg.Writer, res.Object.(*corev1.Namespace), opts)
	if err != nil {
		return nil, err
	}
	data, _ := json.Marshal(res.Object)
	return &Response{Outcome: string(events.Deleted), Kind: k.Kind, Object: data, Seq: res.Seq}, nil
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
