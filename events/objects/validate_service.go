package objects

import (
	"fmt"
	"net/netip"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// The node port range Strom allocates from, as Kubernetes' default.
const (
	minNodePort = 30000
	maxNodePort = 32767

	// maxClientIPAffinitySeconds caps ClientIP session affinity (a day).
	maxClientIPAffinitySeconds = 86400
)

var (
	serviceTypes = []corev1.ServiceType{corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort,
		corev1.ServiceTypeLoadBalancer, corev1.ServiceTypeExternalName}
	serviceAffinities = []corev1.ServiceAffinity{corev1.ServiceAffinityNone, corev1.ServiceAffinityClientIP}
	ipFamilyPolicies  = []corev1.IPFamilyPolicy{corev1.IPFamilyPolicySingleStack, corev1.IPFamilyPolicyPreferDualStack,
		corev1.IPFamilyPolicyRequireDualStack}
)

func validateService(svc *corev1.Service) field.ErrorList {
	s := &svc.Spec
	p := specPath
	errs := validateEnum(s.Type, serviceTypes, p.Child("type"))
	headless := s.ClusterIP == corev1.ClusterIPNone
	external := s.Type == corev1.ServiceTypeExternalName

	if external {
		if s.ClusterIP != "" {
			errs = append(errs, field.Forbidden(p.Child("clusterIP"), "may not be set for ExternalName services"))
		}
		en := strings.TrimSuffix(s.ExternalName, ".")
		if en == "" {
			errs = append(errs, field.Required(p.Child("externalName"), ""))
		} else {
			errs = append(errs, validateDNSSubdomain(en, p.Child("externalName"))...)
		}
	} else {
		if len(s.Ports) == 0 && !headless {
			errs = append(errs, field.Required(p.Child("ports"), ""))
		}
		if s.ClusterIP != "" && !headless {
			errs = append(errs, validateIP(s.ClusterIP, p.Child("clusterIP"))...)
		}
		for i, ip := range s.ClusterIPs {
			if i == 0 && ip != s.ClusterIP && s.ClusterIP != "" {
				errs = append(errs, field.Invalid(p.Child("clusterIPs").Index(0), ip, "must match `clusterIP` when set"))
			}
			if ip != corev1.ClusterIPNone {
				errs = append(errs, validateIP(ip, p.Child("clusterIPs").Index(i))...)
			}
		}
		if headless && (s.Type == corev1.ServiceTypeNodePort || s.Type == corev1.ServiceTypeLoadBalancer) {
			errs = append(errs, field.Invalid(p.Child("clusterIP"), s.ClusterIP, fmt.Sprintf("may not be set to 'None' for %s services", s.Type)))
		}
	}
	errs = append(errs, validateServicePorts(s, p.Child("ports"))...)
	errs = append(errs, metavalidation.ValidateLabels(s.Selector, p.Child("selector"))...)
	errs = append(errs, validateEnum(s.SessionAffinity, serviceAffinities, p.Child("sessionAffinity"))...)
	errs = append(errs, validateSessionAffinityConfig(s, p.Child("sessionAffinityConfig"))...)
	for i, ip := range s.ExternalIPs {
		errs = append(errs, validateIP(ip, p.Child("externalIPs").Index(i))...)
	}
	for i, cidr := range s.LoadBalancerSourceRanges {
		errs = append(errs, validation.IsValidCIDR(p.Child("loadBalancerSourceRanges").Index(i), cidr)...)
	}
	if s.ExternalTrafficPolicy != "" {
		if s.Type != corev1.ServiceTypeNodePort && s.Type != corev1.ServiceTypeLoadBalancer {
			errs = append(errs, field.Invalid(p.Child("externalTrafficPolicy"), s.ExternalTrafficPolicy,
				"may only be set when `type` is 'NodePort' or 'LoadBalancer'"))
		}
		errs = append(errs, validateOptionalEnum(s.ExternalTrafficPolicy, []corev1.ServiceExternalTrafficPolicy{
			corev1.ServiceExternalTrafficPolicyCluster, corev1.ServiceExternalTrafficPolicyLocal}, p.Child("externalTrafficPolicy"))...)
	}
	if s.InternalTrafficPolicy != nil {
		errs = append(errs, validateEnum(*s.InternalTrafficPolicy, []corev1.ServiceInternalTrafficPolicy{
			corev1.ServiceInternalTrafficPolicyCluster, corev1.ServiceInternalTrafficPolicyLocal}, p.Child("internalTrafficPolicy"))...)
	}
	if s.IPFamilyPolicy != nil {
		errs = append(errs, validateEnum(*s.IPFamilyPolicy, ipFamilyPolicies, p.Child("ipFamilyPolicy"))...)
	}
	seen := sets.New[corev1.IPFamily]()
	for i, f := range s.IPFamilies {
		fp := p.Child("ipFamilies").Index(i)
		errs = append(errs, validateEnum(f, []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol}, fp)...)
		if seen.Has(f) {
			errs = append(errs, field.Duplicate(fp, f))
		}
		seen.Insert(f)
	}
	if len(s.IPFamilies) > 2 {
		errs = append(errs, field.Invalid(p.Child("ipFamilies"), s.IPFamilies, "may specify no more than one IP for each IP family"))
	}
	if s.HealthCheckNodePort != 0 && (s.Type != corev1.ServiceTypeLoadBalancer || s.ExternalTrafficPolicy != corev1.ServiceExternalTrafficPolicyLocal) {
		errs = append(errs, field.Invalid(p.Child("healthCheckNodePort"), s.HealthCheckNodePort,
			"may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"))
	}
	return errs
}

