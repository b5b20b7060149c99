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
func (r *Reconciler) Keys() []string {
	items, _ := r.env.Store.List(projections.Query{Resource: "services"})
	keys := make([]string, len(items))
	for i, e := range items {
		keys[i] = e.Key()
	}
	return keys
}

// podKeys maps a pod event to the Services that select the pod or whose
// Endpoints list it.
func (r *Reconciler) podKeys(ev *events.Event) []string {
	var keys []string
	svcs, _ := r.env.Store.List(projections.Query{Resource: "services", Namespace: ev.Namespace})
	set := labels.Set(ev.Labels)
	for _, e := range svcs {
		obj, err := e.Object()
		if err != nil {
			continue
		}
		sel := obj.(*corev1.Service).Spec.Selector
		if len(sel) > 0 && labels.SelectorFromValidatedSet(sel).Matches(set) {
			keys = append(keys, e.Key())
			continue
		}
		if ep, ok := r.env.Store.Get("endpoints", e.Namespace, e.Name); ok && strings.Contains(string(ep.Data), `"uid":"`+ev.UID+`"`) {
			keys = append(keys, e.Key())
		}
	}
	return keys
}

// Reconcile makes one Service's Endpoints what its selector says.
func (r *Reconciler) Reconcile(ctx context.Context, key string) (controller.Result, error) {
	ns, name, _ := strings.Cut(key, "/")
	cur, hasEP, err := r.endpoints(ns, name)
	if err != nil {
		return controller.Result{}, controller.Terminal(err)
	}
	e, ok := r.env.Store.Get("services", ns, name)
	if !ok {
		r.forget(key)
		if hasEP && cur.Annotations[ManagedAnnotation] != "" {
			_, err := r.env.Writer.Delete(ctx, objects.ByKind("Endpoints"), ns, name, events.DeleteOptions{Now: true}, r.opts(ctx))
			if err != nil && !events.IsNotFound(err) {
				return controller.Result{}, fmt.Errorf("deleting endpoints %s: %w", key, err)
			}
		}
		return controller.Result{}, nil
	}
	obj, err := e.Object()
	if err != nil {
		return controller.Result{}, controller.Terminal(err)
	}
	svc := obj.(*corev1.Service)
	if len(svc.Spec.Selector) == 0 || svc.Spec.Type == corev1.ServiceTypeExternalName {
		return controller.Result{}, nil // user-managed Endpoints, or none
	}
	pods, err := r.pods(svc)
	if err != nil {
		return controller.Result{}, controller.Terminal(err)
	}
	want := Desired(svc, pods)
	r.report(ctx, key, svc, want.Unresolved)
	next := &corev1.Endpoints{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: svc.Labels,
			Annotations: map[string]string{ManagedAnnotation: "endpoints-controller"}},
		Subsets: want.Subsets,
	}
	if hasEP && equality.Semantic.DeepEqual(cur.Subsets, next.Subsets) &&
		equality.Semantic.DeepEqual(cur.Labels, next.Labels) && cur.Annotations[ManagedAnnotation] != "" {
		return controller.Result{}, nil
	}
	var res *events.Result
	if hasEP {
		next.ResourceVersion = cur.ResourceVersion
		next.UID = cur.UID
		res, err = r.env.Writer.Update(ctx, next, r.opts(ctx))
	} else {
		res, err = r.env.Writer.Create(ctx, next, r.opts(ctx))
	}
	if err != nil {
		return controller.Result{}, fmt.Errorf("writing endpoints %s: %w", key, err)
	}
	// The next reconcile of this key should compare against this write.
	r.caughtUp(ctx, res.Seq)
	return controller.Result{}, nil
}

// caughtUp waits, for at most 100 ms, until the view has applied
// seq. It polls instead of using Store.WaitFor, which can miss its
// context's cancellation (the wake-up may come before it waits) and so
// held up shutdown. A view still behind only costs a Conflict and a retry.
func (r *Reconciler) caughtUp(ctx context.Context, seq uint64) {
	for i := 0; i < 100 && r.env.Store.LastSeq() < seq && ctx.Err() == nil; i++ {
		time.Sleep(time.Millisecond)
	}
}

func (r *Reconciler) opts(ctx context.Context) events.WriteOptions {
	return events.WriteOptions{Actor: actor, Cause: manager.Cause(ctx)}
}

func (r *Reconciler) endpoints(ns, name string) (*corev1.Endpoints, bool, error) {
	e, ok := r.env.Store.Get("endpoints", ns, name)
	if !ok {
		return nil, false, nil
	}
	obj, err := e.Object()
	if err != nil {
		return nil, false, err
	}
	return obj.(*corev1.Endpoints), true, nil
}

func (r *Reconciler) pods(svc *corev1.Service) ([]*corev1.Pod, error) {
	items, _ := r.env.Store.List(projections.Query{Resource: "pods", Namespace: svc.Namespace,
		Labels: labels.SelectorFromValidatedSet(svc.Spec.Selector)})
	pods := make([]*corev1.Pod, 0, len(items))
	for _, e := range items {
		obj, err := e.Object()
		if err != nil {
			return nil, err
		}
		pods = append(pods, obj.(*corev1.Pod))
	}
	return pods, nil
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
