package printers

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

var serviceColumns = cols("NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE", "*SELECTOR")

func serviceType(s *corev1.Service) corev1.ServiceType {
	if s.Spec.Type == "" {
		return corev1.ServiceTypeClusterIP
	}
	return s.Spec.Type
}

func serviceRow(s *corev1.Service, now time.Time) []string {
	clusterIP := s.Spec.ClusterIP
	if len(s.Spec.ClusterIPs) > 0 {
		clusterIP = s.Spec.ClusterIPs[0]
	}
	return []string{
		s.Name, string(serviceType(s)), orNone(clusterIP), serviceExternalIP(s),
		orNone(servicePorts(s.Spec.Ports)), age(s.CreationTimestamp, now),
		mapLabels(s.Spec.Selector),
	}
}

// servicePorts is the PORT(S) column: "80/TCP,443:30443/TCP".
func servicePorts(ports []corev1.ServicePort) string {
	out := make([]string, 0, len(ports))
	for _, p := range ports {
		if p.NodePort > 0 {
			out = append(out, fmt.Sprintf("%d:%d/%s", p.Port, p.NodePort, protocolOr(p.Protocol)))
		} else {
			out = append(out, fmt.Sprintf("%d/%s", p.Port, protocolOr(p.Protocol)))
		}
	}
	return strings.Join(out, ",")
}

func serviceExternalIP(s *corev1.Service) string {
	switch serviceType(s) {
	case corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort:
		return orNone(strings.Join(s.Spec.ExternalIPs, ","))
	case corev1.ServiceTypeLoadBalancer:
		var all []string
		if lb := loadBalancerIngress(s.Status.LoadBalancer.Ingress); lb != "" {
			all = append(all, strings.Split(lb, ",")...)
		}
		all = append(all, s.Spec.ExternalIPs...)
		if len(all) == 0 {
			return "<pending>"
		}
		return strings.Join(all, ",")
	case corev1.ServiceTypeExternalName:
		return s.Spec.ExternalName
	}
	return unknown
}

