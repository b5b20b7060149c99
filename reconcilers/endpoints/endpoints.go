package endpoints

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/kubeevents"
	"github.com/strom-project/strom/events/objects"
	"github.com/strom-project/strom/projections"
	"github.com/strom-project/strom/reconcilers/controller"
	"github.com/strom-project/strom/reconcilers/manager"
)

// ManagedAnnotation marks Endpoints this controller owns: only those are
// deleted when their Service goes.
const ManagedAnnotation = "endpoints.strom.dev/managed-by"

const actor = "system:endpoints-controller"

// Reconciler keeps Endpoints in step with Services and pods.
type Reconciler struct {
	env manager.Env
	rec *kubeevents.Recorder

	mu       sync.Mutex
	reported map[string]string // service key → last Unresolved reported
}

// New returns the endpoints reconciler.
func New(env manager.Env) *Reconciler {
	return &Reconciler{
		env:      env,
		rec:      kubeevents.New(kubeevents.WriterBackend(env.Writer, actor, manager.Cause), "endpoints-controller", "", env.Clock, env.Logger),
		reported: map[string]string{},
	}
}

// Name implements manager.Reconciler.
func (r *Reconciler) Name() string { return "endpoints" }

// Watches implements manager.Reconciler: a Service's own changes, its
// Endpoints (to repair edits), and pods mapped to the Services selecting
// them (before and after a label change both are seen: the event's labels
// are the new ones, and Services that lost the pod still list it until
// their own resync, so pod events also requeue Services whose Endpoints
// name the pod).
func (r *Reconciler) Watches() []manager.Watch {
	return []manager.Watch{
		{Resource: "services"},
		{Resource: "endpoints"},
		{Resource: "pods", Keys: r.podKeys},
	}
}

// Keys implements manager.Reconciler.
func (r *Reconciler) Keys() []string { return serviceKeys(r.env.Store) }

// podKeys maps a pod event to the Services that select the pod or whose
// Endpoints list it.
func (r *Reconciler) podKeys(ev *events.Event) []string {
	return appendServices(nil, r.env.Store, ev.Namespace, labels.Set(ev.Labels), func(e *projections.Entry) bool {
		ep, ok := r.env.Store.Get("endpoints", e.Namespace, e.Name)
		return ok && strings.Contains(string(ep.Data), `"uid":"`+ev.UID+`"`)
	})
}

// Reconcile makes one Service's Endpoints what its selector says.
func (r *Reconciler) Reconcile(ctx context.Context, key string) (controller.Result, error) {
	return reconcileService(ctx, r.env.Store, key, r.endpoints, r.apply)
}

// apply writes the Endpoints s's Service should have, if they differ from
// the stored ones, and deletes the managed Endpoints of a Service gone;
// it returns the sequence to wait for (none after a deletion).
func (r *Reconciler) apply(ctx context.Context, s serviceState[*corev1.Endpoints]) (uint64, error) {
	cur, svc := s.cur, s.svc
	if svc == nil {
		r.forget(s.key)
		if cur != nil && cur.Annotations[ManagedAnnotation] != "" {
			_, err := r.env.Writer.Delete(ctx, objects.ByKind("Endpoints"), s.ns, s.name, events.DeleteOptions{Now: true}, r.opts(ctx))
			if err != nil && !events.IsNotFound(err) {
				return 0, fmt.Errorf("deleting endpoints %s: %w", s.key, err)
			}
		}
		return 0, nil
	}
	if !selectsPods(svc) {
		return 0, nil // user-managed Endpoints, or none
	}
	want := Desired(svc, s.pods)
	r.report(ctx, s.key, svc, want.Unresolved)
	next := &corev1.Endpoints{
		ObjectMeta: metav1.ObjectMeta{Name: s.name, Namespace: s.ns, Labels: svc.Labels,
			Annotations: map[string]string{ManagedAnnotation: "endpoints-controller"}},
		Subsets: want.Subsets,
	}
	if cur != nil && equality.Semantic.DeepEqual(cur.Subsets, next.Subsets) &&
		equality.Semantic.DeepEqual(cur.Labels, next.Labels) && cur.Annotations[ManagedAnnotation] != "" {
		return 0, nil
	}
	var res *events.Result
	var err error
	if cur != nil {
		next.ResourceVersion = cur.ResourceVersion
		next.UID = cur.UID
		res, err = r.env.Writer.Update(ctx, next, r.opts(ctx))
	} else {
		res, err = r.env.Writer.Create(ctx, next, r.opts(ctx))
	}
	if err != nil {
		return 0, fmt.Errorf("writing endpoints %s: %w", s.key, err)
	}
	return res.Seq, nil
}

func (r *Reconciler) opts(ctx context.Context) events.WriteOptions {
	return events.WriteOptions{Actor: actor, Cause: manager.Cause(ctx)}
}

// endpoints reads the stored Endpoints of ns/name, nil for none.
func (r *Reconciler) endpoints(ns, name string) (*corev1.Endpoints, error) {
	e, ok := r.env.Store.Get("endpoints", ns, name)
	if !ok {
		return nil, nil
	}
	obj, err := e.Object()
	if err != nil {
		return nil, err
	}
	return obj.(*corev1.Endpoints), nil
}

