package daemonsetctl

import (
	"encoding/json"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/strom-project/strom/events"
)

func TestNodeFilter(t *testing.T) {
	var f nodeFilter
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1", Labels: map[string]string{"a": "1"}},
		Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}}}
	ev := func(typ events.Type) *events.Event {
		data, _ := json.Marshal(node)
		return &events.Event{Type: typ, Resource: "nodes", Name: node.Name, Object: data}
	}
	step := func(name string, typ events.Type, want bool) {
		t.Helper()
		if got := f.changed(ev(typ)); got != want {
			t.Fatalf("%s: changed %v, want %v", name, got, want)
		}
	}
	step("new node", events.TypeCreated, true)
	step("same node", events.TypeStatusUpdated, false)
	node.Status.Conditions[0].LastHeartbeatTime = metav1.Now()
	node.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "10.0.0.1"}}
	step("heartbeat and addresses", events.TypeStatusUpdated, false)
	node.Spec.Taints = []corev1.Taint{{Key: "k", Effect: corev1.TaintEffectNoSchedule}}
	step("taint", events.TypeUpdated, true)
	node.Labels["a"] = "2"
	step("label", events.TypeUpdated, true)
	node.Spec.Unschedulable = true
	step("cordon", events.TypeUpdated, true)
	node.Status.Conditions[0].Status = corev1.ConditionFalse
	step("not ready", events.TypeStatusUpdated, true)
	step("deleted", events.TypeDeleted, true)
	step("back", events.TypeCreated, true)
}
