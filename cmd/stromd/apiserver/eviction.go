package apiserver

import (
	"context"
	"encoding/json"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/api"
	"github.com/strom-project/strom/events/objects"
	"github.com/strom-project/strom/projections"
)

// evict evicts a pod the way `kubectl drain` does (api.VerbEvict).
func (c *Core) evict(ctx context.Context, who Caller, req *api.Request) (*api.Response, error) {
	if req.Name == "" {
		return nil, events.Errorf(events.ReasonBadRequest, "evict: no pod name given")
	}
	ns := req.Namespace
	if ns == "" {
		ns = metav1.NamespaceDefault
	}
	k := objects.ByKind("Pod")
	c.evictions.Lock()
	defer c.evictions.Unlock()
	// Decide on a view that includes every write so far, our own
	// previous evictions included.
	last, err := events.LastSeq(ctx, c.cfg.Writer.JetStream())
	if err != nil {
		return nil, err
	}
	st := c.cfg.Projection.Store()
	if err := st.WaitFor(ctx, last); err != nil {
		return nil, err
	}
	cur, err := c.cfg.Writer.Get(ctx, k, ns, req.Name)
	if err != nil {
		return nil, err
	}
	pod := cur.(*corev1.Pod)
	if pod.DeletionTimestamp == nil {
		if err := checkBudgets(st, pod); err != nil {
			return nil, err
		}
	}
	opts := events.WriteOptions{Actor: who.User, Cause: req.Cause, DryRun: req.DryRun}
	res, err := c.cfg.Writer.Delete(ctx, k, ns, req.Name, events.DeleteOptions{}, opts) // graceful, as any pod delete
	if err != nil {
		return nil, err
	}
	if err := st.WaitFor(ctx, res.Seq); err != nil {
		return nil, err
	}
	data, _ := json.Marshal(res.Object)
	return &api.Response{Outcome: "evicted", Kind: k.Kind, Object: data, Seq: res.Seq}, nil
}

// checkBudgets refuses the eviction of pod if a PodDisruptionBudget that
// selects it has no disruption left.
func checkBudgets(st *projections.Store, pod *corev1.Pod) error {
	items, _ := st.List(projections.Query{Resource: "poddisruptionbudgets", Namespace: pod.Namespace})
	for _, e := range items {
		obj, err := e.Object()
		if err != nil {
			continue
		}
		pdb := obj.(*policyv1.PodDisruptionBudget)
		sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
		if err != nil || sel.Empty() || !sel.Matches(labels.Set(pod.Labels)) {
			continue
		}
		allowed, err := disruptionsAllowed(st, pdb, sel)
		if err != nil {
			return err
		}
		if !podReady(pod) {
			continue // evicting an unhealthy pod costs no availability
		}
		if allowed < 1 {
			return events.Errorf(api.ReasonTooManyRequests, "Cannot evict pod as it would violate the pod's disruption budget %q (%d disruptions allowed)", pdb.Name, max(allowed, 0))
		}
	}
	return nil
}

// disruptionsAllowed is healthy pods minus the budget's desired healthy.
func disruptionsAllowed(st *projections.Store, pdb *policyv1.PodDisruptionBudget, sel labels.Selector) (int32, error) {
	items, _ := st.List(projections.Query{Resource: "pods", Namespace: pdb.Namespace, Labels: sel})
	var count, healthy int32
	controllers := map[types.UID]metav1.OwnerReference{}
	for _, e := range items {
		obj, err := e.Object()
		if err != nil {
			continue
		}
		p := obj.(*corev1.Pod)
		if ref := metav1.GetControllerOfNoCopy(p); ref != nil {
			controllers[ref.UID] = *ref
		}
		if p.DeletionTimestamp != nil || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		count++
		if podReady(p) {
			healthy++
		}
	}
	// As Kubernetes does, the expected number of pods is what their
	// controllers want, not what exists right now: a replacement not yet
	// created must not make room for another disruption.
	expected := max(count, controllerScale(st, pdb.Namespace, controllers))
	var desired int32
	switch {
	case pdb.Spec.MinAvailable != nil:
		v, err := intstr.GetScaledValueFromIntOrPercent(pdb.Spec.MinAvailable, int(expected), true)
		if err != nil {
			return 0, events.Errorf(events.ReasonInvalid, "poddisruptionbudget %s: minAvailable: %v", pdb.Name, err)
		}
		desired = int32(v)
	case pdb.Spec.MaxUnavailable != nil:
		v, err := intstr.GetScaledValueFromIntOrPercent(pdb.Spec.MaxUnavailable, int(expected), true)
		if err != nil {
			return 0, events.Errorf(events.ReasonInvalid, "poddisruptionbudget %s: maxUnavailable: %v", pdb.Name, err)
		}
		desired = max(expected-int32(v), 0)
	default:
		return 0, fmt.Errorf("poddisruptionbudget %s: neither minAvailable nor maxUnavailable", pdb.Name)
	}
	return healthy - desired, nil
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// controllerScale sums spec.replicas of the ReplicaSets and StatefulSets
// among refs (other controllers count as zero).
func controllerScale(st *projections.Store, ns string, refs map[types.UID]metav1.OwnerReference) int32 {
	var total int32
	for _, ref := range refs {
		var resource string
		switch ref.Kind {
		case "ReplicaSet":
			resource = "replicasets"
		case "StatefulSet":
			resource = "statefulsets"
		default:
			continue
		}
		e, ok := st.Get(resource, ns, ref.Name)
		if !ok || e.UID != string(ref.UID) {
			continue
		}
		obj, err := e.Object()
		if err != nil {
			continue
		}
		switch o := obj.(type) {
		case *appsv1.ReplicaSet:
			total += replicasOr1(o.Spec.Replicas)
		case *appsv1.StatefulSet:
			total += replicasOr1(o.Spec.Replicas)
		}
	}
	return total
}

func replicasOr1(r *int32) int32 {
	if r == nil {
		return 1
	}
	return *r
}
