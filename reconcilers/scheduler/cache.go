package scheduler

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// antiGroup is one distinct required anti-affinity term of existing pods
// (replicas of one set share it) and the nodes where such pods run.
type antiGroup struct {
	term  affinityTerm
	nodes map[*nodeInfo]int32
}

// Cache is the scheduler's incremental view of the cluster: nodes with the
// running sums of the pods bound to them. Feed it from the projections and
// call Schedule; after a successful Schedule, AddPod the pod with its
// chosen node so the next decision sees it (assume, as kube-scheduler does,
// before the binding is written).
//
// A Cache is not safe for concurrent use: one scheduling loop owns it.
type Cache struct {
	// PercentageOfNodesToScore, if in 1..100, replaces the adaptive
	// percentage of nodes to find feasible before scoring.
	PercentageOfNodesToScore int
	// Weights of the scores; the zero value means DefaultWeights.
	Weights Weights

	nodes  map[string]*nodeInfo
	list   []*nodeInfo // nodes with a Node object, in search order
	pods   map[string]*podInfo
	owners map[types.UID]map[*nodeInfo]int32 // controller uid → node → pods
	anti   map[string]*antiGroup             // existing pods' anti-affinity terms, grouped
	next   int                               // where the next search starts

	feasibleBuf  []*nodeInfo
	scores       scoreBuf
	ownerScratch []int32 // per Cache.list index, zero between calls
}

// NewCache returns an empty cache.
func NewCache() *Cache {
	return &Cache{
		nodes:  map[string]*nodeInfo{},
		pods:   map[string]*podInfo{},
		owners: map[types.UID]map[*nodeInfo]int32{},
		anti:   map[string]*antiGroup{},
	}
}

// NumNodes returns how many nodes the cache knows.
func (c *Cache) NumNodes() int { return len(c.list) }

// NumPods returns how many bound pods the cache counts.
func (c *Cache) NumPods() int { return len(c.pods) }

// UpdateNode adds or replaces a node.
func (c *Cache) UpdateNode(node *corev1.Node) {
	n := c.nodes[node.Name]
	if n == nil {
		n = newNodeInfo(node.Name)
		c.nodes[node.Name] = n
	}
	n.setNode(node)
	if n.index < 0 {
		n.index = len(c.list)
		c.list = append(c.list, n)
	}
}

// RemoveNode forgets a node. Pods still bound to it stay counted (on a
// placeholder) until they are removed, as the pods are still running.
func (c *Cache) RemoveNode(name string) {
	n := c.nodes[name]
	if n == nil {
		return
	}
	if n.index >= 0 {
		last := len(c.list) - 1
		c.list[n.index] = c.list[last]
		c.list[n.index].index = n.index
		c.list[last] = nil
		c.list = c.list[:last]
		n.index = -1
	}
	n.node = nil
	if len(n.pods) == 0 {
		delete(c.nodes, name)
	}
}

// AddPod counts pod on the node named by spec.nodeName; it replaces an
// earlier version of the same pod (namespace/name). Pods without a node and
// finished pods (Succeeded, Failed) use nothing and are forgotten instead.
func (c *Cache) AddPod(pod *corev1.Pod) {
	c.RemovePod(pod)
	if pod.Spec.NodeName == "" || pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		return
	}
	c.addPodTo(pod, pod.Spec.NodeName)
}

func (c *Cache) addPodTo(pod *corev1.Pod, nodeName string) {
	pi, _ := newPodInfo(pod) // a bound pod's invalid anti-affinity terms are dropped
	pi.node = nodeName
	n := c.nodes[nodeName]
	if n == nil {
		n = newNodeInfo(nodeName)
		c.nodes[nodeName] = n
	}
	n.addPod(pi)
	c.pods[pi.key] = pi
	if pi.owner != "" {
		m := c.owners[pi.owner]
		if m == nil {
			m = map[*nodeInfo]int32{}
			c.owners[pi.owner] = m
		}
		m[n]++
	}
	for i := range pi.anti {
		k := pi.anti[i].key()
		g := c.anti[k]
		if g == nil {
			g = &antiGroup{term: pi.anti[i], nodes: map[*nodeInfo]int32{}}
			c.anti[k] = g
		}
		g.nodes[n]++
	}
}

// RemovePod forgets pod (matched by namespace/name).
func (c *Cache) RemovePod(pod *corev1.Pod) {
	key := podKey(pod)
	pi := c.pods[key]
	if pi == nil {
		return
	}
	delete(c.pods, key)
	n := c.nodes[pi.node]
	if n == nil {
		return
	}
	n.removePod(pi)
	if pi.owner != "" {
		m := c.owners[pi.owner]
		if m[n]--; m[n] <= 0 {
			delete(m, n)
		}
		if len(m) == 0 {
			delete(c.owners, pi.owner)
		}
	}
	for i := range pi.anti {
		k := pi.anti[i].key()
		g := c.anti[k]
		if g == nil {
			continue
		}
		if g.nodes[n]--; g.nodes[n] <= 0 {
			delete(g.nodes, n)
		}
		if len(g.nodes) == 0 {
			delete(c.anti, k)
		}
	}
	if n.node == nil && len(n.pods) == 0 {
		delete(c.nodes, pi.node)
	}
}

// Requested returns the resources the pods bound to a node request, and
// whether the node is known.
func (c *Cache) Requested(nodeName string) (Resources, bool) {
	n := c.nodes[nodeName]
	if n == nil {
		return Resources{}, false
	}
	return n.requested.clone(), true
}
