package apiserver

import (
	"context"
	"encoding/json"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/api"
	"github.com/strom-project/strom/events/objects"
)

// delete removes an object with Kubernetes' deletion rules.
func (c *Core) delete(ctx context.Context, who Caller, req *api.Request) (*api.Response, error) {
	k, err := lookup(req.Resource)
	if err != nil {
		return nil, err
	}
	if req.Name == "" {
		return nil, events.Errorf(events.ReasonBadRequest, "delete: no name given")
	}
	opts := events.WriteOptions{Actor: who.User, Cause: req.Cause, DryRun: req.DryRun}
	if resp, handled, err := c.deleteWithPropagation(ctx, k, req, opts); handled {
		return resp, err
	}
	if k.Kind == "Pod" {
		return c.deletePod(ctx, k, req, opts)
	}
	res, err := c.cfg.Writer.Delete(ctx, k, req.Namespace, req.Name, req.ResourceVersion, opts)
	if err != nil {
		return nil, err
	}
	if !req.DryRun {
		c.releaseService(ctx, res) // allocate.go
	}
	data, _ := json.Marshal(res.Object)
	return &api.Response{Outcome: string(res.Outcome), Kind: k.Kind, Object: data, Seq: res.Seq}, nil
}

// deletePod deletes gracefully, as Kubernetes does: a pod bound to a node
// is first marked (deletionTimestamp, grace period) so that its node stops
// its containers; the node then deletes it for good (Params["final"]).
// Unbound pods, grace 0 with force, and final deletions go at once.
func (c *Core) deletePod(ctx context.Context, k *objects.Kind, req *api.Request, opts events.WriteOptions) (*api.Response, error) {
	cur, err := c.cfg.Writer.Get(ctx, k, req.Namespace, req.Name)
	if err != nil {
		return nil, err
	}
	pod := cur.(*corev1.Pod)
	final := req.Params["final"] == "true" || req.Params["force"] == "true" || pod.Spec.NodeName == ""
	var res *events.Result
	if final {
		res, err = c.cfg.Writer.Delete(ctx, k, req.Namespace, req.Name, req.ResourceVersion, opts)
	} else {
		grace := pod.Spec.TerminationGracePeriodSeconds
		if g, ok := req.Params["grace"]; ok {
			v, perr := strconv.ParseInt(g, 10, 64)
			if perr != nil || v < 0 {
				return nil, events.Errorf(events.ReasonBadRequest, "grace period %q: want a whole number of seconds >= 0", g)
			}
			grace = &v
		}
		res, err = c.cfg.Writer.MarkDeleting(ctx, k, req.Namespace, req.Name, grace, opts)
		if err == nil {
			res.Outcome = events.Deleted
		}
	}
	if err != nil {
		return nil, err
	}
	data, _ := json.Marshal(res.Object)
	return &api.Response{Outcome: string(events.Deleted), Kind: k.Kind, Object: data, Seq: res.Seq}, nil
}

// deleteWithPropagation handles the deletions that do not simply remove
// the object: a Namespace (marked Terminating; the namespace controller
// empties and removes it) and the foreground and orphan policies (the
// object is marked deleting with the policy's finalizer; the garbage
// collector finishes). handled is false for everything else.
func (c *Core) deleteWithPropagation(ctx context.Context, k *objects.Kind, req *api.Request, opts events.WriteOptions) (_ *api.Response, handled bool, _ error) {
	prop := req.Params["propagation"]
	switch prop {
	case "", api.PropagationBackground, api.PropagationForeground, api.PropagationOrphan:
	default:
		return nil, true, events.Errorf(events.ReasonBadRequest, "propagation %q: want background, foreground or orphan", prop)
	}
	if k.Kind == "Namespace" {
		resp, err := c.terminateNamespace(ctx, k, req, opts)
		return resp, true, err
	}
	if k.Kind == "Pod" || prop == "" || prop == api.PropagationBackground {
		return nil, false, nil
	}
	fin := metav1.FinalizerDeleteDependents
	if prop == api.PropagationOrphan {
		fin = metav1.FinalizerOrphanDependents
	}
	if opts.DryRun {
		obj, err := c.cfg.Writer.Get(ctx, k, req.Namespace, req.Name)
		if err != nil {
			return nil, true, err
		}
		data, _ := json.Marshal(obj)
		return &api.Response{Outcome: string(events.Deleted), Kind: k.Kind, Object: data}, true, nil
	}
	res, err := api.MarkForDeletion(ctx, c.cfg.Writer, k, req.Namespace, req.Name, fin, opts)
	if err != nil {
		return nil, true, err
	}
	data, _ := json.Marshal(res.Object)
	return &api.Response{Outcome: string(events.Deleted), Kind: k.Kind, Object: data, Seq: res.Seq}, true, nil
}

// terminateNamespace marks a Namespace deleting with phase Terminating.
func (c *Core) terminateNamespace(ctx context.Context, k *objects.Kind, req *api.Request, opts events.WriteOptions) (*api.Response, error) {
	if opts.DryRun {
		obj, err := c.cfg.Writer.Get(ctx, k, "", req.Name)
		if err != nil {
			return nil, err
		}
		data, _ := json.Marshal(obj)
		return &api.Response{Outcome: string(events.Deleted), Kind: k.Kind, Object: data}, nil
	}
	res, err := c.cfg.Writer.MarkDeleting(ctx, k, "", req.Name, nil, opts)
	if err != nil {
		return nil, err
	}
	res, err = api.SetNamespaceTerminating(ctx, c.cfg.Writer, res.Object.(*corev1.Namespace), opts)
	if err != nil {
		return nil, err
	}
	data, _ := json.Marshal(res.Object)
	return &api.Response{Outcome: string(events.Deleted), Kind: k.Kind, Object: data, Seq: res.Seq}, nil
}

// allocateService runs before a Service write (apply, create, update):
// it returns a function the caller runs with the write's outcome, which
// releases fresh claims when the write failed and claims the new object
// no longer holds when it succeeded.
func (c *Core) allocateService(ctx context.Context, verb string, obj objects.Object, dryRun bool) (func(res *events.Result, err error), error) {
	a := c.cfg.Services
	svc, ok := obj.(*corev1.Service)
	if a == nil || !ok || verb == api.VerbStatus {
		return func(*events.Result, error) {}, nil
	}
	if svc.Namespace == "" {
		svc.Namespace = "default"
	}
	var cur *corev1.Service
	if o, err := c.cfg.Writer.Get(ctx, objects.ByKind("Service"), svc.Namespace, svc.Name); err == nil {
		cur = o.(*corev1.Service)
	} else if !events.IsNotFound(err) {
		return nil, err
	}
	al, err := a.Allocate(ctx, svc, cur, dryRun)
	if err != nil {
		return nil, err
	}
	return func(res *events.Result, err error) {
		if err != nil || dryRun {
			al.Undo()
			return
		}
		if after, ok := res.Object.(*corev1.Service); ok && cur != nil {
			a.ReleaseUnused(context.Background(), cur, after)
		}
	}, nil
}

// releaseService frees a deleted Service's claims.
func (c *Core) releaseService(ctx context.Context, res *events.Result) {
	if c.cfg.Services == nil || res == nil {
		return
	}
	if svc, ok := res.Object.(*corev1.Service); ok {
		c.cfg.Services.Release(ctx, svc)
	}
}
