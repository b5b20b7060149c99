package nodelifecycle

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"go.uber.org/zap"
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

// Actor is who the node lifecycle controller writes as.
const Actor = "system:node-lifecycle-controller"

// TaintUnreachable is the taint of a node whose heartbeats stopped.
const TaintUnreachable = corev1.TaintNodeUnreachable // node.kubernetes.io/unreachable

// TaintNotReady is the taint of a node that reports itself not ready
// (Ready=False, e.g. its container runtime is down) while its heartbeats
// go on.
const TaintNotReady = corev1.TaintNodeNotReady // node.kubernetes.io/not-ready

// Options tune the controller.
type Options struct {
	LeaseDuration   time.Duration // silence before Ready=Unknown; default 40 s
	EvictionTimeout time.Duration // Unknown before pods are evicted; default 5 min
}

// Reconciler watches node leases.
type Reconciler struct {
	env  manager.Env
	opts Options
	rec  *ctlutil.Recorder
	log  *zap.Logger

	leases *manager.KV // the lease bucket, watched by the manager

	mu        sync.Mutex
	firstSeen map[string]time.Time // node → when this controller first saw it
}

// New returns a node lifecycle controller.
func New(env manager.Env, opts Options) *Reconciler {
	if opts.LeaseDuration <= 0 {
		opts.LeaseDuration = 40 * time.Second
	}
	if opts.EvictionTimeout <= 0 {
		opts.EvictionTimeout = 5 * time.Minute
	}
	r := &Reconciler{env: env, opts: opts, log: ctlutil.Log(env, "nodelifecycle"),
		rec: ctlutil.NewRecorder(env, Actor, "node-controller"), firstSeen: map[string]time.Time{}}
	r.leases = manager.NewKV(events.LeaseBucket, r.leaseChanged)
	return r
}

// Name implements manager.Reconciler.
func (r *Reconciler) Name() string { return "nodelifecycle" }

// Keys implements manager.Reconciler.
func (r *Reconciler) Keys() []string { return ctlutil.Keys(r.env.Store, "nodes") }

// Watches nodes; leases are not events: they are a KV input (KVInputs).
func (r *Reconciler) Watches() []manager.Watch { return []manager.Watch{{Resource: "nodes"}} }

// KVInputs implements manager.KVInputs: the manager watches the lease
// bucket, Reconcile reads it.
func (r *Reconciler) KVInputs() []*manager.KV { return []*manager.KV{r.leases} }

// leaseChanged maps a lease change to the node to reconcile. A renewal
// matters at once only to a node marked unreachable: a ready node is
// re-checked before its lease runs out anyway, so a heartbeat from every
// node does not cost a reconcile each.
func (r *Reconciler) leaseChanged(e manager.KVEntry, deleted bool) []string {
	node, ok := events.LeaseNode(e.Key)
	if !ok {
		return nil
	}
	if !deleted {
		n, found, err := ctlutil.Get[corev1.Node](r.env.Store, "nodes", "", node)
		if err == nil && (!found || !markedUnreachable(n)) {
			return nil
		}
	}
	return []string{node}
}

