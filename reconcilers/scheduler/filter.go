package scheduler

import (
	"fmt"
)

// cycle is the state of one Schedule call: the compiled pod and what was
// precomputed from the whole cluster.
type cycle struct {
	pod *candidate
	// existingLocal: hostname-keyed anti-affinity groups of existing pods
	// that select this pod; a node holding such a pod is excluded.
	existingLocal []*antiGroup
	// blockedByExisting: other topology domains where an existing pod's
	// required anti-affinity selects this pod.
	blockedByExisting map[string]map[string]bool
	// blockedByPod: domains holding a pod that this pod's (non-hostname)
	// anti-affinity selects.
	blockedByPod map[string]map[string]bool
	// localAnti: this pod's hostname-keyed terms, checked per node.
	localAnti []*affinityTerm
	// owners: pods of the pod's controller per Cache.list index (nil
	// when the pod has no controller).
	owners []int32
}

// newCycle prepares the anti-affinity state for scheduling pod on c. Its
// cost is the number of distinct anti-affinity terms in the cluster, plus
// a scan of all pods for each of the pod's own non-hostname terms.
func (c *Cache) newCycle(pod *candidate) *cycle {
	cy := &cycle{pod: pod}
	for _, g := range c.anti {
		if !g.term.matches(pod.podInfo) {
			continue
		}
		if g.term.topologyKey == HostnameLabel {
			cy.existingLocal = append(cy.existingLocal, g)
			continue
		}
		for n := range g.nodes {
			if v, ok := n.topologyValue(g.term.topologyKey); ok {
				cy.blockedByExisting = block(cy.blockedByExisting, g.term.topologyKey, v)
			}
		}
	}
	for i := range pod.anti {
		t := &pod.anti[i]
		if t.topologyKey == HostnameLabel {
			cy.localAnti = append(cy.localAnti, t)
			continue
		}
		for _, n := range c.nodes {
			v, ok := n.topologyValue(t.topologyKey)
			if !ok || cy.blockedByPod[t.topologyKey][v] {
				continue
			}
			if t.matchesOn(n) {
				cy.blockedByPod = block(cy.blockedByPod, t.topologyKey, v)
			}
		}
	}
	return cy
}

func block(m map[string]map[string]bool, key, value string) map[string]map[string]bool {
	if m == nil {
		m = map[string]map[string]bool{}
	}
	if m[key] == nil {
		m[key] = map[string]bool{}
	}
	m[key][value] = true
	return m
}

// count adds one node to a reason's count; reasons may be nil when only
// the verdict matters.
func count(reasons map[string]int, reason string) {
	if reasons != nil {
		reasons[reason]++
	}
}

// filter reports whether the pod fits node n; if not, and reasons is not
// nil, it counts the node's reasons there.
func (cy *cycle) filter(n *nodeInfo, reasons map[string]int) bool {
	p := cy.pod
	if n.unschedulable && !toleratedBy(p.tolerations, &unschedulableTaint) {
		count(reasons, ReasonUnschedulable)
		return false
	}
	if n.notReady && !toleratedBy(p.tolerations, &notReadyTaint) {
		count(reasons, notReadyReason)
		return false
	}
	for i := range n.hardTaints {
		if !toleratedBy(p.tolerations, &n.hardTaints[i]) {
			count(reasons, n.hardTaintReasons[i])
			return false
		}
	}
	if !cy.matchesNodeAffinity(n) {
		count(reasons, ReasonNodeAffinity)
		return false
	}
	if len(p.ports) > 0 && n.portConflict(p.ports) {
		count(reasons, ReasonHostPorts)
		return false
	}
	if !cy.fitsResources(n, reasons) {
		return false
	}
	for _, g := range cy.existingLocal {
		if g.nodes[n] > 0 {
			count(reasons, ReasonExistingAntiAffinity)
			return false
		}
	}
	if len(cy.existingLocal) == 0 && cy.blockedByExisting == nil && cy.blockedByPod == nil && len(cy.localAnti) == 0 {
		return true
	}
	if cy.blockedByExisting != nil && blocked(cy.blockedByExisting, n) {
		count(reasons, ReasonExistingAntiAffinity)
		return false
	}
	if cy.blockedByPod != nil && blocked(cy.blockedByPod, n) {
		count(reasons, ReasonPodAntiAffinity)
		return false
	}
	for _, t := range cy.localAnti {
		if t.matchesOn(n) {
			count(reasons, ReasonPodAntiAffinity)
			return false
		}
	}
	return true
}

func blocked(m map[string]map[string]bool, n *nodeInfo) bool {
	for key, values := range m {
		if v, ok := n.topologyValue(key); ok && values[v] {
			return true
		}
	}
	return false
}

// matchesNodeAffinity checks spec.nodeSelector and required node affinity.
func (cy *cycle) matchesNodeAffinity(n *nodeInfo) bool {
	if len(cy.pod.nodeSelector) == 0 && !cy.pod.hasRequired {
		return true
	}
	for k, v := range cy.pod.nodeSelector {
		if got, ok := n.labels[k]; !ok || got != v {
			return false
		}
	}
	if !cy.pod.hasRequired {
		return true
	}
	for i := range cy.pod.required {
		if cy.pod.required[i].matches(n.name, n.labels) {
			return true
		}
	}
	return false
}

// fitsResources checks the pod count and every requested resource.
func (cy *cycle) fitsResources(n *nodeInfo, reasons map[string]int) bool {
	req := &cy.pod.req
	ok := true
	if int64(len(n.pods))+1 > n.allocatable.Pods {
		count(reasons, ReasonTooManyPods)
		ok = false
	}
	if req.MilliCPU > 0 && n.requested.MilliCPU+req.MilliCPU > n.allocatable.MilliCPU {
		count(reasons, reasonInsufficientCPU)
		ok = false
	}
	if req.Memory > 0 && n.requested.Memory+req.Memory > n.allocatable.Memory {
		count(reasons, reasonInsufficientMemory)
		ok = false
	}
	if len(req.Scalar) == 0 {
		return ok
	}
	for name, v := range req.Scalar {
		if v > 0 && n.requested.Scalar[name]+v > n.allocatable.Scalar[name] {
			if reasons != nil {
				count(reasons, fmt.Sprintf(reasonInsufficientFormat, name))
			}
			ok = false
		}
	}
	return ok
}