// loadBalancerIngress lists load balancer addresses, each once. The API
// server builds tables as for wide output, so kubectl never shortens them.
func loadBalancerIngress(ing []corev1.LoadBalancerIngress) string {
	var out []string
	seen := map[string]bool{}
	for _, i := range ing {
		a := i.IP
		if a == "" {
			a = i.Hostname
		}
		if a != "" && !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	return strings.Join(out, ",")
}

var endpointsColumns = cols("NAME", "ENDPOINTS", "AGE")

func endpointsRow(e *corev1.Endpoints, now time.Time) []string {
	return []string{e.Name, formatEndpoints(e, nil), age(e.CreationTimestamp, now)}
}

// formatEndpoints lists up to three ready addresses as "ip:port" and counts
// the rest ("+ 3 more..."). With portNames set, only ports of those names
// count (describe service asks per port).
func formatEndpoints(e *corev1.Endpoints, portNames map[string]bool) string {
	if e == nil || len(e.Subsets) == 0 {
		return none
	}
	const max = 3
	var list []string
	count := 0
	add := func(s string) {
		count++
		if len(list) < max {
			list = append(list, s)
		}
	}
	for _, ss := range e.Subsets {
		if len(ss.Ports) == 0 {
			for _, a := range ss.Addresses {
				add(a.IP)
			}
			continue
		}
		for _, p := range ss.Ports {
			if portNames != nil && !portNames[p.Name] {
				continue
			}
			for _, a := range ss.Addresses {
				add(net.JoinHostPort(a.IP, strconv.Itoa(int(p.Port))))
			}
		}
	}
	ret := strings.Join(list, ",")
	if count > max {
		return fmt.Sprintf("%s + %d more...", ret, count-max)
	}
	return ret
}

var configMapColumns = cols("NAME", "DATA", "AGE")

func configMapRow(c *corev1.ConfigMap, now time.Time) []string {
	return []string{c.Name, strconv.Itoa(len(c.Data) + len(c.BinaryData)), age(c.CreationTimestamp, now)}
}

var secretColumns = cols("NAME", "TYPE", "DATA", "AGE")

func secretRow(s *corev1.Secret, now time.Time) []string {
	return []string{s.Name, string(s.Type), strconv.Itoa(secretKeyCount(s)), age(s.CreationTimestamp, now)}
}

// secretKeyCount counts data keys, including stringData keys a server
// would have merged into data.
func secretKeyCount(s *corev1.Secret) int {
	n := len(s.Data)
	for k := range s.StringData {
		if _, ok := s.Data[k]; !ok {
			n++
		}
	}
	return n
}

var serviceAccountColumns = cols("NAME", "SECRETS", "AGE")

func serviceAccountRow(s *corev1.ServiceAccount, now time.Time) []string {
	return []string{s.Name, strconv.Itoa(len(s.Secrets)), age(s.CreationTimestamp, now)}
}

var namespaceColumns = cols("NAME", "STATUS", "AGE")

func namespaceRow(n *corev1.Namespace, now time.Time) []string {
	return []string{n.Name, string(n.Status.Phase), age(n.CreationTimestamp, now)}
}

var resourceQuotaColumns = cols("NAME", "AGE", "REQUEST", "LIMIT")

func resourceQuotaRow(q *corev1.ResourceQuota, now time.Time) []string {
	var req, lim []string
	for _, name := range sortedResourceNames(q.Status.Hard) {
		used, hard := q.Status.Used[name], q.Status.Hard[name]
		cell := fmt.Sprintf("%s: %s/%s", name, used.String(), hard.String())
		if strings.HasPrefix(string(name), "limits.") {
			lim = append(lim, cell)
		} else {
			req = append(req, cell)
		}
	}
	return []string{q.Name, age(q.CreationTimestamp, now), strings.Join(req, ", "), strings.Join(lim, ", ")}
}

var limitRangeColumns = cols("NAME", "CREATED AT")

func limitRangeRow(l *corev1.LimitRange, _ time.Time) []string {
	return []string{l.Name, createdAt(l.CreationTimestamp)}
}

var eventColumns = cols("LAST SEEN", "TYPE", "REASON", "OBJECT", "*SUBOBJECT", "*SOURCE", "MESSAGE",
	"*FIRST SEEN", "*COUNT", "*NAME")

func eventRow(e *corev1.Event, now time.Time) []string {
	first := age(e.FirstTimestamp, now)
	if e.FirstTimestamp.IsZero() {
		first = microAge(e.EventTime, now)
	}
	last := age(e.LastTimestamp, now)
	if e.LastTimestamp.IsZero() {
		last = first
	}
	count := e.Count
	if e.Series != nil {
		last = microAge(e.Series.LastObservedTime, now)
		count = e.Series.Count
	} else if count == 0 {
		count = 1
	}
	target := strings.ToLower(e.InvolvedObject.Kind)
	if e.InvolvedObject.Name != "" {
		target += "/" + e.InvolvedObject.Name
	}
	return []string{
		last, e.Type, e.Reason, target, e.InvolvedObject.FieldPath, eventSource(e),
		strings.TrimSpace(e.Message), first, strconv.Itoa(int(count)), e.Name,
	}
}

// eventSource is "component, host", from the old or the new event fields.
func eventSource(e *corev1.Event) string {
	comp, host := e.Source.Component, e.Source.Host
	if comp == "" {
		comp = e.ReportingController
	}
	if host == "" {
		host = e.ReportingInstance
	}
	if host == "" {
		return comp
	}
	return comp + ", " + host
}

// eventLastSeen is the time an event was last observed.
func eventLastSeen(e *corev1.Event) time.Time {
	switch {
	case e.Series != nil:
		return e.Series.LastObservedTime.Time
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case !e.FirstTimestamp.IsZero():
		return e.FirstTimestamp.Time
	default:
		return e.EventTime.Time
	}
}

// sortEvents orders events by when they were last seen, oldest first, as
// `kubectl get events` does; it returns a sorted copy.
func sortEvents(evs []*corev1.Event) []*corev1.Event {
	out := append([]*corev1.Event(nil), evs...)
	sort.SliceStable(out, func(i, j int) bool { return eventLastSeen(out[i]).Before(eventLastSeen(out[j])) })
	return out
}
