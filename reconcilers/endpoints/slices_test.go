package endpoints

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/strom-project/strom/events/objects"
)

func node(name, zone string) *corev1.Node {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if zone != "" {
		n.Labels = map[string]string{corev1.LabelTopologyZone: zone}
	}
	return n
}

var nodes = map[string]*corev1.Node{"n1": node("n1", "zone-a"), "n2": node("n2", "")}

func httpSvc() *corev1.Service {
	s := svc(corev1.ServicePort{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromString("http")})
	s.UID = "svc-uid"
	return s
}

// conds renders an endpoint as "ip ready/serving/terminating node zone".
func conds(e discoveryv1.Endpoint) string {
	b := func(p *bool) string {
		if p == nil {
			return "?"
		}
		return fmt.Sprint(*p)
	}
	s := func(p *string) string {
		if p == nil {
			return "-"
		}
		return *p
	}
	c := e.Conditions
	return fmt.Sprintf("%s %s/%s/%s %s %s", strings.Join(e.Addresses, ","), b(c.Ready), b(c.Serving), b(c.Terminating), s(e.NodeName), s(e.Zone))
}

func sliceEndpoints(ss []*discoveryv1.EndpointSlice) []string {
	var out []string
	for _, s := range ss {
		for _, e := range s.Endpoints {
			out = append(out, conds(e))
		}
	}
	return out
}

func TestDesiredSlicesEndpoints(t *testing.T) {
	deleting := func(p *corev1.Pod) { now := metav1.Now(); p.DeletionTimestamp = &now }
	for _, c := range []struct {
		name    string
		publish bool
		pods    []*corev1.Pod
		want    []string
	}{
		{name: "ready and not ready", pods: []*corev1.Pod{pod("b", "10.42.0.3", false), pod("a", "10.42.0.2", true)},
			want: []string{"10.42.0.2 true/true/false n1 zone-a", "10.42.0.3 false/false/false n1 zone-a"}},
		{name: "terminating pods stay, not ready", pods: []*corev1.Pod{pod("a", "10.42.0.2", true, deleting), pod("b", "10.42.0.3", false, deleting)},
			want: []string{"10.42.0.2 false/true/true n1 zone-a", "10.42.0.3 false/false/true n1 zone-a"}},
		{name: "publishNotReadyAddresses", publish: true, pods: []*corev1.Pod{pod("a", "10.42.0.2", false, deleting)},
			want: []string{"10.42.0.2 true/true/true n1 zone-a"}},
		{name: "node without zone", pods: []*corev1.Pod{pod("a", "10.42.0.2", true, func(p *corev1.Pod) { p.Spec.NodeName = "n2" })},
			want: []string{"10.42.0.2 true/true/false n2 -"}},
		{name: "left out: other labels, finished, no address, IPv6 only, unknown node", pods: []*corev1.Pod{
			pod("other", "10.42.0.9", true, func(p *corev1.Pod) { p.Labels = map[string]string{"app": "db"} }),
			pod("done", "10.42.0.8", true, func(p *corev1.Pod) { p.Status.Phase = corev1.PodSucceeded }),
			pod("failed", "10.42.0.7", true, func(p *corev1.Pod) { p.Status.Phase = corev1.PodFailed }),
			pod("noip", "", true),
			pod("v6", "fd00::5", true),
			pod("ghost", "10.42.0.6", true, func(p *corev1.Pod) { p.Spec.NodeName = "gone" }),
		}, want: nil},
		{name: "dual-stack pod: its IPv4 address", pods: []*corev1.Pod{pod("a", "fd00::2", true, func(p *corev1.Pod) {
			p.Status.PodIPs = []corev1.PodIP{{IP: "fd00::2"}, {IP: "10.42.0.2"}}
		})}, want: []string{"10.42.0.2 true/true/false n1 zone-a"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := httpSvc()
			s.Spec.PublishNotReadyAddresses = c.publish
			got := DesiredSlices(s, c.pods, nodes, 0)
			if len(got) != 1 {
				t.Fatalf("want one slice, got %d", len(got))
			}
			if e := sliceEndpoints(got); !reflect.DeepEqual(e, c.want) {
				t.Errorf("endpoints\n got  %q\n want %q", e, c.want)
			}
		})
	}
}

