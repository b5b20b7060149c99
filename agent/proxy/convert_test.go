package proxy

import (
	"net/netip"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestFromService(t *testing.T) {
	timeout := int32(60)
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "cart"},
		Spec: corev1.ServiceSpec{
			Type:            corev1.ServiceTypeLoadBalancer,
			ClusterIP:       "10.96.3.3",
			ExternalIPs:     []string{"192.0.2.1", "not-an-ip"},
			SessionAffinity: corev1.ServiceAffinityClientIP,
			SessionAffinityConfig: &corev1.SessionAffinityConfig{
				ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: &timeout}},
			Ports: []corev1.ServicePort{
				{Name: "http", Protocol: corev1.ProtocolTCP, Port: 80, NodePort: 30080},
				{Name: "dns", Protocol: corev1.ProtocolUDP, Port: 53},
			},
		},
		Status: corev1.ServiceStatus{LoadBalancer: corev1.LoadBalancerStatus{
			Ingress: []corev1.LoadBalancerIngress{{IP: "198.51.100.1"}, {Hostname: "lb.example"}}}},
	}
	ep := &corev1.Endpoints{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "cart"},
		Subsets: []corev1.EndpointSubset{
			{
				Addresses:         []corev1.EndpointAddress{{IP: "10.244.1.1"}, {IP: "10.244.1.2"}},
				NotReadyAddresses: []corev1.EndpointAddress{{IP: "10.244.1.3"}},
				Ports: []corev1.EndpointPort{
					{Name: "dns", Protocol: corev1.ProtocolUDP, Port: 5353},
					{Name: "http", Port: 8080}, // protocol defaults to TCP
					{Name: "dns", Protocol: corev1.ProtocolTCP, Port: 9999},
				},
			},
			{ // a subset without the dns port
				Addresses: []corev1.EndpointAddress{{IP: "10.244.2.1"}},
				Ports:     []corev1.EndpointPort{{Name: "http", Protocol: corev1.ProtocolTCP, Port: 8081}},
			},
		},
	}
	got := FromService(svc, ep)
	if len(got) != 2 {
		t.Fatalf("got %d service ports, want 2", len(got))
	}
	http, dns := got[0], got[1]
	if http.Key() != "shop/cart:http/tcp" || dns.Key() != "shop/cart:dns/udp" {
		t.Fatalf("keys %q %q", http.Key(), dns.Key())
	}
	if http.ClusterIP != netip.MustParseAddr("10.96.3.3") || http.Port != 80 || http.NodePort != 30080 {
		t.Errorf("http port: %+v", http)
	}
	if !slices.Equal(http.ExternalIPs, []netip.Addr{netip.MustParseAddr("192.0.2.1")}) {
		t.Errorf("external IPs %v", http.ExternalIPs)
	}
	if !slices.Equal(http.LoadBalancerIPs, []netip.Addr{netip.MustParseAddr("198.51.100.1")}) {
		t.Errorf("LB IPs %v", http.LoadBalancerIPs)
	}
	if !http.SessionAffinityClientIP || http.AffinityTimeoutSeconds != 60 {
		t.Errorf("affinity %v %d", http.SessionAffinityClientIP, http.AffinityTimeoutSeconds)
	}
	wantHTTP := []Endpoint{
		{IP: netip.MustParseAddr("10.244.1.1"), Port: 8080, Ready: true},
		{IP: netip.MustParseAddr("10.244.1.2"), Port: 8080, Ready: true},
		{IP: netip.MustParseAddr("10.244.1.3"), Port: 8080, Ready: false},
		{IP: netip.MustParseAddr("10.244.2.1"), Port: 8081, Ready: true},
	}
	if !slices.Equal(http.Endpoints, wantHTTP) {
		t.Errorf("http endpoints\n got %v\nwant %v", http.Endpoints, wantHTTP)
	}
	if len(dns.Endpoints) != 3 || dns.Endpoints[0].Port != 5353 {
		t.Errorf("dns endpoints %v, want the three addresses of subset 1 on 5353", dns.Endpoints)
	}
}

func TestFromServiceEdgeCases(t *testing.T) {
	headless := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "h"},
		Spec:       corev1.ServiceSpec{ClusterIP: "None", Ports: []corev1.ServicePort{{Port: 80}}},
	}
	got := FromService(headless, nil)
	if len(got) != 1 || got[0].ClusterIP.IsValid() || got[0].Protocol != "TCP" || got[0].Endpoints != nil {
		t.Fatalf("headless: %+v", got)
	}
	if nat, _ := Render(got, Config{}); bytesContains(nat, prefixService) {
		t.Errorf("headless service got rules:\n%s", nat)
	}
	ext := &corev1.Service{Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "x.example",
		Ports: []corev1.ServicePort{{Port: 80}}}}
	if got := FromService(ext, nil); got != nil {
		t.Errorf("ExternalName: %+v", got)
	}
	plain := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "p"},
		Spec:       corev1.ServiceSpec{ClusterIP: "10.96.0.2", Ports: []corev1.ServicePort{{Port: 80}}},
	}
	got = FromService(plain, &corev1.Endpoints{Subsets: []corev1.EndpointSubset{{
		Addresses: []corev1.EndpointAddress{{IP: "10.244.0.9"}}, Ports: []corev1.EndpointPort{{Port: 8000}}}}})
	if len(got) != 1 || got[0].SessionAffinityClientIP || len(got[0].Endpoints) != 1 || got[0].Endpoints[0].Port != 8000 {
		t.Errorf("unnamed single port: %+v", got)
	}
}
