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
		if err := r.markReady(ctx, node); err != nil {
			return controller.Result{}, err
		}
		return controller.Result{RequeueAfter: last.Add(r.opts.LeaseDuration).Sub(now) + 50*time.Millisecond}, nil
	}
	node, err = r.markUnreachable(ctx, node, now)
	if err != nil {
		return controller.Result{}, err
	}
	taint := findTaint(node, TaintUnreachable)
	evictAt := now
	if taint != nil && taint.TimeAdded != nil {
		evictAt = taint.TimeAdded.Add(r.opts.EvictionTimeout)
	}
	if now.Before(evictAt) {
		wait := evictAt.Sub(now)
		if renew := r.opts.LeaseDuration / 4; renew < wait {
			wait = renew // notice resumed heartbeats soon
		}
		return controller.Result{RequeueAfter: wait}, nil
	}
	if err := r.evict(ctx, key, taint, "its node is unreachable"); err != nil {
		return controller.Result{}, err
	}
	return controller.Result{RequeueAfter: r.opts.LeaseDuration / 4}, nil
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
	if findTaint(node, TaintUnreachable) == nil {
		next := node.DeepCopy()
		next.Spec.Taints = append(next.Spec.Taints, corev1.Taint{Key: TaintUnreachable, Effect: corev1.TaintEffectNoExecute, TimeAdded: &ts})
		res, err := r.env.Writer.Update(ctx, next, o)
		if err != nil {
			return nil, fmt.Errorf("tainting node %s unreachable: %w", node.Name, err)
		}
		node = res.Object.(*corev1.Node)
	}
	if err := ctlutil.WaitFor(ctx, r.env.Store, seqOf(node)); err != nil {
		return nil, err
	}
	return node, nil
}

// markReady undoes markUnreachable once heartbeats resume.
func (r *Reconciler) markReady(ctx context.Context, node *corev1.Node) error {
	o := ctlutil.Opts(ctx, Actor)
	if c := readyCondition(node); c != nil && c.Status == corev1.ConditionUnknown {
		ts := metav1.NewTime(r.env.Clock.Now().UTC().Truncate(time.Second))
		next := node.DeepCopy()
		setReady(next, corev1.NodeCondition{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady",
			Message: "strom-agent is posting ready status", LastHeartbeatTime: ts, LastTransitionTime: ts})
		res, err := r.env.Writer.UpdateStatus(ctx, next, o)
		if err != nil {
			return fmt.Errorf("marking node %s Ready: %w", node.Name, err)
		}
		node = res.Object.(*corev1.Node)
		r.rec.Eventf(ctx, node, corev1.EventTypeNormal, "NodeReady", "Node %s status is now: NodeReady", node.Name)
	}
	if findTaint(node, TaintUnreachable) != nil {
		next := node.DeepCopy()
		next.Spec.Taints = next.Spec.Taints[:0]
		for _, t := range node.Spec.Taints {
			if t.Key != TaintUnreachable {
				next.Spec.Taints = append(next.Spec.Taints, t)
			}
		}
		if _, err := r.env.Writer.Update(ctx, next, o); err != nil {
			return fmt.Errorf("removing taint %s from node %s: %w", TaintUnreachable, node.Name, err)
		}
	}
	return nil
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

func readyCondition(n *corev1.Node) *corev1.NodeCondition {
	for i := range n.Status.Conditions {
		if n.Status.Conditions[i].Type == corev1.NodeReady {
			return &n.Status.Conditions[i]
		}
	}
	return nil
}

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
