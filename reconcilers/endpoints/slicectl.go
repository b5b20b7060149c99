package endpoints

import (
	"context"
	"errors"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/objects"
	"github.com/strom-project/strom/projections"
	"github.com/strom-project/strom/reconcilers/controller"
	"github.com/strom-project/strom/reconcilers/manager"
)

const sliceActor = "system:endpointslice-controller"

var sliceKind = objects.ByKind("EndpointSlice")

// SliceReconciler keeps every selector Service's EndpointSlices in step
// with its pods: the shell around DesiredSlices and PlanSlices. It reads
// the Store and writes through the write path; its only state is the
// Store. Only slices labelled as managed by the endpointslice controller
// are touched, so slices users write (for selector-less Services) stay.
type SliceReconciler struct {
	env manager.Env
	max int
}

// NewSlices returns the endpointslice reconciler.
func NewSlices(env manager.Env) *SliceReconciler {
	return &SliceReconciler{env: env, max: MaxEndpointsPerSlice}
}

// Name implements manager.Reconciler.
func (r *SliceReconciler) Name() string { return "endpointslice" }

// Watches implements manager.Reconciler: Services, their slices (to
// repair edits and deletions), the pods they select or list, and nodes
// (a node's zone, or a pod's node appearing).
func (r *SliceReconciler) Watches() []manager.Watch {
	return []manager.Watch{
		{Resource: "services"},
		{Resource: "endpointslices", Keys: r.sliceKeys},
		{Resource: "pods", Keys: r.podKeys},
		{Resource: "nodes", Keys: r.nodeKeys},
	}
}

// Keys implements manager.Reconciler.
func (r *SliceReconciler) Keys() []string { return serviceKeys(r.env.Store) }

// sliceKeys maps a slice to its Service, none for a slice of no Service.
func (r *SliceReconciler) sliceKeys(ev *events.Event) []string {
	if svc := ev.Labels[discoveryv1.LabelServiceName]; svc != "" {
		return []string{events.ObjectKey(ev.Namespace, svc)}
	}
	return []string{}
}

// podKeys maps a pod to the Services selecting it and those whose slices
// list it (a pod whose labels changed is still in its old Service's
// slices).
func (r *SliceReconciler) podKeys(ev *events.Event) []string {
	keys := r.selecting(ev.Namespace, labels.Set(ev.Labels))
	seen := map[string]bool{}
	for _, k := range keys {
		seen[k] = true
	}
	slices, _ := r.env.Store.List(projections.Query{Resource: "endpointslices", Namespace: ev.Namespace})
	for _, e := range slices {
		svc := e.Labels[discoveryv1.LabelServiceName]
		if k := events.ObjectKey(e.Namespace, svc); svc != "" && !seen[k] && strings.Contains(string(e.Data), `"uid":"`+ev.UID+`"`) {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	return keys
}

// nodeKeys maps a node to the Services selecting its pods.
func (r *SliceReconciler) nodeKeys(ev *events.Event) []string {
	pods, _ := r.env.Store.List(projections.Query{Resource: "pods", Fields: fields.OneTermEqualSelector("spec.nodeName", ev.Name)})
	seen := map[string]bool{}
	keys := []string{}
	for _, p := range pods {
		for _, k := range r.selecting(p.Namespace, labels.Set(p.Labels)) {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	return keys
}

// selecting lists the keys of the Services in ns whose selector matches set.
func (r *SliceReconciler) selecting(ns string, set labels.Set) []string {
	return appendServices([]string{}, r.env.Store, ns, set, nil)
}

// Reconcile makes one Service's EndpointSlices what its selector and pods
// say: none for a Service that is gone, has no selector or is an
// ExternalName.
func (r *SliceReconciler) Reconcile(ctx context.Context, key string) (controller.Result, error) {
	return reconcileService(ctx, r.env.Store, key, r.managedSlices, r.apply)
}

// apply writes the difference between the slices s's Service should have
// and those it has; it returns the last sequence written.
func (r *SliceReconciler) apply(ctx context.Context, s serviceState[[]*discoveryv1.EndpointSlice]) (uint64, error) {
	var want []*discoveryv1.EndpointSlice
	if s.svc != nil && selectsPods(s.svc) {
		nodes, err := r.nodes(s.pods)
		if err != nil {
			return 0, controller.Terminal(err)
		}
		want = DesiredSlices(s.svc, s.pods, nodes, r.max)
	}
	plan := PlanSlices(want, s.cur)
	if plan.Empty() {
		return 0, nil
	}
	seq, err := r.write(ctx, plan)
	if err != nil {
		return 0, fmt.Errorf("writing endpointslices of %s: %w", s.key, err)
	}
	return seq, nil
}

// write applies a plan; it returns the last sequence written. Every write
// is tried; a slice already gone counts as deleted.
func (r *SliceReconciler) write(ctx context.Context, p SlicePlan) (uint64, error) {
	o := events.WriteOptions{Actor: sliceActor, Cause: manager.Cause(ctx)}
	var last uint64
	var errs []error
	note := func(res *events.Result, err error) {
		if err != nil {
			errs = append(errs, err)
		} else if res != nil && res.Seq > last {
			last = res.Seq
		}
	}
	for _, s := range p.Create {
		note(r.env.Writer.Create(ctx, s, o))
	}
	for _, s := range p.Update {
		note(r.env.Writer.Update(ctx, s, o))
	}
	for _, s := range p.Delete {
		res, err := r.env.Writer.Delete(ctx, sliceKind, s.Namespace, s.Name, events.DeleteOptions{Now: true}, o)
		if events.IsNotFound(err) {
			err = nil
		}
		note(res, err)
	}
	return last, errors.Join(errs...)
}

// managedSlices are the slices of Service ns/name that this controller
// manages.
func (r *SliceReconciler) managedSlices(ns, name string) ([]*discoveryv1.EndpointSlice, error) {
	sel := labels.SelectorFromValidatedSet(labels.Set{discoveryv1.LabelServiceName: name,
		discoveryv1.LabelManagedBy: objects.EndpointSliceController})
	return list[*discoveryv1.EndpointSlice](r.env.Store, projections.Query{Resource: "endpointslices", Namespace: ns, Labels: sel})
}

// nodes reads the nodes pods run on; a node not registered has no entry.
func (r *SliceReconciler) nodes(pods []*corev1.Pod) (map[string]*corev1.Node, error) {
	nodes := map[string]*corev1.Node{}
	for _, p := range pods {
		n := p.Spec.NodeName
		if _, done := nodes[n]; done || n == "" {
			continue
		}
		e, ok := r.env.Store.Get("nodes", "", n)
		if !ok {
			continue
		}
		obj, err := e.Object()
		if err != nil {
			return nil, err
		}
		nodes[n] = obj.(*corev1.Node)
	}
	return nodes, nil
}
