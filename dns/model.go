package dns

import "net/netip"

// Service types, as in Kubernetes.
const (
	TypeClusterIP    = "ClusterIP"
	TypeNodePort     = "NodePort"
	TypeLoadBalancer = "LoadBalancer"
	TypeExternalName = "ExternalName"
)

// Service is the slice of a Kubernetes Service that DNS needs.
type Service struct {
	Namespace string
	Name      string
	// Type is one of ClusterIP, NodePort, LoadBalancer or ExternalName.
	Type string
	// ClusterIPs holds the service's virtual IPs; empty for headless and
	// ExternalName services.
	ClusterIPs []netip.Addr
	// Headless is set when the service's clusterIP is "None": its names
	// resolve to the addresses of its ready endpoints.
	Headless bool
	// ExternalName is the CNAME target of an ExternalName service.
	ExternalName string
	// PublishNotReadyAddresses makes not-ready endpoint addresses count as
	// ready for DNS.
	PublishNotReadyAddresses bool
	Ports                    []Port
}

// Port is a service or endpoint port. Only named ports get SRV records.
type Port struct {
	Name     string
	Protocol string // TCP, UDP or SCTP
	Port     int32
}

// Endpoints is the slice of a Kubernetes Endpoints object that DNS needs.
type Endpoints struct {
	Namespace string
	Name      string
	Subsets   []Subset
}

// Subset groups addresses that share a set of ports.
type Subset struct {
	Addresses         []Address
	NotReadyAddresses []Address
	Ports             []Port
}

// Address is one endpoint address.
type Address struct {
	IP       netip.Addr
	Hostname string
	NodeName string
}

// key identifies a service and its endpoints (they share namespace/name).
type key struct {
	Namespace string
	Name      string
}

func (k key) String() string { return k.Namespace + "/" + k.Name }