// lastRenewal is when node's lease was last renewed, or when this
// controller first saw the node if it has no lease.
func (r *Reconciler) lastRenewal(node string) time.Time {
	if e, ok := r.leases.Get(events.LeaseKey(node)); ok {
		return e.Seen
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	t, ok := r.firstSeen[node]
	if !ok {
		t = r.env.Clock.Now()
		r.firstSeen[node] = t
	}
	return t
}

// Reconcile checks one node's lease.
func (r *Reconciler) Reconcile(ctx context.Context, key string) (controller.Result, error) {
	node, ok, err := ctlutil.Get[corev1.Node](r.env.Store, "nodes", "", key)
	if err != nil {
		return controller.Result{}, controller.Terminal(err)
	}
	if !ok {
		// The node is gone: nothing will confirm its pods' deletion.
		return controller.Result{}, r.evict(ctx, key, nil, "its node was deleted")
	}
	select {
	case <-r.leases.Synced():
	default: // the manager starts the workers only after this
		return controller.Result{}, fmt.Errorf("node %s: the lease input has not delivered bucket %s yet", key, r.leases.Bucket())
	}
	now := r.env.Clock.Now()
	last := r.lastRenewal(key)
	if now.Sub(last) <= r.opts.LeaseDuration {
		if node, err = r.markReady(ctx, node); err != nil {
			return controller.Result{}, err
		}
		wait := last.Add(r.opts.LeaseDuration).Sub(now) + 50*time.Millisecond
		// A reachable node that says it is not ready (Ready=False) is
		// tainted not-ready:NoExecute, and its pods are evicted as an
		// unreachable node's are; the taint goes when it is Ready again.
		if c := readyCondition(node); c != nil && c.Status == corev1.ConditionFalse {
			if node, err = r.addTaint(ctx, node, TaintNotReady, corev1.TaintEffectNoExecute, now); err != nil {
				return controller.Result{}, err
			}
			evictWait, err := r.evictAfterTimeout(ctx, node, TaintNotReady, now, "its node is not ready")
			if err != nil {
				return controller.Result{}, err
			}
			wait = min(wait, evictWait)
		} else if node, err = r.removeTaint(ctx, node, TaintNotReady); err != nil {
			return controller.Result{}, err
		}
		// Pressure conditions become NoSchedule taints (Kubernetes'
		// TaintNodesByCondition).
		for _, pt := range pressureTaints {
			if c := condition(node, pt.cond); c != nil && c.Status == corev1.ConditionTrue {
				node, err = r.addTaint(ctx, node, pt.key, corev1.TaintEffectNoSchedule, now)
			} else {
				node, err = r.removeTaint(ctx, node, pt.key)
			}
			if err != nil {
				return controller.Result{}, err
			}
		}
		return controller.Result{RequeueAfter: wait}, nil
	}
	node, err = r.markUnreachable(ctx, node, now)
	if err != nil {
		return controller.Result{}, err
	}
	wait, err := r.evictAfterTimeout(ctx, node, TaintUnreachable, now, "its node is unreachable")
	if err != nil {
		return controller.Result{}, err
	}
	return controller.Result{RequeueAfter: min(wait, r.opts.LeaseDuration/4)}, nil // notice resumed heartbeats soon
}

// evictAfterTimeout evicts the node's pods that do not tolerate key for
// good once its taint is EvictionTimeout old; it returns when to look
// again.
func (r *Reconciler) evictAfterTimeout(ctx context.Context, node *corev1.Node, key string, now time.Time, why string) (time.Duration, error) {
	taint := findTaint(node, key)
	evictAt := now
	if taint != nil && taint.TimeAdded != nil {
		evictAt = taint.TimeAdded.Add(r.opts.EvictionTimeout)
	}
	if now.Before(evictAt) {
		return evictAt.Sub(now), nil
	}
	if err := r.evict(ctx, node.Name, taint, why); err != nil {
		return 0, err
	}
	return r.opts.LeaseDuration / 4, nil
}

// pressureTaints are the taints of the pressure conditions.
var pressureTaints = []struct {
	cond corev1.NodeConditionType
	key  string
}{
	{corev1.NodeMemoryPressure, corev1.TaintNodeMemoryPressure},
	{corev1.NodeDiskPressure, corev1.TaintNodeDiskPressure},
	{corev1.NodePIDPressure, corev1.TaintNodePIDPressure},
}

// addTaint adds taint key with effect to node unless it has it.
func (r *Reconciler) addTaint(ctx context.Context, node *corev1.Node, key string, effect corev1.TaintEffect, now time.Time) (*corev1.Node, error) {
	if findTaint(node, key) != nil {
		return node, ctlutil.WaitFor(ctx, r.env.Store, seqOf(node))
	}
	ts := metav1.NewTime(now.UTC().Truncate(time.Second))
	next := node.DeepCopy()
	next.Spec.Taints = append(next.Spec.Taints, corev1.Taint{Key: key, Effect: effect, TimeAdded: &ts})
	res, err := r.env.Writer.Update(ctx, next, ctlutil.Opts(ctx, Actor))
	if err != nil {
		return nil, fmt.Errorf("tainting node %s %s: %w", node.Name, key, err)
	}
	node = res.Object.(*corev1.Node)
	if err := ctlutil.WaitFor(ctx, r.env.Store, seqOf(node)); err != nil {
		return nil, err
	}
	return node, nil
}

// removeTaint removes taint key from node if it has it and returns the
// node as it then is.
func (r *Reconciler) removeTaint(ctx context.Context, node *corev1.Node, key string) (*corev1.Node, error) {
	if findTaint(node, key) == nil {
		return node, nil
	}
	next := node.DeepCopy()
	next.Spec.Taints = next.Spec.Taints[:0]
	for _, t := range node.Spec.Taints {
		if t.Key != key {
			next.Spec.Taints = append(next.Spec.Taints, t)
		}
	}
	res, err := r.env.Writer.Update(ctx, next, ctlutil.Opts(ctx, Actor))
	if err != nil {
		return nil, fmt.Errorf("removing taint %s from node %s: %w", key, node.Name, err)
	}
	return res.Object.(*corev1.Node), nil
}

// markUnreachable sets Ready=Unknown and the unreachable taint.
func (r *Reconciler) markUnreachable(ctx context.Context, node *corev1.Node, now time.Time) (*corev1.Node, error) {
	o := ctlutil.Opts(ctx, Actor)
	ts := metav1.NewTime(now.UTC().Truncate(time.Second))
	if c := readyCondition(node); c == nil || c.Status != corev1.ConditionUnknown {
		next := node.DeepCopy()
		setReady(next, corev1.NodeCondition{Type: corev1.NodeReady, Status: corev1.ConditionUnknown, Reason: "NodeStatusUnknown",
			Message: "Kubelet stopped posting node status.", LastHeartbeatTime: ts, LastTransitionTime: ts})
		res, err := r.env.Writer.UpdateStatus(ctx, next, o)
		if err != nil {
			return nil, fmt.Errorf("marking node %s Ready=Unknown: %w", node.Name, err)
		}
		node = res.Object.(*corev1.Node)
		r.rec.Eventf(ctx, node, corev1.EventTypeNormal, "NodeNotReady", "Node %s status is now: NodeNotReady", node.Name)
		r.log.Info("node unreachable", zap.String("node", node.Name))
	}
	return r.addTaint(ctx, node, TaintUnreachable, corev1.TaintEffectNoExecute, now)
}

// markReady undoes markUnreachable once heartbeats resume and returns the
// node as it then is.
func (r *Reconciler) markReady(ctx context.Context, node *corev1.Node) (*corev1.Node, error) {
	o := ctlutil.Opts(ctx, Actor)
	if c := readyCondition(node); c != nil && c.Status == corev1.ConditionUnknown {
		ts := metav1.NewTime(r.env.Clock.Now().UTC().Truncate(time.Second))
		next := node.DeepCopy()
		setReady(next, corev1.NodeCondition{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady",
			Message: "strom-agent is posting ready status", LastHeartbeatTime: ts, LastTransitionTime: ts})
		res, err := r.env.Writer.UpdateStatus(ctx, next, o)
		if err != nil {
			return nil, fmt.Errorf("marking node %s Ready: %w", node.Name, err)
		}
		node = res.Object.(*corev1.Node)
		r.rec.Eventf(ctx, node, corev1.EventTypeNormal, "NodeReady", "Node %s status is now: NodeReady", node.Name)
	}
	return r.removeTaint(ctx, node, TaintUnreachable)
}

// evict deletes for good the pods bound to node that do not tolerate
// taint (nil: the node is gone, every pod goes).
func (r *Reconciler) evict(ctx context.Context, node string, taint *corev1.Taint, why string) error {
	items, _ := r.env.Store.List(projections.Query{Resource: "pods", Fields: fields.OneTermEqualSelector("spec.nodeName", node)})
	o := ctlutil.Opts(ctx, Actor)
	var errs []error
	for _, e := range items {
		obj, err := e.Object()
		if err != nil {
			continue
		}
		pod := obj.(*corev1.Pod)
		if taint != nil && toleratesForever(pod, taint) {
			continue
		}
		_, err = r.env.Writer.Delete(ctx, podKind, pod.Namespace, pod.Name, events.DeleteOptions{Now: true}, o)
		if err != nil && !events.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("deleting pod %s/%s: %w", pod.Namespace, pod.Name, err))
			continue
		}
		r.rec.Eventf(ctx, pod, corev1.EventTypeNormal, "TaintManagerEviction", "Deleting pod %s/%s: %s", pod.Namespace, pod.Name, why)
	}
	return errors.Join(errs...)
}

