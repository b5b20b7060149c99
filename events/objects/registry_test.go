package objects

import (
	"reflect"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	apiregistrationv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"
)

func TestLookup(t *testing.T) {
	for _, c := range []struct{ name, want string }{
		{"po", "Pod"}, {"Pods", "Pod"}, {"deployments.apps", "Deployment"}, {"deploy", "Deployment"},
		{"rc", "ReplicationController"}, {"sc", "StorageClass"}, {"netpol", "NetworkPolicy"},
		{"pc", "PriorityClass"}, {"csr", "CertificateSigningRequest"}, {"ip", "IPAddress"}, {"vac", "VolumeAttributesClass"},
		{"ev", "Event"}, {"events", "Event"}, {"leases.coordination.k8s.io", "Lease"},
		{"endpointslice.discovery.k8s.io", "EndpointSlice"}, {"EndpointSlice", "EndpointSlice"},
		{"ingressclasses", "IngressClass"}, {"csistoragecapacities", "CSIStorageCapacity"},
		{"crd", "CustomResourceDefinition"}, {"crds", "CustomResourceDefinition"}, {"apiservices", "APIService"},
	} {
		k, err := Lookup(c.name)
		if err != nil || k.Kind != c.want {
			t.Errorf("Lookup(%q) = %v, %v; want %s", c.name, k, err, c.want)
		}
	}
	if _, err := Lookup("bindings"); err == nil || !strings.Contains(err.Error(), `doesn't have a resource type "bindings"`) {
		t.Errorf("Lookup of a kind Strom does not store: %v", err)
	}
}

// TestLookupEveryName: every name of every kind finds that kind, or, for
// a name a core kind shares, the core kind.
func TestLookupEveryName(t *testing.T) {
	for _, k := range All() {
		names := append([]string{k.Kind, k.Resource, k.Singular}, k.ShortNames...)
		if k.Group != "" {
			names = append(names, k.Resource+"."+k.Group, k.Singular+"."+k.Group)
		}
		for _, n := range names {
			got, err := Lookup(n)
			if err != nil {
				t.Errorf("Lookup(%q): %v", n, err)
				continue
			}
			if shared := len(byName[strings.ToLower(n)]) > 1; got != k && !(shared && got.Group == "") {
				t.Errorf("Lookup(%q) = %s.%s, want %s.%s", n, got.Kind, got.Group, k.Kind, k.Group)
			}
		}
	}
}

// TestPickSharedName: a name two kinds share resolves to the core
// group's kind, as kubectl resolves "events" or "ev" against
// kube-apiserver (which serves Event in the core group and in
// events.k8s.io); without a core kind it stays ambiguous.
func TestPickSharedName(t *testing.T) {
	core := &Kind{Kind: "Event", Resource: "events", Singular: "event"}
	grouped := &Kind{Kind: "Event", Group: "events.k8s.io", Resource: "events", Singular: "event"}
	other := &Kind{Kind: "Event", Group: "example.com", Resource: "events", Singular: "event"}
	if k, err := pick("ev", []*Kind{grouped, core}); err != nil || k != core {
		t.Errorf("pick(grouped, core) = %v, %v; want the core kind", k, err)
	}
	if _, err := pick("ev", []*Kind{grouped, other}); err == nil || !strings.Contains(err.Error(), "ambiguous") {
		t.Errorf("two grouped kinds: want ambiguous, got %v", err)
	}
}

// TestKindsUnique: the view's tables and the event subjects are keyed by
// resource, manifests and owner references name kinds.
func TestKindsUnique(t *testing.T) {
	kinds, resources, types := map[string]bool{}, map[string]bool{}, map[reflect.Type]bool{}
	for _, k := range All() {
		typ := reflect.TypeOf(k.New())
		if kinds[k.Kind] || resources[k.Resource] || types[typ] {
			t.Errorf("%s (%s, %v) registered twice", k.Kind, k.Resource, typ)
		}
		kinds[k.Kind], resources[k.Resource], types[typ] = true, true, true
		if k.Singular != strings.ToLower(k.Kind) || strings.ToLower(k.Resource) != k.Resource {
			t.Errorf("%s: singular %q, resource %q", k.Kind, k.Singular, k.Resource)
		}
		if got, _ := KindOf(k.New()); got != k || ByGVK(k.GVK()) != k || ByKind(k.Kind) != k {
			t.Errorf("%s does not map back to itself", k.Kind)
		}
	}
}

// TestKindsInScheme: the HTTPS API's scheme starts from client-go's, so
// each kind's Go type must be registered there under the kind's group,
// version and kind (and its list type beside it); the kinds of the groups
// client-go does not know are added by their own AddToScheme
// (cmd/stromd/kubeapi/scheme.go), and only those.
func TestKindsInScheme(t *testing.T) {
	ownScheme := map[string]func(*runtime.Scheme) error{
		"CustomResourceDefinition": apiextensionsv1.AddToScheme,
		"APIService":               apiregistrationv1.AddToScheme,
	}
	for _, k := range All() {
		known := clientgoscheme.Scheme.AllKnownTypes()
		if add, ok := ownScheme[k.Kind]; ok {
			if _, inClientGo := known[k.GVK()]; inClientGo {
				t.Errorf("%s is in client-go's scheme: it needs no AddToScheme of its own", k.Kind)
			}
			s := runtime.NewScheme()
			if err := add(s); err != nil {
				t.Fatal(err)
			}
			known = s.AllKnownTypes()
		}
		if typ, ok := known[k.GVK()]; !ok || typ != reflect.TypeOf(k.New()).Elem() {
			t.Errorf("%s: the scheme has %v for %s", k.Kind, typ, k.GVK())
		}
		list := schema.GroupVersionKind{Group: k.Group, Version: k.Version, Kind: k.Kind + "List"}
		if _, ok := known[list]; !ok {
			t.Errorf("%s: the scheme has no %s", k.Kind, list)
		}
	}
}
