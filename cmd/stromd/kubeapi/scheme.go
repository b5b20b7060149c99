package kubeapi

import (
	"reflect"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	apiregistrationv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"

	"github.com/strom-project/strom/events/objects"
)

// newScheme registers every k8s.io/api type (client-go's scheme) and, for
// the kinds Strom serves, the same Go types as each group's internal
// version: the generic handlers decode into a group's internal version,
// and with one Go type for both, the "conversion" is a copy.
func newScheme() (*runtime.Scheme, serializer.CodecFactory, error) {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		return nil, serializer.CodecFactory{}, err
	}
	// CustomResourceDefinitions and APIServices are stored (not acted
	// on); their types are not in client-go's scheme.
	if err := apiextensionsv1.AddToScheme(s); err != nil {
		return nil, serializer.CodecFactory{}, err
	}
	if err := apiregistrationv1.AddToScheme(s); err != nil {
		return nil, serializer.CodecFactory{}, err
	}
	if err := metainternalversion.AddToScheme(s); err != nil {
		return nil, serializer.CodecFactory{}, err
	}
	unversioned := schema.GroupVersion{Group: "", Version: "v1"}
	s.AddUnversionedTypes(unversioned, &metav1.Status{}, &metav1.APIVersions{}, &metav1.APIGroupList{},
		&metav1.APIGroup{}, &metav1.APIResourceList{})
	internal := func(gvk schema.GroupVersionKind) {
		t, ok := s.AllKnownTypes()[gvk]
		if !ok {
			return
		}
		in := schema.GroupVersionKind{Group: gvk.Group, Version: runtime.APIVersionInternal, Kind: gvk.Kind}
		if s.Recognizes(in) {
			return
		}
		s.AddKnownTypeWithName(in, reflect.New(t).Interface().(runtime.Object))
	}
	for _, k := range objects.All() {
		internal(k.GVK())
		internal(k.GVK().GroupVersion().WithKind(k.Kind + "List"))
		if err := s.AddFieldLabelConversionFunc(k.GVK(), passFieldLabel); err != nil {
			return nil, serializer.CodecFactory{}, err
		}
	}
	internal(autoscalingv1.SchemeGroupVersion.WithKind("Scale"))
	internal(policyv1.SchemeGroupVersion.WithKind("Eviction"))
	internal(corev1.SchemeGroupVersion.WithKind("Binding"))
	return s, serializer.NewCodecFactory(s), nil
}

// passFieldLabel accepts every field selector key: the API core checks
// them per resource (projections.ParseFieldSelector) and names the one it
// does not support.
func passFieldLabel(label, value string) (string, string, error) { return label, value, nil }