// report records a Warning Event on the Service when its unresolved
// ports change (not on every reconcile).
func (r *Reconciler) report(ctx context.Context, key string, svc *corev1.Service, unresolved []string) {
	msg := strings.Join(unresolved, "; ")
	r.mu.Lock()
	same := r.reported[key] == msg
	r.reported[key] = msg
	r.mu.Unlock()
	if same || msg == "" {
		return
	}
	r.rec.Record(ctx, svc, corev1.EventTypeWarning, "FailedToResolvePort", msg)
}

func (r *Reconciler) forget(key string) {
	r.mu.Lock()
	delete(r.reported, key)
	r.mu.Unlock()
}

// The shell the endpoints and endpointslice reconcilers share around
// their pure cores (Desired, DesiredSlices and PlanSlices): what they read
// of the Store, and the skeleton of a level-based reconcile of one
// Service.

// serviceState is what reconcileService reads for one Service key, C
// being what the controller keeps for the Service.
type serviceState[C any] struct {
	key, ns, name string
	cur           C               // the controller's objects, as stored
	svc           *corev1.Service // nil: the Service is gone
	pods          []*corev1.Pod   // the pods svc selects; nil unless selectsPods(svc)
}

// reconcileService reads the Service of key, what the controller keeps
// for it (current, read first) and the pods it selects, and hands them to
// apply, which writes what differs and returns the last sequence written
// (0 for none). It then waits for the view to apply that sequence, so
// that the next reconcile of key compares against these writes. A stored
// object that does not decode is a terminal error.
func reconcileService[C any](ctx context.Context, st *projections.Store, key string,
	current func(ns, name string) (C, error),
	apply func(ctx context.Context, s serviceState[C]) (uint64, error)) (controller.Result, error) {
	s := serviceState[C]{key: key}
	s.ns, s.name, _ = strings.Cut(key, "/")
	var err error
	if s.cur, err = current(s.ns, s.name); err != nil {
		return controller.Result{}, controller.Terminal(err)
	}
	if e, ok := st.Get("services", s.ns, s.name); ok {
		obj, err := e.Object()
		if err != nil {
			return controller.Result{}, controller.Terminal(err)
		}
		s.svc = obj.(*corev1.Service)
		if selectsPods(s.svc) {
			if s.pods, err = selectedPods(st, s.svc); err != nil {
				return controller.Result{}, controller.Terminal(err)
			}
		}
	}
	seq, err := apply(ctx, s)
	if err != nil {
		return controller.Result{}, err
	}
	waitApplied(ctx, st, seq)
	return controller.Result{}, nil
}

// selectsPods reports whether the controllers keep endpoints for svc: it
// has a selector and is not an ExternalName. Those of other Services are
// the user's.
func selectsPods(svc *corev1.Service) bool {
	return len(svc.Spec.Selector) > 0 && svc.Spec.Type != corev1.ServiceTypeExternalName
}

// waitApplied waits, for at most 100 ms, until the view has applied
// seq. It polls instead of using Store.WaitFor, which can miss its
// context's cancellation (the wake-up may come before it waits) and so
// held up shutdown. A view still behind only costs a Conflict and a retry.
func waitApplied(ctx context.Context, st *projections.Store, seq uint64) {
	for i := 0; i < 100 && st.LastSeq() < seq && ctx.Err() == nil; i++ {
		time.Sleep(time.Millisecond)
	}
}

// selectedPods reads the pods svc's selector matches.
func selectedPods(st *projections.Store, svc *corev1.Service) ([]*corev1.Pod, error) {
	return list[*corev1.Pod](st, projections.Query{Resource: "pods", Namespace: svc.Namespace,
		Labels: labels.SelectorFromValidatedSet(svc.Spec.Selector)})
}

// list reads the objects q matches, as T.
func list[T any](st *projections.Store, q projections.Query) ([]T, error) {
	items, _ := st.List(q)
	out := make([]T, 0, len(items))
	for _, e := range items {
		obj, err := e.Object()
		if err != nil {
			return nil, err
		}
		out = append(out, obj.(T))
	}
	return out, nil
}

// serviceKeys lists the keys of every Service, for the resync.
func serviceKeys(st *projections.Store) []string {
	items, _ := st.List(projections.Query{Resource: "services"})
	keys := make([]string, len(items))
	for i, e := range items {
		keys[i] = e.Key()
	}
	return keys
}

// appendServices appends to keys those of the Services in ns whose
// selector matches set, or, failing that, for which also (when not nil)
// returns true.
func appendServices(keys []string, st *projections.Store, ns string, set labels.Set, also func(*projections.Entry) bool) []string {
	svcs, _ := st.List(projections.Query{Resource: "services", Namespace: ns})
	for _, e := range svcs {
		obj, err := e.Object()
		if err != nil {
			continue
		}
		sel := obj.(*corev1.Service).Spec.Selector
		if len(sel) > 0 && labels.SelectorFromValidatedSet(sel).Matches(set) || also != nil && also(e) {
			keys = append(keys, e.Key())
		}
	}
	return keys
}
