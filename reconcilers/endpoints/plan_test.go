package endpoints

import (
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func svc(ports ...corev1.ServicePort) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec:       corev1.ServiceSpec{Selector: map[string]string{"app": "web"}, Ports: ports},
	}
}

type podOpt func(*corev1.Pod)

func pod(name, ip string, ready bool, opts ...podOpt) *corev1.Pod {
	st := corev1.ConditionFalse
	if ready {
		st = corev1.ConditionTrue
	}
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", UID: types.UID("uid-" + name), Labels: map[string]string{"app": "web"}},
		Spec: corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{{Name: "c",
			Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP}}}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: st}}},
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

func ips(as []corev1.EndpointAddress) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.IP)
	}
	return out
}

func TestDesiredReadyAndNotReady(t *testing.T) {
	s := svc(corev1.ServicePort{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromString("http")})
	other := pod("other", "10.42.0.9", true, func(p *corev1.Pod) { p.Labels = map[string]string{"app": "db"} })
	gone := pod("gone", "10.42.0.8", true, func(p *corev1.Pod) { now := metav1.Now(); p.DeletionTimestamp = &now })
	done := pod("done", "10.42.0.7", true, func(p *corev1.Pod) { p.Status.Phase = corev1.PodSucceeded })
	noIP := pod("noip", "", false)
	res := Desired(s, []*corev1.Pod{pod("b", "10.42.0.3", true), pod("a", "10.42.0.2", true), pod("c", "10.42.0.4", false), other, gone, done, noIP})
	if len(res.Subsets) != 1 {
		t.Fatalf("subsets: %+v", res.Subsets)
	}
	ss := res.Subsets[0]
	if got := ips(ss.Addresses); !reflect.DeepEqual(got, []string{"10.42.0.2", "10.42.0.3"}) {
		t.Errorf("addresses %v", got)
	}
	if got := ips(ss.NotReadyAddresses); !reflect.DeepEqual(got, []string{"10.42.0.4"}) {
		t.Errorf("notReadyAddresses %v", got)
	}
	if !reflect.DeepEqual(ss.Ports, []corev1.EndpointPort{{Name: "http", Port: 8080, Protocol: corev1.ProtocolTCP}}) {
		t.Errorf("ports %+v", ss.Ports)
	}
	a := ss.Addresses[0]
	if a.NodeName == nil || *a.NodeName != "n1" || a.TargetRef == nil || a.TargetRef.Name != "a" || a.TargetRef.UID != "uid-a" {
		t.Errorf("address fields: %+v", a)
	}
	if len(res.Unresolved) != 0 {
		t.Errorf("unresolved %v", res.Unresolved)
	}
	s.Spec.PublishNotReadyAddresses = true
	res = Desired(s, []*corev1.Pod{pod("c", "10.42.0.4", false)})
	if got := ips(res.Subsets[0].Addresses); !reflect.DeepEqual(got, []string{"10.42.0.4"}) || len(res.Subsets[0].NotReadyAddresses) != 0 {
		t.Errorf("publishNotReadyAddresses: %+v", res.Subsets)
	}
}

func TestDesiredNamedPortsPerPod(t *testing.T) {
	s := svc(
		corev1.ServicePort{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromString("http")},
		corev1.ServicePort{Name: "metrics", Port: 9090, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromString("nope")},
	)
	p2 := pod("b", "10.42.0.3", true, func(p *corev1.Pod) { p.Spec.Containers[0].Ports[0].ContainerPort = 9000 })
	res := Desired(s, []*corev1.Pod{pod("a", "10.42.0.2", true), p2})
	if len(res.Subsets) != 2 {
		t.Fatalf("want one subset per distinct port set, got %+v", res.Subsets)
	}
	got := map[int32][]string{}
	for _, ss := range res.Subsets {
		if len(ss.Ports) != 1 || ss.Ports[0].Name != "http" {
			t.Fatalf("ports %+v: the unresolvable port must have no endpoints", ss.Ports)
		}
		got[ss.Ports[0].Port] = ips(ss.Addresses)
	}
	if !reflect.DeepEqual(got, map[int32][]string{8080: {"10.42.0.2"}, 9000: {"10.42.0.3"}}) {
		t.Errorf("per-pod resolution: %v", got)
	}
	if len(res.Unresolved) != 1 || !strings.Contains(res.Unresolved[0], `"nope"`) {
		t.Errorf("unresolved %v", res.Unresolved)
	}
}

func TestDesiredHeadlessHostnameAndEmpty(t *testing.T) {
	s := svc()
	s.Spec.ClusterIP = corev1.ClusterIPNone
	withHost := pod("a", "10.42.0.2", true, func(p *corev1.Pod) { p.Spec.Hostname = "db-0"; p.Spec.Subdomain = "web" })
	wrongSub := pod("b", "10.42.0.3", true, func(p *corev1.Pod) { p.Spec.Hostname = "db-1"; p.Spec.Subdomain = "other" })
	res := Desired(s, []*corev1.Pod{withHost, wrongSub})
	if len(res.Subsets) != 1 || len(res.Subsets[0].Addresses) != 2 {
		t.Fatalf("headless without ports keeps addresses: %+v", res.Subsets)
	}
	if h := res.Subsets[0].Addresses[0].Hostname; h != "db-0" {
		t.Errorf("hostname %q, want db-0", h)
	}
	if h := res.Subsets[0].Addresses[1].Hostname; h != "" {
		t.Errorf("hostname %q for a pod of another subdomain", h)
	}
	if res := Desired(svc(corev1.ServicePort{Port: 80}), nil); len(res.Subsets) != 0 {
		t.Errorf("no pods: %+v", res.Subsets)
	}
	noSel := svc(corev1.ServicePort{Port: 80})
	noSel.Spec.Selector = nil
	if res := Desired(noSel, []*corev1.Pod{pod("a", "10.42.0.2", true)}); len(res.Subsets) != 0 {
		t.Errorf("a service without selector selects nothing: %+v", res.Subsets)
	}
}
