package proxy

import (
	"net/netip"
	"slices"
)

// Endpoint is one backend of a service port.
type Endpoint struct {
	IP    netip.Addr
	Port  int32
	Ready bool
}

// ServicePort is the slim model the proxy works from: one port of one
// service with its endpoints. A ServicePort whose ClusterIP is invalid
// (headless) gets no rules.
type ServicePort struct {
	Namespace string
	Name      string
	PortName  string
	// Protocol is "TCP", "UDP" or "SCTP" (case-insensitive; empty means TCP).
	Protocol  string
	ClusterIP netip.Addr
	Port      int32
	// NodePort is 0 when the service has none.
	NodePort        int32
	ExternalIPs     []netip.Addr
	LoadBalancerIPs []netip.Addr

	SessionAffinityClientIP bool
	// AffinityTimeoutSeconds applies with SessionAffinityClientIP;
	// 0 means the Kubernetes default, 10800.
	AffinityTimeoutSeconds int32

	Endpoints []Endpoint
}

// DefaultAffinityTimeoutSeconds is Kubernetes' default ClientIP affinity
// timeout (3 hours).
const DefaultAffinityTimeoutSeconds = 10800

// Key identifies a service port: "namespace/name:portName/protocol".
func (sp *ServicePort) Key() string {
	return sp.Namespace + "/" + sp.Name + ":" + sp.PortName + "/" + sp.proto()
}

// String is a short human name, "namespace/name:portName".
func (sp *ServicePort) String() string {
	if sp.PortName == "" {
		return sp.Namespace + "/" + sp.Name
	}
	return sp.Namespace + "/" + sp.Name + ":" + sp.PortName
}

// proto is the lower-case protocol for iptables' -p.
func (sp *ServicePort) proto() string {
	switch sp.Protocol {
	case "", "TCP", "tcp":
		return "tcp"
	case "UDP", "udp":
		return "udp"
	case "SCTP", "sctp":
		return "sctp"
	}
	return sp.Protocol
}

// affinityTimeout is the effective ClientIP affinity timeout in seconds.
func (sp *ServicePort) affinityTimeout() int32 {
	if sp.AffinityTimeoutSeconds <= 0 {
		return DefaultAffinityTimeoutSeconds
	}
	return sp.AffinityTimeoutSeconds
}

// readyEndpoints returns the ready IPv4 endpoints sorted by address and
// port, without duplicates, so rule output does not depend on input order.
func (sp *ServicePort) readyEndpoints() []Endpoint {
	out := make([]Endpoint, 0, len(sp.Endpoints))
	for _, ep := range sp.Endpoints {
		if ep.Ready && ep.IP.Is4() && ep.Port > 0 {
			out = append(out, ep)
		}
	}
	slices.SortFunc(out, compareEndpoints)
	return slices.CompactFunc(out, func(a, b Endpoint) bool { return compareEndpoints(a, b) == 0 })
}

func compareEndpoints(a, b Endpoint) int {
	if c := a.IP.Compare(b.IP); c != 0 {
		return c
	}
	return int(a.Port) - int(b.Port)
}

// equal reports whether two service ports would render the same rules.
// Order of endpoints and addresses matters not.
func (sp *ServicePort) equal(o *ServicePort) bool {
	if sp.Namespace != o.Namespace || sp.Name != o.Name || sp.PortName != o.PortName ||
		sp.proto() != o.proto() || sp.ClusterIP != o.ClusterIP || sp.Port != o.Port ||
		sp.NodePort != o.NodePort || sp.SessionAffinityClientIP != o.SessionAffinityClientIP ||
		(sp.SessionAffinityClientIP && sp.affinityTimeout() != o.affinityTimeout()) {
		return false
	}
	return slices.Equal(sortedAddrs(sp.ExternalIPs), sortedAddrs(o.ExternalIPs)) &&
		slices.Equal(sortedAddrs(sp.LoadBalancerIPs), sortedAddrs(o.LoadBalancerIPs)) &&
		slices.Equal(sp.readyEndpoints(), o.readyEndpoints())
}

// sortedAddrs returns the IPv4 addresses of in, sorted and deduplicated.
func sortedAddrs(in []netip.Addr) []netip.Addr {
	out := make([]netip.Addr, 0, len(in))
	for _, a := range in {
		if a.Is4() {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return slices.Compact(out)
}

// clone returns a deep copy, so the proxier's cache cannot be changed by
// a caller that reuses its slices.
func (sp *ServicePort) clone() ServicePort {
	c := *sp
	c.ExternalIPs = slices.Clone(sp.ExternalIPs)
	c.LoadBalancerIPs = slices.Clone(sp.LoadBalancerIPs)
	c.Endpoints = slices.Clone(sp.Endpoints)
	return c
}
