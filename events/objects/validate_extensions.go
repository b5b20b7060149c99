package objects

import (
	"fmt"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	apiregistrationv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"
)

// CustomResourceDefinitions and APIServices are stored and served, but
// Strom serves no custom resources and aggregates no API servers (see
// warnings.go). Their names are the rule Kubernetes holds them to: a
// definition is named "<plural>.<group>", an APIService
// "<version>.<group>" ("v1." for the core group).

func extensionNameRule(obj Object) (apivalidation.ValidateNameFunc, bool) {
	switch o := obj.(type) {
	case *apiextensionsv1.CustomResourceDefinition:
		want := o.Spec.Names.Plural + "." + o.Spec.Group
		return func(name string, prefix bool) []string {
			msgs := apivalidation.NameIsDNSSubdomain(name, prefix)
			if name != want {
				msgs = append(msgs, `must be spec.names.plural+"."+spec.group`)
			}
			return msgs
		}, true
	case *apiregistrationv1.APIService:
		want := o.Spec.Version + "." + o.Spec.Group
		return func(name string, prefix bool) []string {
			if msgs := pathSegmentName(name, prefix); len(msgs) > 0 {
				return msgs
			}
			if name != want {
				return []string{fmt.Sprintf("must be `spec.version+\".\"+spec.group`: %q", want)}
			}
			return nil
		}, true
	}
	return nil, false
}

// validateExtension accepts the two kinds' bodies as written.
func validateExtension(obj Object) (field.ErrorList, bool) {
	switch obj.(type) {
	case *apiextensionsv1.CustomResourceDefinition, *apiregistrationv1.APIService:
		return nil, true
	}
	return nil, false
}
