package printers

import (
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiregistrationv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"

	"github.com/strom-project/strom/events/objects"
)

func fixtureExtensions() map[string][]objects.Object {
	crd := &apiextensionsv1.CustomResourceDefinition{ObjectMeta: meta("", "crontabs.stable.example.com", 24*time.Hour),
		Spec: apiextensionsv1.CustomResourceDefinitionSpec{Group: "stable.example.com", Scope: apiextensionsv1.NamespaceScoped,
			Names: apiextensionsv1.CustomResourceDefinitionNames{Plural: "crontabs", Kind: "CronTab", ShortNames: []string{"ct", "cts"}},
			Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{Name: "v2", Served: true, Storage: true},
				{Name: "v1", Served: true}, {Name: "v1alpha1"}}},
		Status: apiextensionsv1.CustomResourceDefinitionStatus{Conditions: []apiextensionsv1.CustomResourceDefinitionCondition{
			{Type: apiextensionsv1.Established, Status: apiextensionsv1.ConditionTrue}}}}
	crdNew := &apiextensionsv1.CustomResourceDefinition{ObjectMeta: meta("", "widgets.example.com", time.Minute),
		Spec: apiextensionsv1.CustomResourceDefinitionSpec{Group: "example.com", Scope: apiextensionsv1.ClusterScoped,
			Names:    apiextensionsv1.CustomResourceDefinitionNames{Plural: "widgets", Kind: "Widget"},
			Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{Name: "v1", Served: true, Storage: true}}}}
	cond := func(st apiregistrationv1.ConditionStatus, reason string) []apiregistrationv1.APIServiceCondition {
		return []apiregistrationv1.APIServiceCondition{{Type: apiregistrationv1.Available, Status: st, Reason: reason}}
	}
	local := &apiregistrationv1.APIService{ObjectMeta: meta("", "v1.apps", 30*24*time.Hour),
		Status: apiregistrationv1.APIServiceStatus{Conditions: cond(apiregistrationv1.ConditionTrue, "Local")}}
	metrics := &apiregistrationv1.APIService{ObjectMeta: meta("", "v1beta1.metrics.k8s.io", time.Hour),
		Spec:   apiregistrationv1.APIServiceSpec{Service: &apiregistrationv1.ServiceReference{Namespace: "kube-system", Name: "metrics-server"}},
		Status: apiregistrationv1.APIServiceStatus{Conditions: cond(apiregistrationv1.ConditionFalse, "MissingEndpoints")}}
	fresh := &apiregistrationv1.APIService{ObjectMeta: meta("", "v1.example.com", time.Minute),
		Spec: apiregistrationv1.APIServiceSpec{Service: &apiregistrationv1.ServiceReference{Namespace: "ext", Name: "api"}}}
	return map[string][]objects.Object{"customresourcedefinition": {crd, crdNew}, "apiservice": {local, metrics, fresh}}
}
