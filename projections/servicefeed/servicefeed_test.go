package servicefeed_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	corev1 "k8s.io/api/core/v1"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/api"
	"github.com/strom-project/strom/test/clustertest"
)

// stromd publishes Service and Endpoints changes, with the object, and
// deletions without it.
func TestFeedCarriesServicesAndEndpoints(t *testing.T) {
	d := clustertest.StartStromd(t)
	c := clustertest.AdminClient(t, d)
	msgs := make(chan *api.ServiceFeedMessage, 64)
	sub, err := d.Conn().Subscribe(api.ServiceFeedSubject, func(m *nats.Msg) {
		var msg api.ServiceFeedMessage
		if err := json.Unmarshal(m.Data, &msg); err == nil {
			msgs <- &msg
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	ctx := context.Background()
	ep := `{"apiVersion":"v1","kind":"Endpoints","metadata":{"name":"manual","namespace":"default"},"subsets":[{"addresses":[{"ip":"10.42.0.7"}],"ports":[{"port":80}]}]}`
	svc := `{"apiVersion":"v1","kind":"Service","metadata":{"name":"manual","namespace":"default"},"spec":{"ports":[{"port":80}]}}`
	for _, o := range []string{ep, svc} {
		if _, err := c.Do(ctx, api.VerbApply, &api.Request{Object: json.RawMessage(o)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Do(ctx, api.VerbDelete, &api.Request{Resource: "services", Namespace: "default", Name: "manual"}); err != nil {
		t.Fatal(err)
	}
	want := []struct {
		resource string
		typ      events.Type
	}{{"endpoints", events.TypeCreated}, {"services", events.TypeCreated}, {"services", events.TypeDeleted}}
	for _, w := range want {
		var m *api.ServiceFeedMessage
		for m == nil || m.Resource != w.resource || m.Type != w.typ {
			select {
			case m = <-msgs:
			case <-time.After(5 * time.Second):
				t.Fatalf("no %s %s message on the feed", w.resource, w.typ)
			}
		}
		if m.Name != "manual" || m.Namespace != "default" || m.Seq == 0 {
			t.Fatalf("message %+v", m)
		}
		if w.typ == events.TypeDeleted {
			if len(m.Object) != 0 {
				t.Fatalf("deletion carries an object: %s", m.Object)
			}
			continue
		}
		if w.resource == "services" {
			var s corev1.Service
			if err := json.Unmarshal(m.Object, &s); err != nil || s.Spec.ClusterIP == "" || s.ResourceVersion == "" {
				t.Fatalf("service in feed: %v %s", err, m.Object)
			}
		}
	}
}
