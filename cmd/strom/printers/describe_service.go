package printers

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func (d *describer) service(s *corev1.Service) {
	d.w(0, "Name:\t%s\n", s.Name)
	d.w(0, "Namespace:\t%s\n", s.Namespace)
	d.labels("", "Labels", s.Labels)
	d.annotations("", "Annotations", s.Annotations)
	d.w(0, "Selector:\t%s\n", mapLabels(s.Spec.Selector))
	d.w(0, "Type:\t%s\n", serviceType(s))
	if s.Spec.IPFamilyPolicy != nil {
		d.w(0, "IP Family Policy:\t%s\n", *s.Spec.IPFamilyPolicy)
	}
	families := make([]string, 0, len(s.Spec.IPFamilies))
	for _, f := range s.Spec.IPFamilies {
		families = append(families, string(f))
	}
	d.w(0, "IP Families:\t%s\n", orNone(strings.Join(families, ",")))
	d.w(0, "IP:\t%s\n", s.Spec.ClusterIP)
	if len(s.Spec.ClusterIPs) > 0 {
		d.w(0, "IPs:\t%s\n", strings.Join(s.Spec.ClusterIPs, ","))
	}
	if len(s.Spec.ExternalIPs) > 0 {
		d.w(0, "External IPs:\t%s\n", strings.Join(s.Spec.ExternalIPs, ","))
	}
	if s.Spec.LoadBalancerIP != "" {
		d.w(0, "IP:\t%s\n", s.Spec.LoadBalancerIP)
	}
	if len(s.Status.LoadBalancer.Ingress) > 0 {
		d.w(0, "LoadBalancer Ingress:\t%s\n", loadBalancerIngress(s.Status.LoadBalancer.Ingress))
	}
	if s.Spec.Type == corev1.ServiceTypeExternalName {
		d.w(0, "External Name:\t%s\n", s.Spec.ExternalName)
	}
	for _, p := range s.Spec.Ports {
		name := p.Name
		if name == "" {
			name = unset
		}
		proto := protocolOr(p.Protocol)
		d.w(0, "Port:\t%s\t%d/%s\n", name, p.Port, proto)
		target := p.TargetPort
		if target.Type == intstr.Int && target.IntVal == 0 {
			target = intstr.FromInt32(p.Port)
		}
		d.w(0, "TargetPort:\t%s/%s\n", target.String(), proto)
		if p.NodePort != 0 {
			d.w(0, "NodePort:\t%s\t%d/%s\n", name, p.NodePort, proto)
		}
		d.w(0, "Endpoints:\t%s\n", formatEndpoints(d.rel.Endpoints, map[string]bool{p.Name: true}))
	}
	affinity := s.Spec.SessionAffinity
	if affinity == "" {
		affinity = corev1.ServiceAffinityNone
	}
	d.w(0, "Session Affinity:\t%s\n", affinity)
	if s.Spec.ExternalTrafficPolicy != "" {
		d.w(0, "External Traffic Policy:\t%s\n", s.Spec.ExternalTrafficPolicy)
	}
	if s.Spec.InternalTrafficPolicy != nil {
		d.w(0, "Internal Traffic Policy:\t%s\n", *s.Spec.InternalTrafficPolicy)
	}
	if s.Spec.HealthCheckNodePort != 0 {
		d.w(0, "HealthCheck NodePort:\t%d\n", s.Spec.HealthCheckNodePort)
	}
	d.events()
}
