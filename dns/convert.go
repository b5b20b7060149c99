package dns

import (
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
)

// tolerateUnreadyAnnotation is the legacy form of publishNotReadyAddresses
// that the DNS specification still names.
const tolerateUnreadyAnnotation = "service.alpha.kubernetes.io/tolerate-unready-endpoints"

// FromService converts a Kubernetes Service to the slim model. It fails on
// a clusterIP that is neither an IP address nor "None".
func FromService(s *corev1.Service) (Service, error) {
	out := Service{
		Namespace:                s.Namespace,
		Name:                     s.Name,
		Type:                     string(s.Spec.Type),
		ExternalName:             s.Spec.ExternalName,
		PublishNotReadyAddresses: s.Spec.PublishNotReadyAddresses || s.Annotations[tolerateUnreadyAnnotation] == "true",
	}
	if out.Type == "" {
		out.Type = TypeClusterIP
	}
	ips := s.Spec.ClusterIPs
	if len(ips) == 0 && s.Spec.ClusterIP != "" {
		ips = []string{s.Spec.ClusterIP}
	}
	if out.Type != TypeExternalName {
		for _, ip := range ips {
			if ip == corev1.ClusterIPNone {
				out.Headless = true
				out.ClusterIPs = nil
				break
			}
			a, err := netip.ParseAddr(ip)
			if err != nil {
				return Service{}, fmt.Errorf("converting service %s/%s: clusterIP %q: %w", s.Namespace, s.Name, ip, err)
			}
			out.ClusterIPs = append(out.ClusterIPs, a.Unmap())
		}
	}
	for _, p := range s.Spec.Ports {
		out.Ports = append(out.Ports, Port{Name: p.Name, Protocol: protocol(p.Protocol), Port: p.Port})
	}
	return out, nil
}

// FromEndpoints converts a Kubernetes Endpoints object to the slim model. It
// fails on an address that is not an IP address.
func FromEndpoints(e *corev1.Endpoints) (Endpoints, error) {
	out := Endpoints{Namespace: e.Namespace, Name: e.Name}
	for i, ss := range e.Subsets {
		var sub Subset
		var err error
		if sub.Addresses, err = fromAddresses(ss.Addresses); err != nil {
			return Endpoints{}, fmt.Errorf("converting endpoints %s/%s subset %d: %w", e.Namespace, e.Name, i, err)
		}
		if sub.NotReadyAddresses, err = fromAddresses(ss.NotReadyAddresses); err != nil {
			return Endpoints{}, fmt.Errorf("converting endpoints %s/%s subset %d: %w", e.Namespace, e.Name, i, err)
		}
		for _, p := range ss.Ports {
			sub.Ports = append(sub.Ports, Port{Name: p.Name, Protocol: protocol(p.Protocol), Port: p.Port})
		}
		out.Subsets = append(out.Subsets, sub)
	}
	return out, nil
}

func fromAddresses(in []corev1.EndpointAddress) ([]Address, error) {
	var out []Address
	for _, a := range in {
		ip, err := netip.ParseAddr(a.IP)
		if err != nil {
			return nil, fmt.Errorf("address %q: %w", a.IP, err)
		}
		addr := Address{IP: ip.Unmap(), Hostname: a.Hostname}
		if a.NodeName != nil {
			addr.NodeName = *a.NodeName
		}
		out = append(out, addr)
	}
	return out, nil
}

func protocol(p corev1.Protocol) string {
	if p == "" {
		return string(corev1.ProtocolTCP)
	}
	return string(p)
}
