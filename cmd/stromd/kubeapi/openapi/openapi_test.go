package openapi

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/apimachinery/pkg/version"
	openapinamer "k8s.io/apiserver/pkg/endpoints/openapi"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/kube-openapi/pkg/builder"
	"k8s.io/kube-openapi/pkg/builder3"
	"k8s.io/kube-openapi/pkg/common"
	"k8s.io/kube-openapi/pkg/util"
	"k8s.io/kube-openapi/pkg/validation/spec"
)

const (
	v2RefPrefix = "#/definitions/"
	v3RefPrefix = "#/components/schemas/"
	gvkExt      = "x-kubernetes-group-version-kind"
)

// definitions calls GetOpenAPIDefinitions the way kube-openapi's builders
// do: the ref callback maps a key through the apiserver's DefinitionNamer
// and makes a JSON pointer of it. It returns the names the callback was
// asked for too.
func definitions(t *testing.T, prefix string) (map[string]common.OpenAPIDefinition, map[string]bool) {
	t.Helper()
	namer := openapinamer.NewDefinitionNamer(scheme.Scheme)
	asked := map[string]bool{}
	defs := GetOpenAPIDefinitions(func(name string) spec.Ref {
		asked[name] = true
		defName, _ := namer.GetDefinitionName(name)
		return spec.MustCreateRef(prefix + common.EscapeJsonPointer(defName))
	})
	if len(defs) == 0 {
		t.Fatal("GetOpenAPIDefinitions returned no definitions")
	}
	return defs, asked
}

var (
	core = func(kind string) schema.GroupVersionKind { return corev1.SchemeGroupVersion.WithKind(kind) }
	meta = func(kind string) schema.GroupVersionKind { return metav1.SchemeGroupVersion.WithKind(kind) }
)

