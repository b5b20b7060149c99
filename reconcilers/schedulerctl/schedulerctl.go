package schedulerctl

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/projections"
	"github.com/strom-project/strom/reconcilers/controller"
	"github.com/strom-project/strom/reconcilers/ctlutil"
	"github.com/strom-project/strom/reconcilers/manager"
	"github.com/strom-project/strom/reconcilers/scheduler"
)

// Actor is who the scheduler writes as.
const Actor = "system:scheduler"

// Options tune the scheduler controller.
type Options struct {
	// Workers bind in parallel; default 64 (decisions stay serial).
	Workers int
	// RetryUnschedulable re-tries a pod that fits nowhere after this
	// long even if nothing changed; default 1 minute.
	RetryUnschedulable time.Duration
}

// Reconciler schedules pods.
type Reconciler struct {
	env  manager.Env
	opts Options
	rec  *ctlutil.Recorder
	log  *zap.Logger

	mu            sync.Mutex
	cache         *scheduler.Cache
	podSeq        map[string]uint64      // pod key → last version applied to the cache
	nodeSeq       map[string]uint64      // node name → last version applied
	assumed       map[string]*corev1.Pod // bound in the cache, binding not yet seen
	unschedulable map[string]struct{}    // pods that fit nowhere at their last try
}

// New returns a scheduler controller.
func New(env manager.Env, opts Options) *Reconciler {
	if opts.Workers <= 0 {
		opts.Workers = 64
	}
	if opts.RetryUnschedulable <= 0 {
		opts.RetryUnschedulable = time.Minute
	}
	r := &Reconciler{env: env, opts: opts, log: ctlutil.Log(env, "scheduler"),
		rec: ctlutil.NewRecorder(env, Actor, corev1.DefaultSchedulerName)}
	r.reset()
	return r
}

func (r *Reconciler) reset() {
	r.cache = scheduler.NewCache()
	r.podSeq = map[string]uint64{}
	r.nodeSeq = map[string]uint64{}
	r.assumed = map[string]*corev1.Pod{}
	r.unschedulable = map[string]struct{}{}
}

// Name implements manager.Reconciler.
func (r *Reconciler) Name() string { return "scheduler" }

// EventsDropped counts Events not recorded because the recorder's queue
// was full (bursts of thousands of bindings).
func (r *Reconciler) EventsDropped() int64 { return r.rec.Dropped() }

// Workers implements manager's optional worker count.
func (r *Reconciler) Workers() int { return r.opts.Workers }

// Watches feed the cache: every node and pod change goes through
// onNode/onPod, which return the pods worth (re)trying.
func (r *Reconciler) Watches() []manager.Watch {
	return []manager.Watch{
		{Resource: "nodes", Keys: r.onNode},
		{Resource: "pods", Keys: r.onPod},
	}
}

// Keys rebuilds the cache from the Store (start, resync, watch recovery)
// and returns every pod waiting for a node.
func (r *Reconciler) Keys() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	assumed := r.assumed
	r.reset()
	st := r.env.Store
	nodes, _ := st.List(projections.Query{Resource: "nodes"})
	for _, e := range nodes {
		obj, err := e.Object()
		if err != nil {
			continue
		}
		r.cache.UpdateNode(obj.(*corev1.Node))
		r.nodeSeq[e.Name] = e.Seq
	}
	pods, _ := st.List(projections.Query{Resource: "pods"})
	var pending []string
	for _, e := range pods {
		key := e.Key()
		r.podSeq[key] = e.Seq
		if e.NodeName != "" {
			obj, err := e.Object()
			if err != nil {
				continue
			}
			r.cache.AddPod(obj.(*corev1.Pod))
			continue
		}
		if a := assumed[key]; a != nil {
			r.cache.AddPod(a)
			r.assumed[key] = a
			continue
		}
		pending = append(pending, key)
	}
	return pending
}

// onNode applies a node change and re-queues unschedulable pods.
func (r *Reconciler) onNode(ev *events.Event) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if ev.Seq <= r.nodeSeq[ev.Name] {
		return nil
	}
	r.nodeSeq[ev.Name] = ev.Seq
	if ev.Type == events.TypeDeleted {
		r.cache.RemoveNode(ev.Name)
	} else {
		var n corev1.Node
		if err := json.Unmarshal(ev.Object, &n); err != nil {
			r.log.Warn("decoding node", zap.String("node", ev.Name), zap.Error(err))
			return nil
		}
		r.cache.UpdateNode(&n)
	}
	return r.unschedulableLocked()
}

func (r *Reconciler) unschedulableLocked() []string {
	keys := make([]string, 0, len(r.unschedulable))
	for k := range r.unschedulable {
		keys = append(keys, k)
	}
	return keys
}

