package proxy

import (
	"net/netip"

	corev1 "k8s.io/api/core/v1"
)

// FromService builds the slim model of every port of svc, with endpoints
// taken from ep (which may be nil). An endpoint port belongs to a service
// port when their names (and protocols) match, as in Kubernetes.
// ExternalName services yield nothing; headless services yield ports with
// an invalid ClusterIP, which Render skips. Unparsable addresses are
// dropped.
func FromService(svc *corev1.Service, ep *corev1.Endpoints) []ServicePort {
	if svc == nil || svc.Spec.Type == corev1.ServiceTypeExternalName {
		return nil
	}
	clusterIP, _ := netip.ParseAddr(svc.Spec.ClusterIP) // "None" and "" stay invalid
	externalIPs := parseAddrs(svc.Spec.ExternalIPs)
	var lbIPs []netip.Addr
	if svc.Spec.Type == corev1.ServiceTypeLoadBalancer {
		for _, ing := range svc.Status.LoadBalancer.Ingress {
			if a, err := netip.ParseAddr(ing.IP); err == nil {
				lbIPs = append(lbIPs, a)
			}
		}
	}
	affinity := svc.Spec.SessionAffinity == corev1.ServiceAffinityClientIP
	var timeout int32
	if affinity {
		timeout = DefaultAffinityTimeoutSeconds
		if c := svc.Spec.SessionAffinityConfig; c != nil && c.ClientIP != nil && c.ClientIP.TimeoutSeconds != nil {
			timeout = *c.ClientIP.TimeoutSeconds
		}
	}

	out := make([]ServicePort, 0, len(svc.Spec.Ports))
	for _, p := range svc.Spec.Ports {
		proto := string(p.Protocol)
		if proto == "" {
			proto = string(corev1.ProtocolTCP)
		}
		out = append(out, ServicePort{
			Namespace:               svc.Namespace,
			Name:                    svc.Name,
			PortName:                p.Name,
			Protocol:                proto,
			ClusterIP:               clusterIP,
			Port:                    p.Port,
			NodePort:                p.NodePort,
			ExternalIPs:             externalIPs,
			LoadBalancerIPs:         lbIPs,
			SessionAffinityClientIP: affinity,
			AffinityTimeoutSeconds:  timeout,
			Endpoints:               endpointsFor(ep, p.Name, corev1.Protocol(proto)),
		})
	}
	return out
}

// endpointsFor collects the addresses of every subset of ep that has a
// port named portName with the given protocol.
func endpointsFor(ep *corev1.Endpoints, portName string, proto corev1.Protocol) []Endpoint {
	if ep == nil {
		return nil
	}
	var out []Endpoint
	for _, ss := range ep.Subsets {
		var port int32
		for _, epp := range ss.Ports {
			epProto := epp.Protocol
			if epProto == "" {
				epProto = corev1.ProtocolTCP
			}
			if epp.Name == portName && epProto == proto {
				port = epp.Port
				break
			}
		}
		if port == 0 {
			continue
		}
		for _, a := range ss.Addresses {
			if ip, err := netip.ParseAddr(a.IP); err == nil {
				out = append(out, Endpoint{IP: ip, Port: port, Ready: true})
			}
		}
		for _, a := range ss.NotReadyAddresses {
			if ip, err := netip.ParseAddr(a.IP); err == nil {
				out = append(out, Endpoint{IP: ip, Port: port, Ready: false})
			}
		}
	}
	return out
}

func parseAddrs(ss []string) []netip.Addr {
	var out []netip.Addr
	for _, s := range ss {
		if a, err := netip.ParseAddr(s); err == nil {
			out = append(out, a)
		}
	}
	return out
}