// representative are types the server puts in its OpenAPI documents, with
// the definition name Kubernetes publishes for them and, for kinds, the
// GroupVersionKind the namer must tag the definition with.
var representative = []struct {
	obj  any
	name string
	gvk  schema.GroupVersionKind // zero: not a kind of its own
}{
	{&corev1.Pod{}, "io.k8s.api.core.v1.Pod", core("Pod")},
	{&corev1.Service{}, "io.k8s.api.core.v1.Service", core("Service")},
	{&corev1.ConfigMap{}, "io.k8s.api.core.v1.ConfigMap", core("ConfigMap")},
	{&corev1.Secret{}, "io.k8s.api.core.v1.Secret", core("Secret")},
	{&corev1.Namespace{}, "io.k8s.api.core.v1.Namespace", core("Namespace")},
	{&corev1.Node{}, "io.k8s.api.core.v1.Node", core("Node")},
	{&corev1.PodList{}, "io.k8s.api.core.v1.PodList", core("PodList")},
	{&appsv1.Deployment{}, "io.k8s.api.apps.v1.Deployment", appsv1.SchemeGroupVersion.WithKind("Deployment")},
	{&appsv1.StatefulSet{}, "io.k8s.api.apps.v1.StatefulSet", appsv1.SchemeGroupVersion.WithKind("StatefulSet")},
	{&batchv1.Job{}, "io.k8s.api.batch.v1.Job", batchv1.SchemeGroupVersion.WithKind("Job")},
	{&batchv1.CronJob{}, "io.k8s.api.batch.v1.CronJob", batchv1.SchemeGroupVersion.WithKind("CronJob")},
	{&networkingv1.Ingress{}, "io.k8s.api.networking.v1.Ingress", networkingv1.SchemeGroupVersion.WithKind("Ingress")},
	{&policyv1.PodDisruptionBudget{}, "io.k8s.api.policy.v1.PodDisruptionBudget", policyv1.SchemeGroupVersion.WithKind("PodDisruptionBudget")},
	{&policyv1.Eviction{}, "io.k8s.api.policy.v1.Eviction", policyv1.SchemeGroupVersion.WithKind("Eviction")},
	{&coordinationv1.Lease{}, "io.k8s.api.coordination.v1.Lease", coordinationv1.SchemeGroupVersion.WithKind("Lease")},
	{&discoveryv1.EndpointSlice{}, "io.k8s.api.discovery.v1.EndpointSlice", discoveryv1.SchemeGroupVersion.WithKind("EndpointSlice")},
	{&autoscalingv1.Scale{}, "io.k8s.api.autoscaling.v1.Scale", autoscalingv1.SchemeGroupVersion.WithKind("Scale")},
	{&autoscalingv2.HorizontalPodAutoscaler{}, "io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler", autoscalingv2.SchemeGroupVersion.WithKind("HorizontalPodAutoscaler")},
	{&storagev1.StorageClass{}, "io.k8s.api.storage.v1.StorageClass", storagev1.SchemeGroupVersion.WithKind("StorageClass")},
	// Status, WatchEvent and the *Options are registered in every group
	// version; core v1 is one of them.
	{&metav1.Status{}, "io.k8s.apimachinery.pkg.apis.meta.v1.Status", core("Status")},
	{&metav1.WatchEvent{}, "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent", core("WatchEvent")},
	{&metav1.DeleteOptions{}, "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions", core("DeleteOptions")},
	{&metav1.APIResourceList{}, "io.k8s.apimachinery.pkg.apis.meta.v1.APIResourceList", schema.GroupVersionKind{}},
	{&metav1.APIGroupList{}, "io.k8s.apimachinery.pkg.apis.meta.v1.APIGroupList", schema.GroupVersionKind{}},
	{&metav1.APIVersions{}, "io.k8s.apimachinery.pkg.apis.meta.v1.APIVersions", schema.GroupVersionKind{}},
	{&metav1.ObjectMeta{}, "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", schema.GroupVersionKind{}},
	{&metav1.Table{}, "io.k8s.apimachinery.pkg.apis.meta.v1.Table", schema.GroupVersionKind{}},
	{&metav1.PartialObjectMetadataList{}, "io.k8s.apimachinery.pkg.apis.meta.v1.PartialObjectMetadataList", schema.GroupVersionKind{}},
	{&metav1.Time{}, "io.k8s.apimachinery.pkg.apis.meta.v1.Time", schema.GroupVersionKind{}},
	{&runtime.RawExtension{}, "io.k8s.apimachinery.pkg.runtime.RawExtension", schema.GroupVersionKind{}},
	{&intstr.IntOrString{}, "io.k8s.apimachinery.pkg.util.intstr.IntOrString", schema.GroupVersionKind{}},
	{&resource.Quantity{}, "io.k8s.apimachinery.pkg.api.resource.Quantity", schema.GroupVersionKind{}},
	{&version.Info{}, "io.k8s.apimachinery.pkg.version.Info", schema.GroupVersionKind{}},
}

func gvksOf(ext spec.Extensions) []schema.GroupVersionKind {
	var out []schema.GroupVersionKind
	list, _ := ext[gvkExt].([]interface{})
	for _, e := range list {
		m, _ := e.(map[string]interface{})
		g, _ := m["group"].(string)
		v, _ := m["version"].(string)
		k, _ := m["kind"].(string)
		out = append(out, schema.GroupVersionKind{Group: g, Version: v, Kind: k})
	}
	return out
}

func hasGVK(list []schema.GroupVersionKind, want schema.GroupVersionKind) bool {
	for _, gvk := range list {
		if gvk == want {
			return true
		}
	}
	return false
}

