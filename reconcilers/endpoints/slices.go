package endpoints

import (
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/strom-project/strom/events/objects"
)

// MaxEndpointsPerSlice is how many endpoints one EndpointSlice holds, the
// default of kube-controller-manager's --max-endpoints-per-slice.
const MaxEndpointsPerSlice = 100

// Slice names are "<service>-<5 characters>" like the generateName of
// Kubernetes' controller, but the suffix is a hash of the service's uid,
// the slice's port set and its index among the slices of that port set,
// not random: the same state always names the same slices, so a
// level-based reconcile finds its slices again without remembering them,
// and the write path (which generates no names) can create them.
const (
	sliceSuffixChars = "bcdfghjklmnpqrstvwxz2456789" // apimachinery's rand alphabet
	sliceSuffixLen   = 5
	sliceBaseMax     = 63 - sliceSuffixLen // names.SimpleNameGenerator's base length
)

// DesiredSlices computes the EndpointSlices of svc as Kubernetes'
// endpointslice controller does, for an IPv4 service: one endpoint per
// pod the selector matches that has an IPv4 address and is not finished
// (terminating pods stay, with ready false and terminating true), pods
// grouped by the ports they resolve, at most max endpoints per slice. A
// pod on a node that does not exist (nodes has no entry) is left out, as
// Kubernetes leaves it out. With no endpoints at all the service gets one
// empty placeholder slice. The output is sorted by name; it is pure.
func DesiredSlices(svc *corev1.Service, pods []*corev1.Pod, nodes map[string]*corev1.Node, max int) []*discoveryv1.EndpointSlice {
	if max <= 0 {
		max = MaxEndpointsPerSlice
	}
	type group struct {
		ports     []discoveryv1.EndpointPort
		endpoints []discoveryv1.Endpoint
	}
	groups := map[string]*group{}
	for _, pod := range pods {
		if !Selects(svc, pod) || !sliceEligible(pod) {
			continue
		}
		node, ok := nodes[pod.Spec.NodeName]
		if !ok {
			continue
		}
		ports := slicePorts(svc, pod)
		key := slicePortsKey(ports)
		g := groups[key]
		if g == nil {
			g = &group{ports: ports}
			groups[key] = g
		}
		g.endpoints = append(g.endpoints, sliceEndpoint(svc, pod, node))
	}
	var out []*discoveryv1.EndpointSlice
	names := map[string]bool{}
	add := func(key string, i int, ports []discoveryv1.EndpointPort, eps []discoveryv1.Endpoint) {
		s := newSlice(svc, sliceName(svc, key, i, names), ports, eps)
		names[s.Name] = true
		out = append(out, s)
	}
	for _, k := range slices.Sorted(maps.Keys(groups)) {
		g := groups[k]
		sort.Slice(g.endpoints, func(i, j int) bool {
			a, b := g.endpoints[i], g.endpoints[j]
			if a.Addresses[0] != b.Addresses[0] {
				return a.Addresses[0] < b.Addresses[0]
			}
			return a.TargetRef.Name < b.TargetRef.Name
		})
		for i := 0; i*max < len(g.endpoints); i++ {
			end := min((i+1)*max, len(g.endpoints))
			add(k, i, g.ports, g.endpoints[i*max:end])
		}
	}
	if len(out) == 0 {
		add("", 0, []discoveryv1.EndpointPort{}, []discoveryv1.Endpoint{})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// sliceEligible: an address, and not finished. Pods being deleted stay
// (as terminating endpoints).
func sliceEligible(pod *corev1.Pod) bool {
	return podIPv4(pod) != "" && pod.Status.Phase != corev1.PodSucceeded && pod.Status.Phase != corev1.PodFailed
}

func podIPv4(pod *corev1.Pod) string {
	for _, ip := range pod.Status.PodIPs {
		if isIPv4(ip.IP) {
			return ip.IP
		}
	}
	if isIPv4(pod.Status.PodIP) {
		return pod.Status.PodIP
	}
	return ""
}

func isIPv4(ip string) bool { return ip != "" && !strings.Contains(ip, ":") }

// slicePorts resolves the service's ports for one pod, in the service's
// order; a named targetPort the pod does not declare is left out.
func slicePorts(svc *corev1.Service, pod *corev1.Pod) []discoveryv1.EndpointPort {
	ports := []discoveryv1.EndpointPort{}
	for _, sp := range svc.Spec.Ports {
		port, ok := targetPort(pod, sp)
		if !ok {
			continue
		}
		name, proto := sp.Name, protocol(sp.Protocol)
		ports = append(ports, discoveryv1.EndpointPort{Name: &name, Protocol: &proto, Port: &port, AppProtocol: sp.AppProtocol})
	}
	return ports
}

func slicePortsKey(ports []discoveryv1.EndpointPort) string {
	var b strings.Builder
	for _, p := range ports {
		fmt.Fprintf(&b, "%s/%s/%d;", *p.Name, *p.Protocol, *p.Port)
	}
	return b.String()
}

// sliceEndpoint is the endpoint of one pod: serving when ready, ready only
// when also not terminating (both when the service publishes not-ready
// addresses), with its node, the node's zone and, for a pod of the
// service's subdomain, its hostname.
func sliceEndpoint(svc *corev1.Service, pod *corev1.Pod, node *corev1.Node) discoveryv1.Endpoint {
	serving := svc.Spec.PublishNotReadyAddresses || podReady(pod)
	terminating := pod.DeletionTimestamp != nil
	ready := svc.Spec.PublishNotReadyAddresses || (serving && !terminating)
	ep := discoveryv1.Endpoint{
		Addresses:  []string{podIPv4(pod)},
		Conditions: discoveryv1.EndpointConditions{Ready: &ready, Serving: &serving, Terminating: &terminating},
		TargetRef:  &corev1.ObjectReference{Kind: "Pod", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID},
	}
	if n := pod.Spec.NodeName; n != "" {
		ep.NodeName = &n
	}
	if zone, ok := node.Labels[corev1.LabelTopologyZone]; ok && zone != "" {
		ep.Zone = &zone
	}
	if h := pod.Spec.Hostname; h != "" && pod.Spec.Subdomain == svc.Name {
		ep.Hostname = &h
	}
	return ep
}

func newSlice(svc *corev1.Service, name string, ports []discoveryv1.EndpointPort, eps []discoveryv1.Endpoint) *discoveryv1.EndpointSlice {
	labels := map[string]string{}
	for k, v := range svc.Labels {
		if k != discoveryv1.LabelServiceName && k != discoveryv1.LabelManagedBy {
			labels[k] = v
		}
	}
	if svc.Spec.ClusterIP == corev1.ClusterIPNone {
		labels[corev1.IsHeadlessService] = ""
	} else {
		delete(labels, corev1.IsHeadlessService)
	}
	labels[discoveryv1.LabelServiceName] = svc.Name
	labels[discoveryv1.LabelManagedBy] = objects.EndpointSliceController
	yes := true
	return &discoveryv1.EndpointSlice{
		TypeMeta: metav1.TypeMeta{APIVersion: "discovery.k8s.io/v1", Kind: "EndpointSlice"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: svc.Namespace, Labels: labels,
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Service", Name: svc.Name, UID: svc.UID,
				Controller: &yes, BlockOwnerDeletion: &yes}}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   eps,
		Ports:       ports,
	}
}

// sliceName hashes (service uid, port set, index) into the suffix; a
// suffix another slice of this service already has is hashed again.
func sliceName(svc *corev1.Service, key string, i int, taken map[string]bool) string {
	base := svc.Name + "-"
	if len(base) > sliceBaseMax {
		base = base[:sliceBaseMax]
	}
	for salt := 0; ; salt++ {
		h := fnv.New64a()
		fmt.Fprintf(h, "%s\x00%s\x00%d\x00%d", svc.UID, key, i, salt)
		n := h.Sum64()
		var b strings.Builder
		for j := 0; j < sliceSuffixLen; j++ {
			b.WriteByte(sliceSuffixChars[n%uint64(len(sliceSuffixChars))])
			n /= uint64(len(sliceSuffixChars))
		}
		if name := base + b.String(); !taken[name] {
			return name
		}
	}
}

// SlicePlan is what to write to turn a service's current slices into the
// desired ones.
type SlicePlan struct {
	Create []*discoveryv1.EndpointSlice
	// Update carries the current slice's uid and resourceVersion (the
	// write's precondition) and keeps its annotations.
	Update []*discoveryv1.EndpointSlice
	Delete []*discoveryv1.EndpointSlice // current slices no longer wanted
}

// Empty reports whether the plan writes nothing.
func (p SlicePlan) Empty() bool { return len(p.Create)+len(p.Update)+len(p.Delete) == 0 }

// PlanSlices diffs the desired slices against the current ones (the
// slices this controller manages for the service), by name.
func PlanSlices(want, have []*discoveryv1.EndpointSlice) SlicePlan {
	cur := map[string]*discoveryv1.EndpointSlice{}
	for _, s := range have {
		cur[s.Name] = s
	}
	var p SlicePlan
	wanted := map[string]bool{}
	for _, w := range want {
		wanted[w.Name] = true
		c, ok := cur[w.Name]
		switch {
		case !ok:
			p.Create = append(p.Create, w)
		case !sliceEqual(w, c):
			u := w.DeepCopy()
			u.UID, u.ResourceVersion, u.Annotations = c.UID, c.ResourceVersion, c.Annotations
			p.Update = append(p.Update, u)
		}
	}
	for _, c := range have {
		if !wanted[c.Name] {
			p.Delete = append(p.Delete, c)
		}
	}
	sort.Slice(p.Delete, func(i, j int) bool { return p.Delete[i].Name < p.Delete[j].Name })
	return p
}

// sliceEqual compares what the controller owns of a slice.
func sliceEqual(a, b *discoveryv1.EndpointSlice) bool {
	return a.AddressType == b.AddressType &&
		equality.Semantic.DeepEqual(a.Labels, b.Labels) &&
		equality.Semantic.DeepEqual(a.OwnerReferences, b.OwnerReferences) &&
		equality.Semantic.DeepEqual(a.Endpoints, b.Endpoints) &&
		equality.Semantic.DeepEqual(a.Ports, b.Ports)
}
