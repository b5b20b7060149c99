package namespace

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/objects"
	"github.com/strom-project/strom/projections"
	"github.com/strom-project/strom/reconcilers/controller"
	"github.com/strom-project/strom/reconcilers/ctlutil"
	"github.com/strom-project/strom/reconcilers/manager"
)

// Actor is who the namespace controller writes as.
const Actor = "system:namespace-controller"

var nsKind = objects.ByKind("Namespace")

// Reconciler empties and removes terminating namespaces.
type Reconciler struct {
	env manager.Env
	log *zap.Logger
	// Poll is how often a namespace still holding objects is looked at
	// again (deletions of its objects also re-queue it); default 1 s.
	Poll time.Duration
}

// New returns a namespace controller.
func New(env manager.Env) *Reconciler {
	return &Reconciler{env: env, log: ctlutil.Log(env, "namespace"), Poll: time.Second}
}

// Name implements manager.Reconciler.
func (r *Reconciler) Name() string { return "namespace" }

// Keys implements manager.Reconciler.
func (r *Reconciler) Keys() []string { return ctlutil.Keys(r.env.Store, "namespaces") }

// Watches namespaces, and pod deletions (the slowest objects to go).
func (r *Reconciler) Watches() []manager.Watch {
	return []manager.Watch{
		{Resource: "namespaces"},
		{Resource: "pods", Keys: func(ev *events.Event) []string {
			if ev.Type == events.TypeDeleted {
				return []string{ev.Namespace}
			}
			return nil
		}},
	}
}

// Reconcile empties a terminating namespace, then deletes it.
func (r *Reconciler) Reconcile(ctx context.Context, key string) (controller.Result, error) {
	ns, ok, err := ctlutil.Get[corev1.Namespace](r.env.Store, "namespaces", "", key)
	if err != nil {
		return controller.Result{}, controller.Terminal(err)
	}
	if !ok || ns.DeletionTimestamp == nil {
		return controller.Result{}, nil
	}
	o := ctlutil.Opts(ctx, Actor)
	if ns.Status.Phase != corev1.NamespaceTerminating {
		// Deleting a namespace marks it Terminating in the same event; a
		// namespace marked otherwise is made Terminating here (Delete of a
		// deleting namespace does only that).
		if _, err := r.env.Writer.Delete(ctx, nsKind, "", key, events.DeleteOptions{}, o); err != nil && !events.IsNotFound(err) && !events.IsConflict(err) {
			return controller.Result{}, fmt.Errorf("marking namespace %s Terminating: %w", key, err)
		}
	}
	left, err := r.empty(ctx, key, o)
	if err != nil {
		return controller.Result{}, err
	}
	if left > 0 {
		return controller.Result{RequeueAfter: r.Poll}, nil
	}
	if _, err := r.env.Writer.Delete(ctx, nsKind, "", key, events.DeleteOptions{Now: true}, o); err != nil && !events.IsNotFound(err) {
		return controller.Result{}, fmt.Errorf("deleting namespace %s: %w", key, err)
	}
	return controller.Result{}, nil
}

// empty deletes what is left in namespace ns and returns how many
// objects were still there.
func (r *Reconciler) empty(ctx context.Context, ns string, o events.WriteOptions) (int, error) {
	left := 0
	var errs []error
	for _, k := range objects.All() {
		if !k.Namespaced {
			continue
		}
		items, _ := r.env.Store.List(projections.Query{Resource: k.Resource, Namespace: ns})
		left += len(items)
		for _, e := range items {
			if k.Kind == "Pod" {
				obj, err := e.Object()
				if err != nil {
					continue
				}
				pod := obj.(*corev1.Pod)
				if pod.DeletionTimestamp != nil {
					continue // its node finishes it
				}
				if _, err := r.env.Writer.Delete(ctx, k, ns, pod.Name, events.DeleteOptions{}, o); err != nil && !events.IsNotFound(err) { // graceful
					errs = append(errs, fmt.Errorf("deleting pod %s/%s: %w", ns, pod.Name, err))
				}
				continue
			}
			if _, err := r.env.Writer.Delete(ctx, k, ns, e.Name, events.DeleteOptions{Now: true}, o); err != nil && !events.IsNotFound(err) {
				errs = append(errs, fmt.Errorf("deleting %s %s: %w", k.Resource, e.Key(), err))
			}
		}
	}
	return left, errors.Join(errs...)
}
