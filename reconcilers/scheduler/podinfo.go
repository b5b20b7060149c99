package scheduler

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
)

// HostnameLabel is the topology key of per-node anti-affinity.
const HostnameLabel = "kubernetes.io/hostname"

// podInfo is what the scheduler keeps of a pod, precomputed once.
type podInfo struct {
	key       string // namespace/name
	namespace string
	labels    labels.Set
	req       Resources // PodRequests
	nonzero   Resources // podNonZeroRequests (cpu and memory only used)
	ports     []hostPort
	owner     types.UID      // controller ownerReference uid, if any
	anti      []affinityTerm // required pod anti-affinity terms
	node      string         // bound node, for cached pods
}

// hostPort is one hostPort a pod asks for.
type hostPort struct {
	ip       string // "" stands for every address (0.0.0.0)
	protocol corev1.Protocol
	port     int32
}

// affinityTerm is a compiled PodAffinityTerm.
type affinityTerm struct {
	selector      labels.Selector
	namespaces    map[string]bool
	allNamespaces bool
	topologyKey   string
	keyCache      string
	// indexKeys, for a matchLabels-only selector in listed namespaces,
	// holds per namespace the nodeInfo.labelIndex keys a matching pod
	// must have; nil otherwise.
	indexKeys [][]string
}

// key identifies equal terms, so replicas' terms are grouped.
func (t *affinityTerm) key() string {
	if t.keyCache != "" {
		return t.keyCache
	}
	ns := make([]string, 0, len(t.namespaces))
	for n := range t.namespaces {
		ns = append(ns, n)
	}
	sort.Strings(ns)
	t.keyCache = fmt.Sprintf("%s|%v|%s|%s", t.topologyKey, t.allNamespaces, strings.Join(ns, ","), t.selector.String())
	return t.keyCache
}

// matches reports whether pod p is selected by the term.
func (t *affinityTerm) matches(p *podInfo) bool {
	if !t.allNamespaces && !t.namespaces[p.namespace] {
		return false
	}
	return t.selector.Matches(p.labels)
}

// podKey returns namespace/name.
func podKey(p *corev1.Pod) string { return p.Namespace + "/" + p.Name }

// newPodInfo precomputes what filters and scores need of pod.
func newPodInfo(pod *corev1.Pod) (*podInfo, error) {
	pi := &podInfo{
		key:       podKey(pod),
		namespace: pod.Namespace,
		labels:    labels.Set(pod.Labels),
		req:       PodRequests(pod),
		nonzero:   podNonZeroRequests(pod),
	}
	for i := range pod.Spec.Containers {
		for _, p := range pod.Spec.Containers[i].Ports {
			if p.HostPort <= 0 {
				continue
			}
			hp := hostPort{ip: p.HostIP, protocol: p.Protocol, port: p.HostPort}
			if hp.ip == "0.0.0.0" || hp.ip == "::" {
				hp.ip = ""
			}
			if hp.protocol == "" {
				hp.protocol = corev1.ProtocolTCP
			}
			pi.ports = append(pi.ports, hp)
		}
	}
	if ref := metav1.GetControllerOfNoCopy(pod); ref != nil {
		pi.owner = ref.UID
	}
	if a := pod.Spec.Affinity; a != nil && a.PodAntiAffinity != nil {
		for i := range a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution {
			t, err := compileAffinityTerm(pod, &a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution[i])
			if err != nil {
				return pi, fmt.Errorf("pod anti-affinity term %d: %w", i, err)
			}
			pi.anti = append(pi.anti, t)
		}
	}
	return pi, nil
}

func compileAffinityTerm(pod *corev1.Pod, t *corev1.PodAffinityTerm) (affinityTerm, error) {
	if t.TopologyKey == "" {
		return affinityTerm{}, fmt.Errorf("empty topologyKey")
	}
	sel, err := metav1.LabelSelectorAsSelector(t.LabelSelector)
	if err != nil {
		return affinityTerm{}, fmt.Errorf("label selector: %w", err)
	}
	out := affinityTerm{selector: sel, topologyKey: t.TopologyKey, namespaces: map[string]bool{}}
	for _, ns := range t.Namespaces {
		out.namespaces[ns] = true
	}
	switch ns := t.NamespaceSelector; {
	case ns == nil:
		if len(t.Namespaces) == 0 {
			out.namespaces[pod.Namespace] = true
		}
	case len(ns.MatchLabels) == 0 && len(ns.MatchExpressions) == 0:
		out.allNamespaces = true
	default:
		return affinityTerm{}, fmt.Errorf("namespaceSelector with requirements is not supported (namespace labels are not known to the scheduler)")
	}
	if ls := t.LabelSelector; ls != nil && len(ls.MatchLabels) > 0 && len(ls.MatchExpressions) == 0 && !out.allNamespaces {
		for ns := range out.namespaces {
			keys := make([]string, 0, len(ls.MatchLabels))
			for k, v := range ls.MatchLabels {
				keys = append(keys, labelIndexKey(ns, k, v))
			}
			out.indexKeys = append(out.indexKeys, keys)
		}
	}
	return out, nil
}

// labelIndexKey is the key of a namespace's label pair in
// nodeInfo.labelIndex.
func labelIndexKey(ns, k, v string) string { return ns + "\x00" + k + "=" + v }

// matchesOn reports whether any pod on n is selected by the term. The
// node's label index answers single-label terms exactly and rules out most
// nodes for the others before their pods are scanned.
func (t *affinityTerm) matchesOn(n *nodeInfo) bool {
	if len(n.pods) == 0 {
		return false
	}
	if t.indexKeys != nil {
		possible, exact := false, false
		for _, keys := range t.indexKeys {
			all := true
			for _, k := range keys {
				if n.labelIndex[k] == 0 {
					all = false
					break
				}
			}
			if all {
				possible, exact = true, len(keys) == 1
				break
			}
		}
		if !possible {
			return false
		}
		if exact {
			return true
		}
	}
	for _, p := range n.pods {
		if t.matches(p) {
			return true
		}
	}
	return false
}

// candidate is the pod being scheduled, with everything filters need.
type candidate struct {
	*podInfo
	uid          string
	tolerations  []corev1.Toleration
	nodeSelector map[string]string
	required     []nodeTerm // OR of terms; nil means no requirement
	hasRequired  bool
	preferred    []preferredTerm
}

// newCandidate compiles pod for scheduling.
func newCandidate(pod *corev1.Pod) (*candidate, error) {
	pi, err := newPodInfo(pod)
	if err != nil {
		return nil, err
	}
	c := &candidate{
		podInfo:      pi,
		uid:          string(pod.UID),
		tolerations:  pod.Spec.Tolerations,
		nodeSelector: pod.Spec.NodeSelector,
	}
	if c.uid == "" {
		c.uid = pi.key
	}
	if a := pod.Spec.Affinity; a != nil && a.NodeAffinity != nil {
		if req := a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution; req != nil {
			c.hasRequired = true
			for i := range req.NodeSelectorTerms {
				t, err := compileNodeTerm(&req.NodeSelectorTerms[i])
				if err != nil {
					return nil, fmt.Errorf("required node affinity term %d: %w", i, err)
				}
				c.required = append(c.required, t)
			}
		}
		for i, p := range a.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution {
			t, err := compileNodeTerm(&p.Preference)
			if err != nil {
				return nil, fmt.Errorf("preferred node affinity term %d: %w", i, err)
			}
			if p.Weight != 0 {
				c.preferred = append(c.preferred, preferredTerm{weight: int64(p.Weight), term: t})
			}
		}
	}
	return c, nil
}
