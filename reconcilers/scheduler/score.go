package scheduler

// MaxNodeScore is the highest score one scoring function gives.
const MaxNodeScore = 100

// Weights weigh the scores; a node's total is the weighted sum.
type Weights struct {
	LeastAllocated  int64 // free cpu and memory after placing the pod
	Spread          int64 // fewer pods of the same controller on the node
	NodeAffinity    int64 // preferred node affinity terms matched
	TaintToleration int64 // fewer untolerated PreferNoSchedule taints
}

// DefaultWeights are kube-scheduler's default plugin weights for the
// matching plugins (NodeResourcesFit 1, PodTopologySpread 2, NodeAffinity
// 2, TaintToleration 3).
var DefaultWeights = Weights{LeastAllocated: 1, Spread: 2, NodeAffinity: 2, TaintToleration: 3}

// leastAllocated is the mean, over cpu and memory, of the free fraction
// of the node after placing the pod, 0–100.
func (cy *cycle) leastAllocated(n *nodeInfo) int64 {
	cpu := freeFraction(n.nonzero.MilliCPU+cy.pod.nonzero.MilliCPU, n.allocatable.MilliCPU)
	mem := freeFraction(n.nonzero.Memory+cy.pod.nonzero.Memory, n.allocatable.Memory)
	return (cpu + mem) / 2
}

func freeFraction(requested, capacity int64) int64 {
	if capacity <= 0 || requested > capacity {
		return 0
	}
	return (capacity - requested) * MaxNodeScore / capacity
}

// preferredAffinity is the sum of the weights of matching preferred terms.
func (cy *cycle) preferredAffinity(n *nodeInfo) int64 {
	var sum int64
	for i := range cy.pod.preferred {
		if cy.pod.preferred[i].term.matches(n.name, n.labels) {
			sum += cy.pod.preferred[i].weight
		}
	}
	return sum
}

// intolerablePreferNoSchedule counts PreferNoSchedule taints not tolerated.
func (cy *cycle) intolerablePreferNoSchedule(n *nodeInfo) int64 {
	var c int64
	for i := range n.softTaints {
		if !toleratedBy(cy.pod.tolerations, &n.softTaints[i]) {
			c++
		}
	}
	return c
}

// sameOwner counts pods of the pod's controller on the node.
func (cy *cycle) sameOwner(n *nodeInfo) int64 {
	if cy.owners == nil || n.index < 0 {
		return 0
	}
	return int64(cy.owners[n.index])
}

// scoreBuf holds per-node raw scores; reused across Schedule calls.
type scoreBuf struct {
	total, owner, affinity, taints []int64
}

func (b *scoreBuf) reset(n int) {
	grow := func(s []int64) []int64 {
		if cap(s) < n {
			return make([]int64, n)
		}
		return s[:n]
	}
	b.total, b.owner, b.affinity, b.taints = grow(b.total), grow(b.owner), grow(b.affinity), grow(b.taints)
}

// score fills buf.total for every feasible node and returns the index of
// the best node; ties go to the node whose hash with the pod is lowest.
func (cy *cycle) score(feasible []*nodeInfo, w Weights, buf *scoreBuf) int {
	buf.reset(len(feasible))
	var maxOwner, maxAffinity, maxTaints int64
	for i, n := range feasible {
		buf.total[i] = w.LeastAllocated * cy.leastAllocated(n)
		if w.Spread != 0 {
			buf.owner[i] = cy.sameOwner(n)
			maxOwner = max(maxOwner, buf.owner[i])
		}
		if w.NodeAffinity != 0 && len(cy.pod.preferred) > 0 {
			buf.affinity[i] = cy.preferredAffinity(n)
			maxAffinity = max(maxAffinity, buf.affinity[i])
		} else {
			buf.affinity[i] = 0
		}
		if w.TaintToleration != 0 && len(n.softTaints) > 0 {
			buf.taints[i] = cy.intolerablePreferNoSchedule(n)
			maxTaints = max(maxTaints, buf.taints[i])
		} else {
			buf.taints[i] = 0
		}
	}
	best, bestHash := -1, uint64(0)
	podHash := fnv64(cy.pod.uid)
	for i, n := range feasible {
		t := buf.total[i]
		t += w.Spread * reversed(buf.owner[i], maxOwner)
		if maxAffinity > 0 {
			t += w.NodeAffinity * buf.affinity[i] * MaxNodeScore / maxAffinity
		}
		t += w.TaintToleration * reversed(buf.taints[i], maxTaints)
		buf.total[i] = t
		switch {
		case best < 0 || t > buf.total[best]:
			best, bestHash = i, 0
		case t == buf.total[best]:
			if bestHash == 0 {
				bestHash = tieHash(podHash, feasible[best].nameHash)
			}
			if h := tieHash(podHash, n.nameHash); h < bestHash {
				best, bestHash = i, h
			}
		}
	}
	return best
}

// reversed maps a count to 0–100 where fewer is better.
func reversed(v, maxV int64) int64 {
	if maxV == 0 {
		return MaxNodeScore
	}
	return (maxV - v) * MaxNodeScore / maxV
}

// tieHash mixes the pod's and the node's name hashes (splitmix64's
// finaliser), so each pod ranks equal nodes in its own order. 0 marks "not
// computed yet"; a real 0 only costs a recomputation.
func tieHash(pod, node uint64) uint64 {
	z := pod ^ node
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// fnv64 is FNV-1a over s.
func fnv64(s string) uint64 {
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= prime
	}
	return h
}
