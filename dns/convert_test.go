package dns

import (
	"net/netip"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestFromService(t *testing.T) {
	cases := []struct {
		name string
		in   corev1.Service
		want Service
	}{
		{"dual-stack ClusterIP", corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web"},
			Spec: corev1.ServiceSpec{ClusterIP: "10.96.0.1", ClusterIPs: []string{"10.96.0.1", "fd00::1"},
				Ports: []corev1.ServicePort{{Name: "http", Port: 80}, {Name: "dns", Protocol: corev1.ProtocolUDP, Port: 53}}},
		}, Service{Namespace: "ns", Name: "web", Type: TypeClusterIP,
			ClusterIPs: []netip.Addr{ip("10.96.0.1"), ip("fd00::1")},
			Ports:      []Port{{Name: "http", Protocol: "TCP", Port: 80}, {Name: "dns", Protocol: "UDP", Port: 53}}}},
		{"headless with publishNotReadyAddresses", corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "db"},
			Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, ClusterIP: "None", PublishNotReadyAddresses: true},
		}, Service{Namespace: "ns", Name: "db", Type: TypeClusterIP, Headless: true, PublishNotReadyAddresses: true}},
		{"legacy tolerate-unready annotation", corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "db", Annotations: map[string]string{tolerateUnreadyAnnotation: "true"}},
			Spec:       corev1.ServiceSpec{ClusterIPs: []string{"None"}},
		}, Service{Namespace: "ns", Name: "db", Type: TypeClusterIP, Headless: true, PublishNotReadyAddresses: true}},
		{"ExternalName", corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "ext"},
			Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "db.example.com"},
		}, Service{Namespace: "ns", Name: "ext", Type: TypeExternalName, ExternalName: "db.example.com"}},
		{"NodePort keeps its clusterIP", corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "np"},
			Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, ClusterIP: "10.96.0.7", Ports: []corev1.ServicePort{{Port: 80, NodePort: 30080}}},
		}, Service{Namespace: "ns", Name: "np", Type: TypeNodePort, ClusterIPs: []netip.Addr{ip("10.96.0.7")},
			Ports: []Port{{Protocol: "TCP", Port: 80}}}},
	}
	for _, c := range cases {
		got, err := FromService(&c.in)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Fatalf("%s:\n got %+v\nwant %+v", c.name, got, c.want)
		}
	}
	if _, err := FromService(&corev1.Service{Spec: corev1.ServiceSpec{ClusterIP: "not-an-ip"}}); err == nil {
		t.Fatal("an invalid clusterIP was accepted")
	}
}

func TestFromEndpoints(t *testing.T) {
	node := "node-1"
	in := corev1.Endpoints{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "db"},
		Subsets: []corev1.EndpointSubset{{
			Addresses:         []corev1.EndpointAddress{{IP: "10.1.0.1", Hostname: "db-0", NodeName: &node}, {IP: "fd00::2"}},
			NotReadyAddresses: []corev1.EndpointAddress{{IP: "10.1.0.3"}},
			Ports:             []corev1.EndpointPort{{Name: "pg", Port: 5432}, {Name: "m", Protocol: corev1.ProtocolSCTP, Port: 9}},
		}},
	}
	want := Endpoints{Namespace: "ns", Name: "db", Subsets: []Subset{{
		Addresses:         []Address{{IP: ip("10.1.0.1"), Hostname: "db-0", NodeName: "node-1"}, {IP: ip("fd00::2")}},
		NotReadyAddresses: []Address{{IP: ip("10.1.0.3")}},
		Ports:             []Port{{Name: "pg", Protocol: "TCP", Port: 5432}, {Name: "m", Protocol: "SCTP", Port: 9}},
	}}}
	got, err := FromEndpoints(&in)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("\n got %+v\nwant %+v", got, want)
	}
	in.Subsets[0].NotReadyAddresses[0].IP = "bogus"
	if _, err := FromEndpoints(&in); err == nil {
		t.Fatal("an invalid endpoint IP was accepted")
	}
}

// TestConvertedObjectsServe runs converted objects through the store: the
// SCTP port gets its own SRV name.
func TestConvertedObjectsServe(t *testing.T) {
	s := mustStore(t)
	svc, err := FromService(&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "db"}, Spec: corev1.ServiceSpec{ClusterIP: "None"}})
	if err != nil {
		t.Fatal(err)
	}
	eps, err := FromEndpoints(&corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "db"},
		Subsets: []corev1.EndpointSubset{{Addresses: []corev1.EndpointAddress{{IP: "10.1.0.1", Hostname: "db-0"}},
			Ports: []corev1.EndpointPort{{Name: "m", Protocol: corev1.ProtocolSCTP, Port: 9}}}}})
	if err != nil {
		t.Fatal(err)
	}
	mustUpsertService(t, s, svc)
	mustUpsertEndpoints(t, s, eps)
	checkAnswer(t, ask(t, s, "_m._sctp.db.ns.svc.cluster.local.", 33), 0, "_m._sctp.db.ns.svc.cluster.local. SRV 0 100 9 db-0.db.ns.svc.cluster.local.")
}
