package printers

import (
	"fmt"
	"sort"
	"strings"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiregistrationv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"
)

// Columns of CustomResourceDefinitions (apiextensions-apiserver's table
// convertor) and APIServices (kube-aggregator's).

var crdColumns = cols("NAME", "SCOPE", "VERSIONS", "CREATED AT", "*GROUP", "*KIND", "*SHORTNAMES", "*ESTABLISHED")

// crdRow lists the served versions, sorted, the storage one marked.
func crdRow(c *apiextensionsv1.CustomResourceDefinition, _ time.Time) []string {
	var versions []string
	for _, v := range c.Spec.Versions {
		if v.Served {
			label := v.Name
			if v.Storage {
				label += "(storage)"
			}
			versions = append(versions, label)
		}
	}
	sort.Strings(versions)
	established := false
	for _, cond := range c.Status.Conditions {
		if cond.Type == apiextensionsv1.Established && cond.Status == apiextensionsv1.ConditionTrue {
			established = true
		}
	}
	return []string{c.Name, string(c.Spec.Scope), strings.Join(versions, ","), createdAt(c.CreationTimestamp),
		c.Spec.Group, c.Spec.Names.Kind, strings.Join(c.Spec.Names.ShortNames, ","), fmt.Sprint(established)}
}

var apiServiceColumns = cols("NAME", "SERVICE", "AVAILABLE", "AGE")

// apiServiceRow: SERVICE is "Local" for an API kube-apiserver serves
// itself; AVAILABLE the Available condition, with its reason when false.
func apiServiceRow(s *apiregistrationv1.APIService, now time.Time) []string {
	service := "Local"
	if r := s.Spec.Service; r != nil {
		service = r.Namespace + "/" + r.Name
	}
	available := string(apiregistrationv1.ConditionUnknown)
	for _, c := range s.Status.Conditions {
		if c.Type != apiregistrationv1.Available {
			continue
		}
		available = string(c.Status)
		if c.Status != apiregistrationv1.ConditionTrue && c.Reason != "" {
			available = fmt.Sprintf("%s (%s)", c.Status, c.Reason)
		}
		break
	}
	return []string{s.Name, service, available, age(s.CreationTimestamp, now)}
}
