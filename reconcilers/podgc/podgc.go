// Package podgc is Strom's pod garbage collector, after Kubernetes'
// PodGC controller: a pod bound to a node that does not exist (a typo'd
// spec.nodeName, a node removed for good) is never finished by any node,
// so once the node has been missing for a quarantine period the pod is
// marked Failed with a DisruptionTarget condition (reason
// DeletionByPodGC) and removed at once.
package podgc

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/objects"
	"github.com/strom-project/strom/projections"
	"github.com/strom-project/strom/reconcilers/controller"
	"github.com/strom-project/strom/reconcilers/ctlutil"
	"github.com/strom-project/strom/reconcilers/manager"
)

// Actor is who the pod garbage collector writes as.
const Actor = "system:pod-garbage-collector"

// Quarantine is how long a node must be missing before its pods go
// (Kubernetes' PodGC waits 40 s, in case the node is being recreated).
const Quarantine = 40 * time.Second

var podKind = objects.ByKind("Pod")

// Action is what Decide asks for.
type Action int

const (
	Keep   Action = iota // nothing to do
	Wait                 // the node is missing, the quarantine not over: look again later
	Delete               // mark Failed and remove at once
)

// Decide is the pure core: for a pod bound to node (nodeExists tells
// whether it exists), missingSince is when the controller first saw the
// node missing (zero: not before), it returns the action and, for Wait,
// how long until the quarantine ends.
func Decide(pod *corev1.Pod, nodeExists bool, missingSince, now time.Time) (Action, time.Duration) {
	if pod.Spec.NodeName == "" || nodeExists {
		return Keep, 0
	}
	if missingSince.IsZero() {
		return Wait, Quarantine
	}
	if left := missingSince.Add(Quarantine).Sub(now); left > 0 {
		return Wait, left
	}
	return Delete, 0
}

// Reconciler collects pods of nodes that do not exist.
type Reconciler struct {
	env manager.Env
	rec *ctlutil.Recorder
	mu  sync.Mutex
	// missing: pod key → when its node was first seen missing.
	missing map[string]time.Time
}

// New returns the pod garbage collector.
func New(env manager.Env) *Reconciler {
	return &Reconciler{env: env, rec: ctlutil.NewRecorder(env, Actor, "pod-garbage-collector"), missing: map[string]time.Time{}}
}

// Name implements manager.Reconciler.
func (r *Reconciler) Name() string { return "podgc" }

// Keys implements manager.Reconciler: every bound pod.
func (r *Reconciler) Keys() []string {
	items, _ := r.env.Store.List(projections.Query{Resource: "pods"})
	var keys []string
	for _, e := range items {
		if e.NodeName != "" {
			keys = append(keys, e.Key())
		}
	}
	return keys
}

// Watches bound pods and node deletions (each re-queues the node's pods).
func (r *Reconciler) Watches() []manager.Watch {
	return []manager.Watch{
		{Resource: "pods", Keys: func(ev *events.Event) []string {
			if ev.NodeName == "" || ev.Type == events.TypeDeleted {
				return nil
			}
			return []string{events.ObjectKey(ev.Namespace, ev.Name)}
		}},
		{Resource: "nodes", Keys: func(ev *events.Event) []string {
			if ev.Type != events.TypeDeleted {
				return nil
			}
			return r.podsOn(ev.Name)
		}},
	}
}

// podsOn lists the pods bound to node through the view's spec.nodeName
// index, so a node deletion costs its own pods, not every pod.
func (r *Reconciler) podsOn(node string) []string {
	items, _ := r.env.Store.List(projections.Query{Resource: "pods", Fields: fields.OneTermEqualSelector("spec.nodeName", node)})
	keys := make([]string, 0, len(items))
	for _, e := range items {
		keys = append(keys, e.Key())
	}
	return keys
}

// Reconcile looks at one pod.
func (r *Reconciler) Reconcile(ctx context.Context, key string) (controller.Result, error) {
	ns, name := events.SplitObjectKey(key)
	// Every bound pod's every event comes here: the entry's index fields
	// answer the common case (its node exists) without decoding it.
	e, ok := r.env.Store.Get("pods", ns, name)
	if ok && e.NodeName != "" {
		if _, exists := r.env.Store.Get("nodes", "", e.NodeName); exists {
			ok = false
		}
	}
	if !ok || e.NodeName == "" {
		r.forget(key)
		return controller.Result{}, nil
	}
	pod, ok, err := ctlutil.Get[corev1.Pod](r.env.Store, "pods", ns, name)
	if err != nil {
		return controller.Result{}, controller.Terminal(err)
	}
	if !ok {
		r.forget(key)
		return controller.Result{}, nil
	}
	_, nodeExists := r.env.Store.Get("nodes", "", pod.Spec.NodeName)
	now := r.env.Clock.Now()
	r.mu.Lock()
	since := r.missing[key]
	r.mu.Unlock()
	act, after := Decide(pod, nodeExists, since, now)
	switch act {
	case Keep:
		r.forget(key)
		return controller.Result{}, nil
	case Wait:
		if since.IsZero() {
			r.mu.Lock()
			r.missing[key] = now
			r.mu.Unlock()
		}
		return controller.Result{RequeueAfter: after}, nil
	}
	if err := r.collect(ctx, pod); err != nil {
		return controller.Result{}, err
	}
	r.forget(key)
	return controller.Result{}, nil
}

func (r *Reconciler) forget(key string) {
	r.mu.Lock()
	delete(r.missing, key)
	r.mu.Unlock()
}

// collect marks the pod Failed with a DisruptionTarget condition (unless
// it has finished) and removes it at once, as PodGC does.
func (r *Reconciler) collect(ctx context.Context, pod *corev1.Pod) error {
	o := ctlutil.Opts(ctx, Actor)
	msg := fmt.Sprintf("PodGC: node %s no longer exists", pod.Spec.NodeName)
	if pod.Status.Phase != corev1.PodSucceeded && pod.Status.Phase != corev1.PodFailed {
		next := pod.DeepCopy()
		next.Status.Phase = corev1.PodFailed
		setCondition(&next.Status, corev1.PodCondition{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue,
			Reason: "DeletionByPodGC", Message: msg, LastTransitionTime: metav1.NewTime(r.env.Clock.Now())})
		if _, err := r.env.Writer.UpdateStatus(ctx, next, o); err != nil {
			if events.IsNotFound(err) || events.IsConflict(err) {
				return nil // changed meanwhile: its own event re-queues it
			}
			return fmt.Errorf("marking pod %s/%s Failed: %w", pod.Namespace, pod.Name, err)
		}
	}
	_, err := r.env.Writer.Delete(ctx, podKind, pod.Namespace, pod.Name, events.DeleteOptions{Now: true}, o)
	if err != nil && !events.IsNotFound(err) {
		return fmt.Errorf("removing pod %s/%s of missing node %s: %w", pod.Namespace, pod.Name, pod.Spec.NodeName, err)
	}
	r.rec.Record(ctx, pod, corev1.EventTypeNormal, "PodGCDeleted", msg)
	return nil
}

func setCondition(st *corev1.PodStatus, c corev1.PodCondition) {
	for i := range st.Conditions {
		if st.Conditions[i].Type == c.Type {
			st.Conditions[i] = c
			return
		}
	}
	st.Conditions = append(st.Conditions, c)
}