func validateServicePorts(s *corev1.ServiceSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	names := sets.New[string]()
	type portKey struct {
		port     int32
		protocol corev1.Protocol
	}
	seen := map[portKey]bool{}
	nodePorts := map[portKey]bool{}
	for i := range s.Ports {
		sp := &s.Ports[i]
		pp := p.Index(i)
		if len(s.Ports) > 1 && sp.Name == "" {
			errs = append(errs, field.Required(pp.Child("name"), ""))
		} else if sp.Name != "" {
			errs = append(errs, validateDNSLabel(sp.Name, pp.Child("name"))...)
			if names.Has(sp.Name) {
				errs = append(errs, field.Duplicate(pp.Child("name"), sp.Name))
			}
			names.Insert(sp.Name)
		}
		errs = append(errs, msgErrs(pp.Child("port"), sp.Port, validation.IsValidPortNum(int(sp.Port)))...)
		errs = append(errs, validateEnum(sp.Protocol, protocols, pp.Child("protocol"))...)
		if s.Type != corev1.ServiceTypeExternalName && !(sp.TargetPort.Type == intstr.Int && sp.TargetPort.IntVal == 0) {
			errs = append(errs, validatePortNumOrName(sp.TargetPort, pp.Child("targetPort"))...)
		}
		k := portKey{sp.Port, sp.Protocol}
		if seen[k] {
			errs = append(errs, field.Duplicate(pp, sp))
		}
		seen[k] = true
		if sp.NodePort != 0 {
			np := pp.Child("nodePort")
			switch {
			case s.Type != corev1.ServiceTypeNodePort && s.Type != corev1.ServiceTypeLoadBalancer:
				errs = append(errs, field.Forbidden(np, fmt.Sprintf("may not be used when `type` is '%s'", s.Type)))
			case sp.NodePort < minNodePort || sp.NodePort > maxNodePort:
				errs = append(errs, field.Invalid(np, sp.NodePort,
					fmt.Sprintf("provided port is not in the valid range. The range of valid ports is %d-%d", minNodePort, maxNodePort)))
			}
			nk := portKey{sp.NodePort, sp.Protocol}
			if nodePorts[nk] {
				errs = append(errs, field.Duplicate(np, sp.NodePort))
			}
			nodePorts[nk] = true
		}
		if sp.AppProtocol != nil {
			errs = append(errs, validateQualifiedName(*sp.AppProtocol, pp.Child("appProtocol"))...)
		}
	}
	return errs
}