func TestDesiredSlicesShape(t *testing.T) {
	s := httpSvc()
	s.Labels = map[string]string{"team": "web", discoveryv1.LabelManagedBy: "someone-else", corev1.IsHeadlessService: ""}
	host := pod("a", "10.42.0.2", true, func(p *corev1.Pod) { p.Spec.Hostname = "web-0"; p.Spec.Subdomain = "web" })
	got := DesiredSlices(s, []*corev1.Pod{host}, nodes, 0)
	if len(got) != 1 {
		t.Fatalf("slices: %d", len(got))
	}
	sl := got[0]
	if !strings.HasPrefix(sl.Name, "web-") || len(sl.Name) != len("web-")+5 || sl.Namespace != "default" || sl.GenerateName != "" {
		t.Errorf("name %q namespace %q", sl.Name, sl.Namespace)
	}
	wantLabels := map[string]string{"team": "web", discoveryv1.LabelServiceName: "web", discoveryv1.LabelManagedBy: "endpointslice-controller.k8s.io"}
	if !reflect.DeepEqual(sl.Labels, wantLabels) {
		t.Errorf("labels %v, want %v", sl.Labels, wantLabels)
	}
	yes := true
	wantOwner := []metav1.OwnerReference{{APIVersion: "v1", Kind: "Service", Name: "web", UID: "svc-uid", Controller: &yes, BlockOwnerDeletion: &yes}}
	if !reflect.DeepEqual(sl.OwnerReferences, wantOwner) {
		t.Errorf("owners %+v", sl.OwnerReferences)
	}
	if sl.AddressType != discoveryv1.AddressTypeIPv4 {
		t.Errorf("address type %s", sl.AddressType)
	}
	tcp, name, port := corev1.ProtocolTCP, "http", int32(8080)
	if want := []discoveryv1.EndpointPort{{Name: &name, Protocol: &tcp, Port: &port}}; !reflect.DeepEqual(sl.Ports, want) {
		t.Errorf("ports %+v", sl.Ports)
	}
	e := sl.Endpoints[0]
	if e.Hostname == nil || *e.Hostname != "web-0" {
		t.Errorf("hostname %v", e.Hostname)
	}
	if want := (&corev1.ObjectReference{Kind: "Pod", Namespace: "default", Name: "a", UID: "uid-a"}); !reflect.DeepEqual(e.TargetRef, want) {
		t.Errorf("targetRef %+v", e.TargetRef)
	}
	// The write path accepts it as it is.
	objects.Default(sl)
	if errs := objects.ValidateWrite(sl); len(errs) > 0 {
		t.Errorf("slice invalid: %v", errs.ToAggregate())
	}
	if w := objects.Warnings(sl); len(w) > 0 {
		t.Errorf("controller's slice warns: %q", w)
	}

	s.Spec.ClusterIP = corev1.ClusterIPNone
	if got := DesiredSlices(s, []*corev1.Pod{host}, nodes, 0); got[0].Labels[corev1.IsHeadlessService] != "" || len(got[0].Labels) != 4 {
		t.Errorf("headless service's slice labels %v", got[0].Labels)
	}
}

// TestDesiredSlicesGroupsAndChunks: one set of slices per port set the
// pods resolve, at most max endpoints each, named stably.
func TestDesiredSlicesGroupsAndChunks(t *testing.T) {
	s := httpSvc()
	var pods []*corev1.Pod
	for i := 0; i < 25; i++ {
		pods = append(pods, pod(fmt.Sprintf("p%02d", i), fmt.Sprintf("10.42.1.%d", i+10), true))
	}
	// Three pods name their http port differently: another port set.
	for i := 0; i < 3; i++ {
		pods = append(pods, pod(fmt.Sprintf("q%d", i), fmt.Sprintf("10.42.2.%d", i+10), true, func(p *corev1.Pod) {
			p.Spec.Containers[0].Ports[0].ContainerPort = 9000
		}))
	}
	// One pod has no port named http: it stays, in a slice without ports.
	pods = append(pods, pod("r", "10.42.3.10", true, func(p *corev1.Pod) { p.Spec.Containers[0].Ports[0].Name = "web" }))
	got := DesiredSlices(s, pods, nodes, 10)
	sizes := map[string][]int{}
	names := map[string]bool{}
	for _, sl := range got {
		key := "none"
		if len(sl.Ports) > 0 {
			key = fmt.Sprint(*sl.Ports[0].Port)
		}
		sizes[key] = append(sizes[key], len(sl.Endpoints))
		if names[sl.Name] {
			t.Errorf("name %s twice", sl.Name)
		}
		names[sl.Name] = true
	}
	if want := map[string][]int{"8080": {10, 10, 5}, "9000": {3}, "none": {1}}; !sameSizes(sizes, want) {
		t.Errorf("slice sizes %v, want %v", sizes, want)
	}
	if again := DesiredSlices(s, append([]*corev1.Pod(nil), pods...), nodes, 10); !equality.Semantic.DeepEqual(again, got) {
		t.Error("same state, different slices")
	}
	other := s.DeepCopy()
	other.UID = "another-uid"
	for _, sl := range DesiredSlices(other, pods, nodes, 10) {
		if names[sl.Name] {
			t.Errorf("a recreated service (new uid) reuses name %s", sl.Name)
		}
	}
}

