package projections

import (
	"strings"
	"testing"
)

// Object fields are read from the stored JSON and formatted as Kubernetes
// formats selectable fields; a field the object leaves out is its zero.
func TestObjectFieldSelectors(t *testing.T) {
	pod := &Entry{Resource: "pods", Namespace: "default", Name: "web-1", NodeName: "n1",
		Data: []byte(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web-1","namespace":"default"},"spec":{"nodeName":"n1","restartPolicy":"Always","containers":[{"name":"c","image":"x"}]},"status":{"phase":"Running","podIP":"10.42.0.7"}}`)}
	ev := &Entry{Resource: "events", Namespace: "default", Name: "web-1.1",
		Data: []byte(`{"apiVersion":"v1","kind":"Event","metadata":{"name":"web-1.1","namespace":"default"},"involvedObject":{"kind":"Pod","namespace":"default","name":"web-1","uid":"u1"},"reason":"Started","type":"Normal","source":{"component":"kubelet","host":"n1"},"reportingComponent":"kubelet"}`)}
	node := &Entry{Resource: "nodes", Name: "n1", Data: []byte(`{"apiVersion":"v1","kind":"Node","metadata":{"name":"n1"},"spec":{}}`)}
	rs := &Entry{Resource: "replicasets", Namespace: "default", Name: "web", Data: []byte(`{"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":"web"},"status":{"replicas":3}}`)}
	tests := []struct {
		e    *Entry
		sel  string
		want bool
	}{
		{pod, "status.phase=Running", true},
		{pod, "status.phase!=Running", false},
		{pod, "status.phase=Pending,spec.nodeName=n1", false},
		{pod, "status.podIP=10.42.0.7,spec.restartPolicy=Always", true},
		{pod, "spec.hostNetwork=false", true}, // left out: false
		{pod, "status.nominatedNodeName=", true},
		{ev, "involvedObject.name=web-1,involvedObject.namespace=default,involvedObject.uid=u1", true},
		{ev, "involvedObject.kind=Node", false},
		{ev, "source=kubelet,reason=Started,type=Normal,reportingComponent=kubelet", true},
		{ev, "involvedObject.fieldPath=", true},
		{node, "spec.unschedulable=false", true},
		{node, "spec.unschedulable=true", false},
		{rs, "status.replicas=3", true},
		{rs, "metadata.name=web,status.replicas!=0", true},
	}
	for _, tt := range tests {
		sel, err := ParseFieldSelector(tt.e.Resource, tt.sel)
		if err != nil {
			t.Fatalf("%s %q: %v", tt.e.Resource, tt.sel, err)
		}
		q := Query{Resource: tt.e.Resource, Fields: sel}
		if got := q.Matches(tt.e); got != tt.want {
			t.Errorf("%s %q matches %v, want %v", tt.e.Resource, tt.sel, got, tt.want)
		}
	}
	// A key another resource supports is refused, naming what this one
	// supports.
	_, err := ParseFieldSelector("configmaps", "status.phase=Running")
	if err == nil || !strings.Contains(err.Error(), `field "status.phase" is not supported for configmaps`) || !strings.Contains(err.Error(), "metadata.name") {
		t.Fatalf("status.phase on configmaps: %v", err)
	}
	if _, err := ParseFieldSelector("pods", "status.phase=Running"); err != nil {
		t.Fatal(err)
	}
	// An object that cannot be decoded matches only the zero values.
	broken := &Entry{Resource: "secrets", Name: "s", Data: []byte("sealed")}
	for sel, want := range map[string]bool{"type=Opaque": false, "type=": true} {
		fs, _ := ParseFieldSelector("secrets", sel)
		if got := (&Query{Resource: "secrets", Fields: fs}).Matches(broken); got != want {
			t.Errorf("undecodable secret %q: %v, want %v", sel, got, want)
		}
	}
}
