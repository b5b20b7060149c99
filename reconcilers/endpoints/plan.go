package endpoints

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Result is the endpoints a Service should have.
type Result struct {
	Subsets []corev1.EndpointSubset
	// Unresolved lists "port <name>: no pod has a container port named
	// <target>" for service ports whose named targetPort no selected pod
	// declares.
	Unresolved []string
}

// Selects reports whether svc's selector matches pod (same namespace).
func Selects(svc *corev1.Service, pod *corev1.Pod) bool {
	if len(svc.Spec.Selector) == 0 || pod.Namespace != svc.Namespace {
		return false
	}
	return labels.SelectorFromValidatedSet(svc.Spec.Selector).Matches(labels.Set(pod.Labels))
}

// Desired computes the endpoints of svc from the pods in its namespace.
// It is pure: the same inputs always give the same, sorted, output.
func Desired(svc *corev1.Service, pods []*corev1.Pod) Result {
	type group struct {
		ports    []corev1.EndpointPort
		ready    []corev1.EndpointAddress
		notReady []corev1.EndpointAddress
	}
	groups := map[string]*group{}
	resolved := make([]bool, len(svc.Spec.Ports))
	for _, pod := range pods {
		if !Selects(svc, pod) || !eligible(pod) {
			continue
		}
		var ports []corev1.EndpointPort
		for i, sp := range svc.Spec.Ports {
			port, ok := targetPort(pod, sp)
			if !ok {
				continue
			}
			resolved[i] = true
			ports = append(ports, corev1.EndpointPort{Name: sp.Name, Port: port, Protocol: protocol(sp.Protocol), AppProtocol: sp.AppProtocol})
		}
		if len(svc.Spec.Ports) > 0 && len(ports) == 0 {
			continue // this pod serves none of the service's ports
		}
		sort.Slice(ports, func(i, j int) bool { return ports[i].Name < ports[j].Name })
		key := portsKey(ports)
		g := groups[key]
		if g == nil {
			g = &group{ports: ports}
			groups[key] = g
		}
		addr := address(svc, pod)
		if svc.Spec.PublishNotReadyAddresses || podReady(pod) {
			g.ready = append(g.ready, addr)
		} else {
			g.notReady = append(g.notReady, addr)
		}
	}
	var res Result
	for _, k := range slices.Sorted(maps.Keys(groups)) {
		g := groups[k]
		sortAddrs(g.ready)
		sortAddrs(g.notReady)
		res.Subsets = append(res.Subsets, corev1.EndpointSubset{Addresses: g.ready, NotReadyAddresses: g.notReady, Ports: g.ports})
	}
	for i, sp := range svc.Spec.Ports {
		if !resolved[i] && sp.TargetPort.Type == intstr.String {
			res.Unresolved = append(res.Unresolved, fmt.Sprintf("port %q: no selected pod has a container port named %q", sp.Name, sp.TargetPort.StrVal))
		}
	}
	return res
}

// eligible: running (or about to) with an IP, and not being deleted.
func eligible(pod *corev1.Pod) bool {
	if pod.DeletionTimestamp != nil || pod.Status.PodIP == "" {
		return false
	}
	return pod.Status.Phase != corev1.PodSucceeded && pod.Status.Phase != corev1.PodFailed
}

func podReady(pod *corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// targetPort resolves a service port's targetPort for one pod.
func targetPort(pod *corev1.Pod, sp corev1.ServicePort) (int32, bool) {
	switch {
	case sp.TargetPort.Type == intstr.String && sp.TargetPort.StrVal != "":
		for _, c := range pod.Spec.Containers {
			for _, cp := range c.Ports {
				if cp.Name == sp.TargetPort.StrVal && protocol(cp.Protocol) == protocol(sp.Protocol) {
					return cp.ContainerPort, true
				}
			}
		}
		return 0, false
	case sp.TargetPort.IntVal != 0:
		return sp.TargetPort.IntVal, true
	}
	return sp.Port, true
}

func address(svc *corev1.Service, pod *corev1.Pod) corev1.EndpointAddress {
	a := corev1.EndpointAddress{
		IP:        pod.Status.PodIP,
		TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID},
	}
	if pod.Spec.NodeName != "" {
		n := pod.Spec.NodeName
		a.NodeName = &n
	}
	if pod.Spec.Hostname != "" && pod.Spec.Subdomain == svc.Name {
		a.Hostname = pod.Spec.Hostname
	}
	return a
}

func protocol(p corev1.Protocol) corev1.Protocol {
	if p == "" {
		return corev1.ProtocolTCP
	}
	return p
}

func portsKey(ports []corev1.EndpointPort) string {
	var b strings.Builder
	for _, p := range ports {
		fmt.Fprintf(&b, "%s/%s/%d;", p.Name, p.Protocol, p.Port)
	}
	return b.String()
}

func sortAddrs(a []corev1.EndpointAddress) {
	sort.Slice(a, func(i, j int) bool {
		if a[i].IP != a[j].IP {
			return a[i].IP < a[j].IP
		}
		return a[i].TargetRef.Name < a[j].TargetRef.Name
	})
}
