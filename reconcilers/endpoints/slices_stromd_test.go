package endpoints_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/strom-project/strom/events/api"
	"github.com/strom-project/strom/test/clustertest"
	"github.com/strom-project/strom/test/logtest"
)

func slicesOf(c *api.Client, svc string) ([]*discoveryv1.EndpointSlice, error) {
	resp, err := c.Do(context.Background(), api.VerbList, &api.Request{Resource: "endpointslices", Namespace: "default",
		LabelSelector: discoveryv1.LabelServiceName + "=" + svc})
	if err != nil {
		return nil, err
	}
	var out []*discoveryv1.EndpointSlice
	for _, it := range resp.Items {
		var s discoveryv1.EndpointSlice
		if err := json.Unmarshal(it, &s); err != nil {
			return nil, err
		}
		out = append(out, &s)
	}
	return out, nil
}

// describeSlices renders a service's slices as "ip ready/serving/terminating
// zone" per endpoint, sorted, after checking what every slice carries.
func describeSlices(ss []*discoveryv1.EndpointSlice, svcUID string) (string, error) {
	var eps []string
	for _, s := range ss {
		if s.Labels[discoveryv1.LabelManagedBy] != "endpointslice-controller.k8s.io" || s.AddressType != discoveryv1.AddressTypeIPv4 {
			return "", fmt.Errorf("slice %s: labels %v, address type %s", s.Name, s.Labels, s.AddressType)
		}
		if len(s.OwnerReferences) != 1 || string(s.OwnerReferences[0].UID) != svcUID {
			return "", fmt.Errorf("slice %s owners %+v, want the service %s", s.Name, s.OwnerReferences, svcUID)
		}
		if len(s.Endpoints) == 0 && len(s.Ports) == 0 {
			continue // the placeholder
		}
		if len(s.Ports) != 1 || *s.Ports[0].Port != 8080 || *s.Ports[0].Name != "http" || *s.Ports[0].Protocol != corev1.ProtocolTCP {
			return "", fmt.Errorf("slice %s ports %+v", s.Name, s.Ports)
		}
		for _, e := range s.Endpoints {
			c := e.Conditions
			zone := "-"
			if e.Zone != nil {
				zone = *e.Zone
			}
			eps = append(eps, fmt.Sprintf("%s %t/%t/%t %s", e.Addresses[0], *c.Ready, *c.Serving, *c.Terminating, zone))
		}
	}
	sort.Strings(eps)
	return strings.Join(eps, "; "), nil
}

// The endpointslice reconciler in a real stromd, through the write path:
// slices follow the pods' readiness and deletion, a deleted slice comes
// back under its name, a slice nobody manages is left alone (and warns),
// and the slices go with their Service.
func TestSlicesInStromd(t *testing.T) {
	d := clustertest.StartStromd(t)
	c := clustertest.AdminClient(t, d)
	do(t, c, api.VerbCreate, `{"apiVersion":"v1","kind":"Node","metadata":{"name":"n1","labels":{"topology.kubernetes.io/zone":"zone-a"}}}`)
	do(t, c, api.VerbApply, `{"apiVersion":"v1","kind":"Service","metadata":{"name":"web","namespace":"default"},"spec":{"selector":{"app":"web"},"ports":[{"name":"http","port":80,"targetPort":"http"}]}}`)
	resp, err := c.Do(context.Background(), api.VerbGet, &api.Request{Resource: "services", Namespace: "default", Name: "web"})
	if err != nil {
		t.Fatal(err)
	}
	var svc corev1.Service
	if err := json.Unmarshal(resp.Object, &svc); err != nil {
		t.Fatal(err)
	}
	pod := func(name, ip, ready string) string {
		return fmt.Sprintf(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":%q,"namespace":"default","labels":{"app":"web"}},
"spec":{"nodeName":"n1","containers":[{"name":"c","image":"x","ports":[{"name":"http","containerPort":8080}]}]},
"status":{"phase":"Running","podIP":%q,"conditions":[{"type":"Ready","status":%q}]}}`, name, ip, ready)
	}
	check := func(want string) []*discoveryv1.EndpointSlice {
		t.Helper()
		var ss []*discoveryv1.EndpointSlice
		logtest.Eventually(t, 5*time.Second, func() error {
			var err error
			if ss, err = slicesOf(c, "web"); err != nil {
				return err
			}
			got, err := describeSlices(ss, string(svc.UID))
			if err != nil {
				return err
			}
			if got != want {
				return fmt.Errorf("endpoints %q, want %q", got, want)
			}
			return nil
		})
		return ss
	}
	check("") // the placeholder of a service without pods
	do(t, c, api.VerbCreate, pod("a", "10.42.0.2", "True"))
	do(t, c, api.VerbCreate, pod("b", "10.42.0.3", "False"))
	check("10.42.0.2 true/true/false zone-a; 10.42.0.3 false/false/false zone-a")
	do(t, c, api.VerbStatus, pod("b", "10.42.0.3", "True"))
	check("10.42.0.2 true/true/false zone-a; 10.42.0.3 true/true/false zone-a")

	// A bound pod's delete marks it terminating; its node removes it.
	if _, err := c.Do(context.Background(), api.VerbDelete, &api.Request{Resource: "pods", Namespace: "default", Name: "a"}); err != nil {
		t.Fatal(err)
	}
	ss := check("10.42.0.2 false/true/true zone-a; 10.42.0.3 true/true/false zone-a")

	// A slice deleted by hand comes back, under the same name.
	if len(ss) != 1 {
		t.Fatalf("want one slice, got %d", len(ss))
	}
	name := ss[0].Name
	if _, err := c.Do(context.Background(), api.VerbDelete, &api.Request{Resource: "endpointslices", Namespace: "default", Name: name}); err != nil {
		t.Fatal(err)
	}
	if ss = check("10.42.0.2 false/true/true zone-a; 10.42.0.3 true/true/false zone-a"); ss[0].Name != name {
		t.Errorf("slice recreated as %s, want %s", ss[0].Name, name)
	}

	// A slice nobody manages, for a selector-less service, stays as written.
	do(t, c, api.VerbApply, `{"apiVersion":"v1","kind":"Service","metadata":{"name":"manual","namespace":"default"},"spec":{"ports":[{"port":80}]}}`)
	resp, err = c.Do(context.Background(), api.VerbApply, &api.Request{Object: json.RawMessage(`{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice",
"metadata":{"name":"manual-1","namespace":"default","labels":{"kubernetes.io/service-name":"manual"}},"addressType":"IPv4","endpoints":[{"addresses":["192.0.2.7"]}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Warnings) != 1 || !strings.Contains(resp.Warnings[0], "not acted on") {
		t.Errorf("a slice nothing manages: warnings %q", resp.Warnings)
	}

	// Managed slices go with their Service.
	if _, err := c.Do(context.Background(), api.VerbDelete, &api.Request{Resource: "services", Namespace: "default", Name: "web"}); err != nil {
		t.Fatal(err)
	}
	logtest.Eventually(t, 5*time.Second, func() error {
		ss, err := slicesOf(c, "web")
		if err != nil || len(ss) != 0 {
			return fmt.Errorf("slices of a deleted service: %d, %v", len(ss), err)
		}
		return nil
	})
	if ss, err := slicesOf(c, "manual"); err != nil || len(ss) != 1 || ss[0].Endpoints[0].Addresses[0] != "192.0.2.7" {
		t.Fatalf("the unmanaged slice changed: %v %+v", err, ss)
	}
}