// toleratesForever: a toleration of the taint without tolerationSeconds.
func toleratesForever(pod *corev1.Pod, taint *corev1.Taint) bool {
	for i := range pod.Spec.Tolerations {
		t := &pod.Spec.Tolerations[i]
		if t.ToleratesTaint(logr.Discard(), taint, false) && t.TolerationSeconds == nil {
			return true
		}
	}
	return false
}

// markedUnreachable: Ready=Unknown or the unreachable taint.
func markedUnreachable(n *corev1.Node) bool {
	c := readyCondition(n)
	return (c != nil && c.Status == corev1.ConditionUnknown) || findTaint(n, TaintUnreachable) != nil
}

func condition(n *corev1.Node, typ corev1.NodeConditionType) *corev1.NodeCondition {
	for i := range n.Status.Conditions {
		if n.Status.Conditions[i].Type == typ {
			return &n.Status.Conditions[i]
		}
	}
	return nil
}

func readyCondition(n *corev1.Node) *corev1.NodeCondition { return condition(n, corev1.NodeReady) }

func setReady(n *corev1.Node, c corev1.NodeCondition) {
	if cur := readyCondition(n); cur != nil {
		*cur = c
		return
	}
	n.Status.Conditions = append(n.Status.Conditions, c)
}

func findTaint(n *corev1.Node, key string) *corev1.Taint {
	for i := range n.Spec.Taints {
		if n.Spec.Taints[i].Key == key {
			return &n.Spec.Taints[i]
		}
	}
	return nil
}

func seqOf(n *corev1.Node) uint64 { return events.SeqOf(n.ResourceVersion) }

// podKind is the Pod kind.
var podKind = objects.ByKind("Pod")