func validateSessionAffinityConfig(s *corev1.ServiceSpec, p *field.Path) field.ErrorList {
	cfg := s.SessionAffinityConfig
	switch s.SessionAffinity {
	case corev1.ServiceAffinityClientIP:
		if cfg == nil || cfg.ClientIP == nil || cfg.ClientIP.TimeoutSeconds == nil {
			return field.ErrorList{field.Required(p.Child("clientIP", "timeoutSeconds"), "")}
		}
		if t := *cfg.ClientIP.TimeoutSeconds; t <= 0 || t > maxClientIPAffinitySeconds {
			return field.ErrorList{field.Invalid(p.Child("clientIP", "timeoutSeconds"), t,
				fmt.Sprintf("must be greater than 0 and less than %d", maxClientIPAffinitySeconds))}
		}
	case corev1.ServiceAffinityNone:
		if cfg != nil {
			return field.ErrorList{field.Invalid(p, cfg, fmt.Sprintf("must not be set when session affinity is %s", s.SessionAffinity))}
		}
	}
	return nil
}

func validateEndpoints(ep *corev1.Endpoints) field.ErrorList {
	var errs field.ErrorList
	for i := range ep.Subsets {
		ss := &ep.Subsets[i]
		sp := field.NewPath("subsets").Index(i)
		if len(ss.Addresses)+len(ss.NotReadyAddresses) == 0 {
			errs = append(errs, field.Required(sp, "must specify `addresses` or `notReadyAddresses`"))
		}
		for j := range ss.Addresses {
			errs = append(errs, validateEndpointAddress(&ss.Addresses[j], sp.Child("addresses").Index(j))...)
		}
		for j := range ss.NotReadyAddresses {
			errs = append(errs, validateEndpointAddress(&ss.NotReadyAddresses[j], sp.Child("notReadyAddresses").Index(j))...)
		}
		names := sets.New[string]()
		for j, port := range ss.Ports {
			pp := sp.Child("ports").Index(j)
			if len(ss.Ports) > 1 && port.Name == "" {
				errs = append(errs, field.Required(pp.Child("name"), ""))
			} else if port.Name != "" {
				errs = append(errs, validateDNSLabel(port.Name, pp.Child("name"))...)
				if names.Has(port.Name) {
					errs = append(errs, field.Duplicate(pp.Child("name"), port.Name))
				}
				names.Insert(port.Name)
			}
			errs = append(errs, msgErrs(pp.Child("port"), port.Port, validation.IsValidPortNum(int(port.Port)))...)
			errs = append(errs, validateEnum(port.Protocol, protocols, pp.Child("protocol"))...)
		}
	}
	return errs
}

// validateEndpointAddress requires an IP that can reach a pod: not the
// loopback, link-local or multicast ranges.
func validateEndpointAddress(a *corev1.EndpointAddress, p *field.Path) field.ErrorList {
	ip := p.Child("ip")
	errs := validateIP(a.IP, ip)
	if len(errs) > 0 {
		return errs
	}
	addr, err := netip.ParseAddr(a.IP)
	if err == nil {
		switch {
		case addr.IsUnspecified():
			errs = append(errs, field.Invalid(ip, a.IP, "may not be unspecified (0.0.0.0)"))
		case addr.IsLoopback():
			errs = append(errs, field.Invalid(ip, a.IP, "may not be in the loopback range (127.0.0.0/8, ::1/128)"))
		case addr.IsLinkLocalUnicast():
			errs = append(errs, field.Invalid(ip, a.IP, "may not be in the link-local range (169.254.0.0/16, fe80::/10)"))
		case addr.IsLinkLocalMulticast(), addr.IsMulticast():
			errs = append(errs, field.Invalid(ip, a.IP, "may not be in the multicast range"))
		}
	}
	if a.Hostname != "" {
		errs = append(errs, validateDNSLabel(a.Hostname, p.Child("hostname"))...)
	}
	if a.NodeName != nil {
		errs = append(errs, validateDNSSubdomain(*a.NodeName, p.Child("nodeName"))...)
	}
	return errs
}

var pathTypes = []networkingv1.PathType{networkingv1.PathTypeExact, networkingv1.PathTypePrefix, networkingv1.PathTypeImplementationSpecific}