// TestRepresentativeTypes looks each type up the way the generic server
// does: genericapiserver and the builders take util.GetCanonicalTypeName
// of a sample object as the key into GetOpenAPIDefinitions, and the
// DefinitionNamer (built from the scheme's ToOpenAPIDefinitionName) names
// and GVK-tags the definition.
func TestRepresentativeTypes(t *testing.T) {
	defs, _ := definitions(t, v2RefPrefix)
	namer := openapinamer.NewDefinitionNamer(scheme.Scheme)
	for _, tc := range representative {
		key := util.GetCanonicalTypeName(tc.obj)
		if key != tc.name {
			t.Errorf("%T: canonical name %q, want %q", tc.obj, key, tc.name)
		}
		def, ok := defs[key]
		if !ok {
			t.Errorf("%T: no definition under %q", tc.obj, key)
			continue
		}
		if len(def.Schema.Properties) == 0 && len(def.Schema.Type) == 0 && def.Schema.Extensions[common.ExtensionV2Schema] == nil {
			t.Errorf("%T: definition %q has neither a type nor properties", tc.obj, key)
		}
		name, ext := namer.GetDefinitionName(key)
		if name != tc.name {
			t.Errorf("%T: namer names it %q, want %q", tc.obj, name, tc.name)
		}
		if tc.gvk.Empty() {
			continue
		}
		obj, ok := tc.obj.(runtime.Object)
		if !ok {
			t.Errorf("%T is not a runtime.Object", tc.obj)
			continue
		}
		kinds, _, err := scheme.Scheme.ObjectKinds(obj)
		if err != nil || !hasGVK(kinds, tc.gvk) {
			t.Errorf("%T: scheme kinds %v (err %v), want %v among them", tc.obj, kinds, err, tc.gvk)
		}
		if sn, err := scheme.Scheme.ToOpenAPIDefinitionName(tc.gvk); err != nil || sn != key {
			t.Errorf("%v: scheme's OpenAPI name %q (err %v), want the key %q", tc.gvk, sn, err, key)
		}
		if got := gvksOf(ext); !hasGVK(got, tc.gvk) {
			t.Errorf("%T: %s extension %v, want %v in it", tc.obj, gvkExt, got, tc.gvk)
		}
	}
}