func sameSizes(got, want map[string][]int) bool {
	if len(got) != len(want) {
		return false
	}
	for k, w := range want {
		g := append([]int(nil), got[k]...)
		sort.Sort(sort.Reverse(sort.IntSlice(g))) // slices are sorted by name, not size
		if !reflect.DeepEqual(g, w) {
			return false
		}
	}
	return true
}

func TestDesiredSlicesPlaceholderAndLongName(t *testing.T) {
	s := httpSvc()
	got := DesiredSlices(s, nil, nodes, 0)
	if len(got) != 1 || len(got[0].Endpoints) != 0 || len(got[0].Ports) != 0 {
		t.Fatalf("a service with no pods gets one empty slice, got %+v", got)
	}
	s.Name = strings.Repeat("a", 63)
	if n := DesiredSlices(s, nil, nodes, 0)[0].Name; len(n) != 63 || !strings.HasPrefix(n, strings.Repeat("a", 58)) {
		t.Errorf("long name %q (%d)", n, len(n))
	}
}

func TestPlanSlices(t *testing.T) {
	mk := func(name, ip string) *discoveryv1.EndpointSlice {
		return &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
			AddressType: discoveryv1.AddressTypeIPv4, Endpoints: []discoveryv1.Endpoint{{Addresses: []string{ip}}}}
	}
	stored := func(s *discoveryv1.EndpointSlice) *discoveryv1.EndpointSlice {
		s = s.DeepCopy()
		s.UID, s.ResourceVersion = types.UID("uid-"+s.Name), "7"
		s.Annotations = map[string]string{"note": "kept"}
		return s
	}
	want := []*discoveryv1.EndpointSlice{mk("same", "10.0.0.1"), mk("changed", "10.0.0.2"), mk("new", "10.0.0.3")}
	have := []*discoveryv1.EndpointSlice{stored(mk("same", "10.0.0.1")), stored(mk("changed", "10.0.0.9")), stored(mk("stale", "10.0.0.4"))}
	p := PlanSlices(want, have)
	names := func(ss []*discoveryv1.EndpointSlice) []string {
		var out []string
		for _, s := range ss {
			out = append(out, s.Name)
		}
		return out
	}
	if c, u, d := names(p.Create), names(p.Update), names(p.Delete); !reflect.DeepEqual(c, []string{"new"}) ||
		!reflect.DeepEqual(u, []string{"changed"}) || !reflect.DeepEqual(d, []string{"stale"}) {
		t.Fatalf("create %v update %v delete %v", c, u, d)
	}
	if u := p.Update[0]; u.UID != "uid-changed" || u.ResourceVersion != "7" || u.Annotations["note"] != "kept" || u.Endpoints[0].Addresses[0] != "10.0.0.2" {
		t.Errorf("update %+v", u)
	}
	if want[1].ResourceVersion != "" {
		t.Error("the plan changed a desired slice")
	}
	if !PlanSlices(want[:1], have[:1]).Empty() {
		t.Error("an unchanged slice is rewritten")
	}
	if p := PlanSlices(nil, have); len(p.Delete) != 3 || len(p.Create)+len(p.Update) != 0 {
		t.Errorf("no desired slices: %+v", p)
	}
}
