package scheduler

import (
	corev1 "k8s.io/api/core/v1"
)

// nodeInfo is a node with the running sums of the pods bound to it.
type nodeInfo struct {
	name             string
	node             *corev1.Node // nil for a placeholder: pods arrived before the node
	labels           map[string]string
	hostname         string // kubernetes.io/hostname label, or the name
	allocatable      Resources
	notReady         bool
	unschedulable    bool
	hardTaints       []corev1.Taint // NoSchedule and NoExecute
	hardTaintReasons []string       // taintReason of each hard taint
	softTaints       []corev1.Taint // PreferNoSchedule

	requested Resources
	nonzero   Resources // cpu and memory with scoring defaults
	pods      []*podInfo
	ports     map[portKey]map[string]int // protocol+port → host IP → count
	// labelIndex counts pods per namespace and label pair
	// (labelIndexKey), for anti-affinity.
	labelIndex map[string]int32

	index    int    // position in Cache.list, -1 if not listed
	nameHash uint64 // FNV-1a of the name, for tie breaking
}

type portKey struct {
	protocol corev1.Protocol
	port     int32
}

func newNodeInfo(name string) *nodeInfo {
	return &nodeInfo{name: name, hostname: name, index: -1, nameHash: fnv64(name)}
}

// setNode refreshes the node-derived fields.
func (n *nodeInfo) setNode(node *corev1.Node) {
	n.node = node
	n.labels = node.Labels
	n.hostname = node.Name
	if h, ok := node.Labels[HostnameLabel]; ok {
		n.hostname = h
	}
	n.allocatable = NodeAllocatable(node)
	n.unschedulable = node.Spec.Unschedulable
	n.notReady = true
	for _, c := range node.Status.Conditions {
		if c.Type == corev1.NodeReady {
			n.notReady = c.Status != corev1.ConditionTrue
		}
	}
	n.hardTaints, n.hardTaintReasons, n.softTaints = nil, nil, nil
	for _, t := range node.Spec.Taints {
		switch t.Effect {
		case corev1.TaintEffectNoSchedule, corev1.TaintEffectNoExecute:
			n.hardTaints = append(n.hardTaints, t)
			n.hardTaintReasons = append(n.hardTaintReasons, taintReason(&t))
		case corev1.TaintEffectPreferNoSchedule:
			n.softTaints = append(n.softTaints, t)
		}
	}
}

// topologyValue returns the node's value for a topology key.
func (n *nodeInfo) topologyValue(key string) (string, bool) {
	if key == HostnameLabel {
		return n.hostname, true
	}
	v, ok := n.labels[key]
	return v, ok
}

func (n *nodeInfo) addPod(p *podInfo) {
	n.pods = append(n.pods, p)
	if len(p.labels) > 0 && n.labelIndex == nil {
		n.labelIndex = map[string]int32{}
	}
	for k, v := range p.labels {
		n.labelIndex[labelIndexKey(p.namespace, k, v)]++
	}
	n.requested.add(p.req)
	n.nonzero.MilliCPU += p.nonzero.MilliCPU
	n.nonzero.Memory += p.nonzero.Memory
	for _, hp := range p.ports {
		if n.ports == nil {
			n.ports = map[portKey]map[string]int{}
		}
		k := portKey{hp.protocol, hp.port}
		if n.ports[k] == nil {
			n.ports[k] = map[string]int{}
		}
		n.ports[k][hp.ip]++
	}
}

func (n *nodeInfo) removePod(p *podInfo) {
	for i, q := range n.pods {
		if q == p {
			last := len(n.pods) - 1
			n.pods[i] = n.pods[last]
			n.pods[last] = nil
			n.pods = n.pods[:last]
			break
		}
	}
	for k, v := range p.labels {
		key := labelIndexKey(p.namespace, k, v)
		if n.labelIndex[key]--; n.labelIndex[key] <= 0 {
			delete(n.labelIndex, key)
		}
	}
	n.requested.sub(p.req)
	n.nonzero.MilliCPU -= p.nonzero.MilliCPU
	n.nonzero.Memory -= p.nonzero.Memory
	for _, hp := range p.ports {
		k := portKey{hp.protocol, hp.port}
		if m := n.ports[k]; m != nil {
			if m[hp.ip]--; m[hp.ip] <= 0 {
				delete(m, hp.ip)
			}
			if len(m) == 0 {
				delete(n.ports, k)
			}
		}
	}
}

// portConflict reports whether any wanted host port is taken here.
func (n *nodeInfo) portConflict(want []hostPort) bool {
	for _, hp := range want {
		ips := n.ports[portKey{hp.protocol, hp.port}]
		if len(ips) == 0 {
			continue
		}
		if hp.ip == "" || ips[""] > 0 || ips[hp.ip] > 0 {
			return true
		}
	}
	return false
}
