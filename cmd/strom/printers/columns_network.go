package printers

import (
	"fmt"
	"strings"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	nodev1 "k8s.io/api/node/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Columns of the networking.k8s.io, scheduling.k8s.io and node.k8s.io
// kinds, as kube-apiserver's printers give them.

var ingressClassColumns = cols("NAME", "CONTROLLER", "PARAMETERS", "AGE")

// ingressClassRow shows the parameters as "Kind.group/name".
func ingressClassRow(c *networkingv1.IngressClass, now time.Time) []string {
	params := none
	if p := c.Spec.Parameters; p != nil {
		params = p.Kind
		if p.APIGroup != nil {
			params += "." + *p.APIGroup
		}
		params += "/" + p.Name
	}
	return []string{c.Name, c.Spec.Controller, params, age(c.CreationTimestamp, now)}
}

var networkPolicyColumns = cols("NAME", "POD-SELECTOR", "AGE")

func networkPolicyRow(p *networkingv1.NetworkPolicy, now time.Time) []string {
	return []string{p.Name, selectorString(&p.Spec.PodSelector), age(p.CreationTimestamp, now)}
}

var serviceCIDRColumns = cols("NAME", "CIDRS", "AGE")

func serviceCIDRRow(c *networkingv1.ServiceCIDR, now time.Time) []string {
	return []string{c.Name, strings.Join(c.Spec.CIDRs, ","), age(c.CreationTimestamp, now)}
}

// ipAddressColumns has no AGE: kube-apiserver's printer fills an age cell
// but defines no column for it, and kubectl prints only defined columns.
var ipAddressColumns = cols("NAME", "PARENTREF")

// ipAddressRow shows the parent as "services/default/web" (resource.group,
// namespace if any, name).
func ipAddressRow(a *networkingv1.IPAddress, _ time.Time) []string {
	parent := none
	if p := a.Spec.ParentRef; p != nil {
		parent = strings.ToLower(schema.GroupResource{Group: p.Group, Resource: p.Resource}.String())
		if p.Namespace != "" {
			parent += "/" + p.Namespace
		}
		parent += "/" + p.Name
	}
	return []string{a.Name, parent}
}

// priorityClassColumns: PREEMPTIONPOLICY is not a wide column; the
// printer fills it for the tables kube-apiserver serves, which are always
// generated wide.
var priorityClassColumns = cols("NAME", "VALUE", "GLOBAL-DEFAULT", "AGE", "PREEMPTIONPOLICY")

func priorityClassRow(c *schedulingv1.PriorityClass, now time.Time) []string {
	policy := ""
	if c.PreemptionPolicy != nil {
		policy = string(*c.PreemptionPolicy)
	}
	return []string{c.Name, fmt.Sprint(c.Value), fmt.Sprint(c.GlobalDefault), age(c.CreationTimestamp, now), policy}
}

var runtimeClassColumns = cols("NAME", "HANDLER", "AGE")

func runtimeClassRow(c *nodev1.RuntimeClass, now time.Time) []string {
	return []string{c.Name, c.Handler, age(c.CreationTimestamp, now)}
}
