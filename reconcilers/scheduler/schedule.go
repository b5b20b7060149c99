package scheduler

import (
	corev1 "k8s.io/api/core/v1"
)

// Adaptive search limits, as kube-scheduler's percentageOfNodesToScore.
const (
	minFeasibleNodesToFind           = 100
	minFeasibleNodesPercentageToFind = 5
)

// NumFeasibleNodesToFind returns how many feasible nodes the search looks
// for before it stops and scores, in a cluster of n nodes, given a
// percentage (0 = adaptive: 50% minus 1% per 125 nodes, at least 5%).
func NumFeasibleNodesToFind(n int, percentage int) int {
	if n < minFeasibleNodesToFind || percentage >= 100 {
		return n
	}
	adaptive := percentage
	if adaptive <= 0 {
		adaptive = 50 - n/125
		if adaptive < minFeasibleNodesPercentageToFind {
			adaptive = minFeasibleNodesPercentageToFind
		}
	}
	k := n * adaptive / 100
	if k < minFeasibleNodesToFind {
		return minFeasibleNodesToFind
	}
	return k
}

// Schedule picks a node for pod among the cached nodes, or returns a
// FitError saying why none fits. It does not add the pod to the cache:
// call AddPod with spec.nodeName set once the choice is taken. The
// *FitError is nil on success; test it before storing it in an error
// variable (a nil *FitError in an error interface is not nil).
func (c *Cache) Schedule(pod *corev1.Pod) (string, *FitError) {
	return c.schedule(pod, c.PercentageOfNodesToScore)
}

func (c *Cache) schedule(pod *corev1.Pod, percentage int) (string, *FitError) {
	all := len(c.list)
	fe := &FitError{Pod: podKey(pod), NumAllNodes: all, Reasons: map[string]int{}}
	cand, err := newCandidate(pod)
	if err != nil {
		fe.PreFilterMsg = err.Error()
		return "", fe
	}
	if all == 0 {
		return "", fe
	}
	cy := c.newCycle(cand)
	want := NumFeasibleNodesToFind(all, percentage)
	feasible := c.feasibleBuf[:0]
	processed := 0
	start := c.next % all
	for i := 0; i < all && len(feasible) < want; i++ {
		n := c.list[(start+i)%all]
		processed++
		if cy.filter(n, nil) {
			feasible = append(feasible, n)
		}
	}
	c.next = (start + processed) % all
	if len(feasible) == 0 {
		// Every node was examined; go again, counting reasons this time
		// (reasons are only needed when nothing fits).
		for _, n := range c.list {
			cy.filter(n, fe.Reasons)
		}
		return "", fe
	}
	w := c.Weights
	if w == (Weights{}) {
		w = DefaultWeights
	}
	if m := c.owners[cand.owner]; cand.owner != "" && len(m) > 0 {
		if cap(c.ownerScratch) < all {
			c.ownerScratch = make([]int32, all)
		}
		cy.owners = c.ownerScratch[:all]
		for n, count := range m {
			if n.index >= 0 {
				cy.owners[n.index] = count
			}
		}
		defer func() {
			for n := range m {
				if n.index >= 0 {
					cy.owners[n.index] = 0
				}
			}
		}()
	}
	best := cy.score(feasible, w, &c.scores)
	name := feasible[best].name
	clear(feasible)
	c.feasibleBuf = feasible[:0]
	return name, nil
}

// Schedule picks a node for pod among nodes, given the pods already bound
// to each node (keyed by node name), or returns a FitError. It builds a
// throwaway Cache and examines every node; a long-lived scheduler should
// keep a Cache instead.
func Schedule(pod *corev1.Pod, nodes []*corev1.Node, podsByNode map[string][]*corev1.Pod) (string, *FitError) {
	c := NewCache()
	for _, n := range nodes {
		c.UpdateNode(n)
	}
	for name, pods := range podsByNode {
		for _, p := range pods {
			if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
				continue
			}
			c.addPodTo(p, name)
		}
	}
	return c.schedule(pod, 100)
}
