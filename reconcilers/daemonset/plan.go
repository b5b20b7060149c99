package daemonset

import (
	"fmt"
	"sort"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// Rand is the planner's source of pod name suffixes.
type Rand interface{ IntN(n int) int }

// Planner plans DaemonSets.
type Planner struct {
	Rand Rand
}

// Input is the state one plan reads.
type Input struct {
	DaemonSet *appsv1.DaemonSet
	Nodes     []*corev1.Node
	// Pods are the pods the set controls (controller owner reference).
	Pods []*corev1.Pod
	// Hash is the controller-revision-hash of the revision holding the
	// set's current template.
	Hash string
	// CollisionCount is the set's collision count after this reconcile's
	// revision write.
	CollisionCount *int32
	// FailedBackoff holds, per node, the time before which a failed pod
	// there is left in place (the shell's back-off after it last deleted
	// one), so that a pod the node keeps rejecting is not replaced in a
	// hot loop.
	FailedBackoff map[string]time.Time
	Now           time.Time
}

// Event is a Kubernetes Event the plan asks for, about the set.
type Event struct {
	Type, Reason, Message string
}

// Plan is what a DaemonSet needs done.
type Plan struct {
	Create []*corev1.Pod
	Delete []*corev1.Pod
	Status appsv1.DaemonSetStatus
	Events []Event
	// FailedDeleted are the nodes whose failed pods the plan deletes,
	// for the shell's back-off.
	FailedDeleted []string
	// RequeueAfter asks for another plan then (a pod becomes available
	// after minReadySeconds).
	RequeueAfter time.Duration
}

// Plan plans in. As in Kubernetes, the rolling update is planned only
// when the per-node step has nothing to do, so it always sees the pods
// that step left.
func (p Planner) Plan(in Input) (Plan, error) {
	ds := in.DaemonSet
	byNode, orphans := podsByNode(in.Pods)
	var plan Plan
	used := make(map[string]bool, len(in.Pods))
	for _, pod := range in.Pods {
		used[pod.Name] = true
	}
	var need []string
	var wait time.Duration // the shortest failed-pod back-off
	nodes := make(map[string]*corev1.Node, len(in.Nodes))
	for _, node := range in.Nodes {
		nodes[node.Name] = node
		m := manageNode(ds, node, byNode[node.Name], in.Hash, in.FailedBackoff[node.Name], in.Now)
		create, del, evs := m.create, m.del, m.evs
		if m.failed {
			plan.FailedDeleted = append(plan.FailedDeleted, node.Name)
		}
		if m.wait > 0 && (wait == 0 || m.wait < wait) {
			wait = m.wait
		}
		if create {
			need = append(need, node.Name)
		}
		plan.Delete = append(plan.Delete, del...)
		plan.Events = append(plan.Events, evs...)
	}
	// Pods for nodes that are gone, and pods naming no node, go.
	for name, pods := range byNode {
		if nodes[name] == nil {
			plan.Delete = append(plan.Delete, live(pods)...)
		}
	}
	plan.Delete = append(plan.Delete, live(orphans)...)
	if len(need) == 0 && len(plan.Delete) == 0 && ds.Spec.UpdateStrategy.Type == appsv1.RollingUpdateDaemonSetStrategyType {
		var del []*corev1.Pod
		need, del = rollingUpdate(ds, in.Nodes, byNode, in.Hash, in.Now)
		plan.Delete = append(plan.Delete, del...)
	}
	sort.Strings(need)
	for _, node := range need {
		name, err := p.freshName(ds.Name, used)
		if err != nil {
			return Plan{}, fmt.Errorf("daemonset %s/%s: %w", ds.Namespace, ds.Name, err)
		}
		plan.Create = append(plan.Create, newPod(ds, name, node, in.Hash))
	}
	sort.Slice(plan.Delete, func(i, j int) bool { return plan.Delete[i].Name < plan.Delete[j].Name })
	plan.Status, plan.RequeueAfter = status(ds, in.Nodes, byNode, in.Hash, in.CollisionCount, in.Now)
	if wait > 0 && (plan.RequeueAfter == 0 || wait < plan.RequeueAfter) {
		plan.RequeueAfter = wait
	}
	return plan, nil
}

// podsByNode groups pods by their target node, leaving out terminal pods
// already being deleted; orphans name no node.
func podsByNode(pods []*corev1.Pod) (map[string][]*corev1.Pod, []*corev1.Pod) {
	out := map[string][]*corev1.Pod{}
	var orphans []*corev1.Pod
	for _, pod := range pods {
		if pod.DeletionTimestamp != nil && terminal(pod) {
			continue
		}
		n := TargetNode(pod)
		if n == "" {
			orphans = append(orphans, pod)
			continue
		}
		out[n] = append(out[n], pod)
	}
	return out, orphans
}

// live are the pods not already being deleted.
func live(pods []*corev1.Pod) []*corev1.Pod {
	var out []*corev1.Pod
	for _, p := range pods {
		if p.DeletionTimestamp == nil {
			out = append(out, p)
		}
	}
	return out
}

// nodeStep is what the per-node step decides.
type nodeStep struct {
	create bool
	del    []*corev1.Pod
	evs    []Event
	failed bool          // a failed pod is deleted
	wait   time.Duration // a failed pod waits out its back-off
}

// manageNode is Kubernetes' per-node step: a node that should run the
// daemon and has no pod needs one; on a node where the pod may continue,
// failed pods go (unless the node's back-off, until, is not over) and
// succeeded pods go, and of several running pods the oldest stays (with
// surge, the oldest of the old and of the new template); a node that may
// not keep its pods loses them all. A pod being deleted still occupies
// its node, so its replacement waits until it is gone.
func manageNode(ds *appsv1.DaemonSet, node *corev1.Node, pods []*corev1.Pod, hash string, until, now time.Time) nodeStep {
	var st nodeStep
	shouldRun, shouldContinue := ShouldRun(ds, node)
	switch {
	case shouldRun && len(pods) == 0:
		st.create = true
	case shouldContinue:
		var running []*corev1.Pod
		for _, pod := range pods {
			switch {
			case pod.DeletionTimestamp != nil:
			case pod.Status.Phase == corev1.PodFailed:
				if now.Before(until) {
					st.wait = until.Sub(now)
					continue
				}
				st.evs = append(st.evs, Event{Type: corev1.EventTypeWarning, Reason: "FailedDaemonPod",
					Message: fmt.Sprintf("Found failed daemon pod %s/%s on node %s, will try to kill it", pod.Namespace, pod.Name, node.Name)})
				st.del = append(st.del, pod)
				st.failed = true
			case pod.Status.Phase == corev1.PodSucceeded:
				st.del = append(st.del, pod)
			default:
				running = append(running, pod)
			}
		}
		if len(running) <= 1 {
			return st
		}
		byAge(running)
		if !allowsSurge(ds) {
			st.del = append(st.del, running[1:]...)
			return st
		}
		gen := TemplateGeneration(ds)
		var keptNew, keptOld bool
		for _, pod := range running {
			if IsUpdated(pod, hash, gen) {
				if !keptNew {
					keptNew = true
					continue
				}
			} else if !keptOld {
				keptOld = true
				continue
			}
			st.del = append(st.del, pod)
		}
	default:
		st.del = live(pods)
	}
	return st
}
