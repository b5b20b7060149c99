package endpoints_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/api"
	"github.com/strom-project/strom/test/clustertest"
	"github.com/strom-project/strom/test/logtest"
)

func do(t *testing.T, c *api.Client, verb string, obj string) {
	t.Helper()
	if _, err := c.Do(context.Background(), verb, &api.Request{Object: json.RawMessage(obj)}); err != nil {
		t.Fatalf("%s %s: %v", verb, obj, err)
	}
}

func endpoints(c *api.Client, name string) (*corev1.Endpoints, error) {
	resp, err := c.Do(context.Background(), api.VerbGet, &api.Request{Resource: "endpoints", Namespace: "default", Name: name})
	if err != nil {
		return nil, err
	}
	var ep corev1.Endpoints
	return &ep, json.Unmarshal(resp.Object, &ep)
}

// The reconciler in a real stromd: endpoints follow pods' readiness,
// user-written Endpoints of a selector-less Service stay, managed ones go
// with their Service.
func TestReconcilerInStromd(t *testing.T) {
	d := clustertest.StartStromd(t)
	c := clustertest.AdminClient(t, d)
	do(t, c, api.VerbApply, `{"apiVersion":"v1","kind":"Endpoints","metadata":{"name":"manual","namespace":"default"},"subsets":[{"addresses":[{"ip":"192.0.2.7"}],"ports":[{"port":80}]}]}`)
	do(t, c, api.VerbApply, `{"apiVersion":"v1","kind":"Service","metadata":{"name":"manual","namespace":"default"},"spec":{"ports":[{"port":80}]}}`)
	do(t, c, api.VerbApply, `{"apiVersion":"v1","kind":"Service","metadata":{"name":"web","namespace":"default"},"spec":{"selector":{"app":"web"},"ports":[{"name":"http","port":80,"targetPort":"http"}]}}`)
	pod := func(name, ip, ready string) string {
		return fmt.Sprintf(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":%q,"namespace":"default","labels":{"app":"web"}},
"spec":{"nodeName":"ghost","containers":[{"name":"c","image":"x","ports":[{"name":"http","containerPort":8080}]}]},
"status":{"phase":"Running","podIP":%q,"conditions":[{"type":"Ready","status":%q}]}}`, name, ip, ready)
	}
	do(t, c, api.VerbCreate, pod("a", "10.42.0.2", "True"))
	do(t, c, api.VerbCreate, pod("b", "10.42.0.3", "False"))
	check := func(wantReady, wantNotReady string) {
		t.Helper()
		logtest.Eventually(t, 5*time.Second, func() error {
			ep, err := endpoints(c, "web")
			if err != nil {
				return err
			}
			var ready, notReady []string
			for _, ss := range ep.Subsets {
				for _, a := range ss.Addresses {
					ready = append(ready, a.IP)
				}
				for _, a := range ss.NotReadyAddresses {
					notReady = append(notReady, a.IP)
				}
				if len(ss.Ports) != 1 || ss.Ports[0].Port != 8080 {
					return fmt.Errorf("ports %+v", ss.Ports)
				}
			}
			if fmt.Sprint(ready) != wantReady || fmt.Sprint(notReady) != wantNotReady {
				return fmt.Errorf("ready %v notReady %v, want %s %s", ready, notReady, wantReady, wantNotReady)
			}
			return nil
		})
	}
	check("[10.42.0.2]", "[10.42.0.3]")
	do(t, c, api.VerbStatus, pod("b", "10.42.0.3", "True"))
	check("[10.42.0.2 10.42.0.3]", "[]")
	if _, err := c.Do(context.Background(), api.VerbDelete, &api.Request{Resource: "pods", Namespace: "default", Name: "a"}); err != nil {
		t.Fatal(err)
	}
	check("[10.42.0.3]", "[]")

	// The selector-less Service's Endpoints are the user's, unchanged.
	ep, err := endpoints(c, "manual")
	if err != nil || len(ep.Subsets) != 1 || ep.Subsets[0].Addresses[0].IP != "192.0.2.7" {
		t.Fatalf("user-written endpoints changed: %v %+v", err, ep)
	}
	// A managed Endpoints goes with its Service.
	if _, err := c.Do(context.Background(), api.VerbDelete, &api.Request{Resource: "services", Namespace: "default", Name: "web"}); err != nil {
		t.Fatal(err)
	}
	logtest.Eventually(t, 5*time.Second, func() error {
		_, err := endpoints(c, "web")
		if events.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("endpoints web still there: %v", err)
	})
	if _, err := endpoints(c, "manual"); err != nil {
		t.Fatalf("user-written endpoints: %v", err)
	}
}