// TestEverySchemeKindHasADefinition: whatever kind of client-go's scheme
// the server ends up serving, its definition is there.
func TestEverySchemeKindHasADefinition(t *testing.T) {
	defs, _ := definitions(t, v2RefPrefix)
	var missing []string
	n := 0
	for gvk := range scheme.Scheme.AllKnownTypes() {
		if gvk.Version == runtime.APIVersionInternal {
			continue
		}
		n++
		name, err := scheme.Scheme.ToOpenAPIDefinitionName(gvk)
		if err != nil {
			t.Errorf("%v: %v", gvk, err)
			continue
		}
		if _, ok := defs[name]; !ok {
			missing = append(missing, fmt.Sprintf("%v (%s)", gvk, name))
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("%d of %d scheme kinds have no definition:\n%s", len(missing), n, strings.Join(missing, "\n"))
	}
	t.Logf("%d scheme kinds, %d definitions", n, len(defs))
}

// refs collects the definition names s refers to, anywhere inside it.
func refs(s *spec.Schema, prefix string, out map[string]bool) {
	if s == nil {
		return
	}
	if r := s.Ref.String(); r != "" {
		name := strings.TrimPrefix(r, prefix)
		out[strings.NewReplacer("~1", "/", "~0", "~").Replace(name)] = true
	}
	for _, p := range s.Properties {
		refs(&p, prefix, out)
	}
	for _, p := range s.PatternProperties {
		refs(&p, prefix, out)
	}
	if s.Items != nil {
		refs(s.Items.Schema, prefix, out)
		for i := range s.Items.Schemas {
			refs(&s.Items.Schemas[i], prefix, out)
		}
	}
	if s.AdditionalProperties != nil {
		refs(s.AdditionalProperties.Schema, prefix, out)
	}
	if s.AdditionalItems != nil {
		refs(s.AdditionalItems.Schema, prefix, out)
	}
	for _, list := range [][]spec.Schema{s.AllOf, s.AnyOf, s.OneOf} {
		for i := range list {
			refs(&list[i], prefix, out)
		}
	}
	refs(s.Not, prefix, out)
	for _, d := range s.Definitions {
		refs(&d, prefix, out)
	}
}

// TestReferencesResolve walks every definition: each dependency it
// declares must be a key, and each $ref in its schema must be both a key
// and a declared dependency (the builders copy a definition's dependencies
// into the document, nothing else, so an undeclared ref would dangle).
func TestReferencesResolve(t *testing.T) {
	defs, asked := definitions(t, v2RefPrefix)
	for name := range asked {
		if _, ok := defs[name]; !ok {
			t.Errorf("ref(%q) was called but there is no such definition", name)
		}
	}
	keys := make([]string, 0, len(defs))
	for k := range defs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	deps := 0
	for _, k := range keys {
		def := defs[k]
		declared := map[string]bool{}
		for _, d := range def.Dependencies {
			deps++
			declared[d] = true
			if _, ok := defs[d]; !ok {
				t.Errorf("%s depends on %q, which has no definition", k, d)
			}
		}
		used := map[string]bool{}
		s := def.Schema
		refs(&s, v2RefPrefix, used)
		for r := range used {
			if !declared[r] {
				t.Errorf("%s refers to %q without declaring it a dependency", k, r)
			}
		}
	}
	if deps == 0 {
		t.Error("no definition has dependencies; refs were not generated")
	}
}

func TestPodSchema(t *testing.T) {
	defs, _ := definitions(t, v2RefPrefix)
	pod, ok := defs[util.GetCanonicalTypeName(&corev1.Pod{})]
	if !ok {
		t.Fatal("no Pod definition")
	}
	want := map[string]string{
		"metadata": util.GetCanonicalTypeName(&metav1.ObjectMeta{}),
		"spec":     util.GetCanonicalTypeName(&corev1.PodSpec{}),
		"status":   util.GetCanonicalTypeName(&corev1.PodStatus{}),
	}
	for prop, ref := range want {
		p, ok := pod.Schema.Properties[prop]
		if !ok {
			t.Errorf("Pod has no %q property", prop)
			continue
		}
		used := map[string]bool{}
		refs(&p, v2RefPrefix, used)
		if !used[ref] {
			t.Errorf("Pod.%s refers to %v, want %q", prop, used, ref)
		}
		if !hasString(pod.Dependencies, ref) {
			t.Errorf("Pod does not depend on %q", ref)
		}
	}
	for _, prop := range []string{"apiVersion", "kind"} {
		if _, ok := pod.Schema.Properties[prop]; !ok {
			t.Errorf("Pod has no %q property", prop)
		}
	}
}

func hasString(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// TestMergeExtensions: strategic merge patch reads the patch extensions,
// server-side apply the list-type ones.
func TestMergeExtensions(t *testing.T) {
	defs, _ := definitions(t, v2RefPrefix)
	cases := []struct {
		obj   any
		field string
		want  spec.Extensions
	}{
		{&corev1.PodSpec{}, "containers", spec.Extensions{
			"x-kubernetes-patch-merge-key": "name",
			"x-kubernetes-patch-strategy":  "merge",
			"x-kubernetes-list-type":       "map",
			"x-kubernetes-list-map-keys":   []interface{}{"name"},
		}},
		{&corev1.ServiceSpec{}, "ports", spec.Extensions{
			"x-kubernetes-patch-merge-key": "port",
			"x-kubernetes-patch-strategy":  "merge",
			"x-kubernetes-list-type":       "map",
			"x-kubernetes-list-map-keys":   []interface{}{"port", "protocol"},
		}},
		{&corev1.Container{}, "env", spec.Extensions{
			"x-kubernetes-patch-merge-key": "name",
			"x-kubernetes-patch-strategy":  "merge",
			"x-kubernetes-list-type":       "map",
			"x-kubernetes-list-map-keys":   []interface{}{"name"},
		}},
		{&metav1.ObjectMeta{}, "finalizers", spec.Extensions{
			"x-kubernetes-patch-strategy": "merge",
			"x-kubernetes-list-type":      "set",
		}},
	}
	for _, tc := range cases {
		key := util.GetCanonicalTypeName(tc.obj)
		def, ok := defs[key]
		if !ok {
			t.Errorf("no definition %q", key)
			continue
		}
		p, ok := def.Schema.Properties[tc.field]
		if !ok {
			t.Errorf("%s has no property %q", key, tc.field)
			continue
		}
		for k, v := range tc.want {
			if got := p.Extensions[k]; !reflect.DeepEqual(got, v) {
				t.Errorf("%s.%s: %s = %#v, want %#v", key, tc.field, k, got, v)
			}
		}
	}
}

// allKindNames is what genericapiserver hands the builders: the canonical
// name of every served kind.
func allKindNames(t *testing.T) []string {
	t.Helper()
	seen := map[string]bool{}
	var names []string
	for gvk := range scheme.Scheme.AllKnownTypes() {
		if gvk.Version == runtime.APIVersionInternal {
			continue
		}
		obj, err := scheme.Scheme.New(gvk)
		if err != nil {
			t.Fatal(err)
		}
		if name := util.GetCanonicalTypeName(obj); !seen[name] {
			seen[name] = true
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

// TestBuildV2 builds the /openapi/v2 definitions of every scheme kind with
// the config apiserver's DefaultOpenAPIConfig makes (GetDefinitions plus the
// DefinitionNamer).
func TestBuildV2(t *testing.T) {
	namer := openapinamer.NewDefinitionNamer(scheme.Scheme)
	sw, err := builder.BuildOpenAPIDefinitionsForResources(&common.Config{
		Info:              &spec.Info{InfoProps: spec.InfoProps{Title: "strom", Version: "test"}},
		GetDefinitions:    GetOpenAPIDefinitions,
		GetDefinitionName: namer.GetDefinitionName,
	}, allKindNames(t)...)
	if err != nil {
		t.Fatal(err)
	}
	pod, ok := sw.Definitions["io.k8s.api.core.v1.Pod"]
	if !ok {
		t.Fatal("no io.k8s.api.core.v1.Pod in the v2 definitions")
	}
	if !hasGVK(gvksOf(pod.Extensions), core("Pod")) {
		t.Errorf("Pod's %s = %v", gvkExt, pod.Extensions[gvkExt])
	}
	for name, def := range sw.Definitions {
		used := map[string]bool{}
		refs(&def, v2RefPrefix, used)
		for r := range used {
			if _, ok := sw.Definitions[r]; !ok {
				t.Errorf("v2 definition %s refers to missing %q", name, r)
			}
		}
	}
	t.Logf("v2: %d definitions", len(sw.Definitions))
}

// TestServerSideApply builds the v3 schemas the way genericapiserver's
// getOpenAPIModels does (DefaultOpenAPIV3Config, then
// BuildOpenAPIDefinitionsForResources for the served kinds), makes the
// server-side apply type converter from them and merges two Pods: the
// containers list must merge by name.
func TestServerSideApply(t *testing.T) {
	namer := openapinamer.NewDefinitionNamer(scheme.Scheme)
	// As apiserver's server.DefaultOpenAPIV3Config does it (that package
	// is not imported here: it pulls in most of the apiserver).
	cfg := &common.OpenAPIV3Config{
		Info:              &spec.Info{InfoProps: spec.InfoProps{Title: "strom", Version: "test"}},
		GetDefinitions:    GetOpenAPIDefinitions,
		GetDefinitionName: namer.GetDefinitionName,
	}
	cfg.Definitions = GetOpenAPIDefinitions(func(name string) spec.Ref {
		defName, _ := cfg.GetDefinitionName(name)
		return spec.MustCreateRef(v3RefPrefix + common.EscapeJsonPointer(defName))
	})
	schemas, err := builder3.BuildOpenAPIDefinitionsForResources(cfg, allKindNames(t)...)
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range schemas {
		used := map[string]bool{}
		refs(s, v3RefPrefix, used)
		for r := range used {
			if _, ok := schemas[r]; !ok {
				t.Errorf("v3 schema %s refers to missing %q", name, r)
			}
		}
	}
	tc, err := managedfields.NewTypeConverter(schemas, false)
	if err != nil {
		t.Fatal(err)
	}

	pod := func(containers ...string) *corev1.Pod {
		p := &corev1.Pod{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
			ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "default"},
		}
		for _, c := range containers {
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: c, Image: c + ":1"})
		}
		return p
	}
	a, err := tc.ObjectToTyped(pod("a"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := tc.ObjectToTyped(pod("b"))
	if err != nil {
		t.Fatal(err)
	}
	merged, err := a.Merge(b)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := tc.TypedToObject(merged)
	if err != nil {
		t.Fatal(err)
	}
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		t.Fatalf("TypedToObject gave %T", obj)
	}
	cs, _, _ := unstructured.NestedSlice(u.Object, "spec", "containers")
	var names []string
	for _, c := range cs {
		name, _, _ := unstructured.NestedString(c.(map[string]interface{}), "name")
		names = append(names, name)
	}
	sort.Strings(names)
	if !reflect.DeepEqual(names, []string{"a", "b"}) {
		t.Errorf("merged containers %v, want [a b] (merged by name, not replaced as an atomic list)", names)
	}

	// A Deployment goes through as well (GVK found via the extension).
	d := &appsv1.Deployment{TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"}}
	if _, err := tc.ObjectToTyped(d); err != nil {
		t.Errorf("Deployment: %v", err)
	}
}