// onPod applies a pod change and returns the pods to try.
func (r *Reconciler) onPod(ev *events.Event) []string {
	key := ev.Key()
	r.mu.Lock()
	defer r.mu.Unlock()
	if ev.Seq <= r.podSeq[key] {
		return nil
	}
	r.podSeq[key] = ev.Seq
	if ev.Type == events.TypeDeleted {
		ref := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ev.Namespace, Name: ev.Name}}
		r.cache.RemovePod(ref)
		delete(r.assumed, key)
		delete(r.unschedulable, key)
		if ev.NodeName != "" {
			return r.unschedulableLocked() // resources were freed
		}
		return nil
	}
	pod, err := ctlutil.DecodePod(ev)
	if err != nil {
		r.log.Warn("decoding pod", zap.Error(err))
		return nil
	}
	if pod.Spec.NodeName != "" {
		r.cache.AddPod(pod)
		delete(r.assumed, key)
		delete(r.unschedulable, key)
		return nil
	}
	if r.assumed[key] != nil {
		return nil // our binding is in flight
	}
	if wantsScheduling(pod) {
		return []string{key}
	}
	delete(r.unschedulable, key)
	return nil
}

// wantsScheduling: unbound, not terminating, ours.
func wantsScheduling(pod *corev1.Pod) bool {
	return pod.Spec.NodeName == "" && pod.DeletionTimestamp == nil &&
		(pod.Spec.SchedulerName == "" || pod.Spec.SchedulerName == corev1.DefaultSchedulerName) &&
		pod.Status.Phase != corev1.PodSucceeded && pod.Status.Phase != corev1.PodFailed
}

// Reconcile schedules one pod.
func (r *Reconciler) Reconcile(ctx context.Context, key string) (controller.Result, error) {
	ns, name := events.SplitObjectKey(key)
	pod, ok, err := ctlutil.Get[corev1.Pod](r.env.Store, "pods", ns, name)
	if err != nil {
		return controller.Result{}, controller.Terminal(err)
	}
	if !ok || !wantsScheduling(pod) {
		return controller.Result{}, nil
	}
	node, fitErr := r.decide(key, pod)
	if fitErr != nil {
		r.unschedulablePod(ctx, pod, fitErr)
		return controller.Result{RequeueAfter: r.opts.RetryUnschedulable}, nil
	}
	if node == "" {
		return controller.Result{}, nil // already in flight
	}
	bound := pod.DeepCopy()
	bound.Spec.NodeName = node
	_, err = r.env.Writer.Update(ctx, bound, ctlutil.Opts(ctx, Actor))
	if err != nil {
		r.forget(key, bound)
		if events.IsConflict(err) || events.IsNotFound(err) {
			// Someone changed or deleted the pod: its new version is
			// on its way through the watch, which re-queues it if it
			// still needs a node.
			return controller.Result{}, nil
		}
		return controller.Result{}, fmt.Errorf("binding pod %s to %s: %w", key, node, err)
	}
	r.rec.Eventf(ctx, pod, corev1.EventTypeNormal, "Scheduled", "Successfully assigned %s to %s", key, node)
	return controller.Result{}, nil
}

// decide picks a node and assumes the pod there; "" with a nil FitError
// means a binding is already in flight.
func (r *Reconciler) decide(key string, pod *corev1.Pod) (string, *scheduler.FitError) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.assumed[key] != nil {
		return "", nil
	}
	node, fitErr := r.cache.Schedule(pod)
	if fitErr != nil {
		r.unschedulable[key] = struct{}{}
		return "", fitErr
	}
	bound := pod.DeepCopy()
	bound.Spec.NodeName = node
	r.cache.AddPod(bound)
	r.assumed[key] = bound
	delete(r.unschedulable, key)
	return node, nil
}

// forget undoes an assumption whose binding failed.
func (r *Reconciler) forget(key string, bound *corev1.Pod) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.assumed[key] == nil {
		return // the watch already replaced it with what the log says
	}
	delete(r.assumed, key)
	r.cache.RemovePod(bound)
}

// unschedulablePod records why the pod fits nowhere: a FailedScheduling
// Event and the PodScheduled=False condition.
func (r *Reconciler) unschedulablePod(ctx context.Context, pod *corev1.Pod, fitErr *scheduler.FitError) {
	msg := fitErr.Error()
	r.rec.Record(ctx, pod, corev1.EventTypeWarning, "FailedScheduling", msg)
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Message == msg {
			return
		}
	}
	next := pod.DeepCopy()
	now := metav1.NewTime(r.env.Clock.Now().UTC().Truncate(time.Second))
	cond := corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable, Message: msg, LastTransitionTime: now}
	replaced := false
	for i, c := range next.Status.Conditions {
		if c.Type == corev1.PodScheduled {
			next.Status.Conditions[i] = cond
			replaced = true
		}
	}
	if !replaced {
		next.Status.Conditions = append(next.Status.Conditions, cond)
	}
	if next.Status.Phase == "" {
		next.Status.Phase = corev1.PodPending
	}
	if _, err := r.env.Writer.UpdateStatus(ctx, next, ctlutil.Opts(ctx, Actor)); err != nil && !events.IsConflict(err) && !events.IsNotFound(err) {
		r.log.Warn("writing PodScheduled condition", zap.String("pod", pod.Namespace+"/"+pod.Name), zap.Error(err))
	}
}