func validateIngress(ing *networkingv1.Ingress) field.ErrorList {
	s := &ing.Spec
	var errs field.ErrorList
	if s.DefaultBackend == nil && len(s.Rules) == 0 {
		errs = append(errs, field.Invalid(specPath, "", "either `defaultBackend` or `rules` must be specified"))
	}
	if s.IngressClassName != nil {
		errs = append(errs, validateDNSSubdomain(*s.IngressClassName, specPath.Child("ingressClassName"))...)
	}
	if s.DefaultBackend != nil {
		errs = append(errs, validateIngressBackend(s.DefaultBackend, specPath.Child("defaultBackend"))...)
	}
	for i, r := range s.Rules {
		rp := specPath.Child("rules").Index(i)
		if r.Host != "" {
			errs = append(errs, validateIngressHost(r.Host, rp.Child("host"))...)
		}
		if r.HTTP == nil {
			continue
		}
		hp := rp.Child("http", "paths")
		if len(r.HTTP.Paths) == 0 {
			errs = append(errs, field.Required(hp, ""))
		}
		for j, pth := range r.HTTP.Paths {
			pp := hp.Index(j)
			if pth.PathType == nil {
				errs = append(errs, field.Required(pp.Child("pathType"), "pathType must be specified"))
			} else {
				errs = append(errs, validateEnum(*pth.PathType, pathTypes, pp.Child("pathType"))...)
				if *pth.PathType != networkingv1.PathTypeImplementationSpecific && !strings.HasPrefix(pth.Path, "/") {
					errs = append(errs, field.Invalid(pp.Child("path"), pth.Path, "must be an absolute path"))
				}
			}
			errs = append(errs, validateIngressBackend(&pth.Backend, pp.Child("backend"))...)
		}
	}
	for i, t := range s.TLS {
		for j, h := range t.Hosts {
			errs = append(errs, validateIngressHost(h, specPath.Child("tls").Index(i).Child("hosts").Index(j))...)
		}
	}
	return errs
}

func validateIngressHost(host string, p *field.Path) field.ErrorList {
	if _, err := netip.ParseAddr(host); err == nil {
		return field.ErrorList{field.Invalid(p, host, "must be a DNS name, not an IP address")}
	}
	if strings.Contains(host, "*") {
		return msgErrs(p, host, validation.IsWildcardDNS1123Subdomain(host))
	}
	return validateDNSSubdomain(host, p)
}

func validateIngressBackend(b *networkingv1.IngressBackend, p *field.Path) field.ErrorList {
	switch {
	case b.Service != nil && b.Resource != nil:
		return field.ErrorList{field.Invalid(p, "", "cannot set both service and resource backends")}
	case b.Resource != nil:
		var errs field.ErrorList
		if b.Resource.Kind == "" {
			errs = append(errs, field.Required(p.Child("resource", "kind"), ""))
		}
		if b.Resource.Name == "" {
			errs = append(errs, field.Required(p.Child("resource", "name"), ""))
		}
		return errs
	case b.Service == nil:
		return field.ErrorList{field.Invalid(p, "", "service or resource backend is required")}
	}
	sp := p.Child("service")
	var errs field.ErrorList
	if b.Service.Name == "" {
		errs = append(errs, field.Required(sp.Child("name"), ""))
	} else {
		errs = append(errs, msgErrs(sp.Child("name"), b.Service.Name, validation.IsDNS1035Label(b.Service.Name))...)
	}
	port := b.Service.Port
	switch {
	case port.Name != "" && port.Number != 0:
		errs = append(errs, field.Invalid(sp.Child("port"), port, "cannot set both port name & port number"))
	case port.Name != "":
		errs = append(errs, msgErrs(sp.Child("port", "name"), port.Name, validation.IsValidPortName(port.Name))...)
	case port.Number != 0:
		errs = append(errs, msgErrs(sp.Child("port", "number"), port.Number, validation.IsValidPortNum(int(port.Number)))...)
	default:
		errs = append(errs, field.Required(sp.Child("port"), "port name or number is required"))
	}
	return errs
}
