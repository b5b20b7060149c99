package printers

import (
	"fmt"
	"strings"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

var ingressColumns = cols("NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE")

func ingressRow(i *networkingv1.Ingress, now time.Time) []string {
	class := none
	if i.Spec.IngressClassName != nil {
		class = *i.Spec.IngressClassName
	}
	var lbs []corev1.LoadBalancerIngress
	for _, lb := range i.Status.LoadBalancer.Ingress {
		lbs = append(lbs, corev1.LoadBalancerIngress{IP: lb.IP, Hostname: lb.Hostname})
	}
	ports := "80"
	if len(i.Spec.TLS) > 0 {
		ports = "80, 443"
	}
	return []string{i.Name, class, ingressHosts(i.Spec.Rules), loadBalancerIngress(lbs), ports, age(i.CreationTimestamp, now)}
}

// ingressHosts lists up to three rule hosts, then "+ N more..." counting
// the remaining rules; "*" when no rule names a host.
func ingressHosts(rules []networkingv1.IngressRule) string {
	const max = 3
	var list []string
	more := false
	for _, r := range rules {
		if len(list) == max {
			more = true
		}
		if !more && r.Host != "" {
			list = append(list, r.Host)
		}
	}
	if len(list) == 0 {
		return "*"
	}
	ret := strings.Join(list, ",")
	if more {
		return fmt.Sprintf("%s + %d more...", ret, len(rules)-max)
	}
	return ret
}

var roleColumns = cols("NAME", "CREATED AT")

func roleRow(r *rbacv1.Role, _ time.Time) []string {
	return []string{r.Name, createdAt(r.CreationTimestamp)}
}

func clusterRoleRow(r *rbacv1.ClusterRole, _ time.Time) []string {
	return []string{r.Name, createdAt(r.CreationTimestamp)}
}

var bindingColumns = cols("NAME", "ROLE", "AGE", "*USERS", "*GROUPS", "*SERVICEACCOUNTS")

func roleBindingRow(b *rbacv1.RoleBinding, now time.Time) []string {
	return bindingRow(b.Name, b.RoleRef, b.Subjects, age(b.CreationTimestamp, now))
}

func clusterRoleBindingRow(b *rbacv1.ClusterRoleBinding, now time.Time) []string {
	return bindingRow(b.Name, b.RoleRef, b.Subjects, age(b.CreationTimestamp, now))
}

func bindingRow(name string, ref rbacv1.RoleRef, subjects []rbacv1.Subject, age string) []string {
	var users, groups, sas []string
	for _, s := range subjects {
		switch s.Kind {
		case rbacv1.ServiceAccountKind:
			sas = append(sas, s.Namespace+":"+s.Name)
		case rbacv1.UserKind:
			users = append(users, s.Name)
		case rbacv1.GroupKind:
			groups = append(groups, s.Name)
		}
	}
	return []string{name, ref.Kind + "/" + ref.Name, age,
		strings.Join(users, ", "), strings.Join(groups, ", "), strings.Join(sas, ", ")}
}

var hpaColumns = cols("NAME", "REFERENCE", "TARGETS", "MINPODS", "MAXPODS", "REPLICAS", "AGE")

func hpaRow(h *autoscalingv2.HorizontalPodAutoscaler, now time.Time) []string {
	minPods := unset
	if h.Spec.MinReplicas != nil {
		minPods = fmt.Sprint(*h.Spec.MinReplicas)
	}
	ref := h.Spec.ScaleTargetRef.Kind + "/" + h.Spec.ScaleTargetRef.Name
	return []string{h.Name, ref, hpaMetrics(h.Spec.Metrics, h.Status.CurrentMetrics), minPods,
		fmt.Sprint(h.Spec.MaxReplicas), fmt.Sprint(h.Status.CurrentReplicas), age(h.CreationTimestamp, now)}
}

// hpaMetrics is the TARGETS column: "current/target" per metric, at most
// two, then "+ N more...".
func hpaMetrics(specs []autoscalingv2.MetricSpec, statuses []autoscalingv2.MetricStatus) string {
	if len(specs) == 0 {
		return none
	}
	const max = 2
	var list []string
	for i, spec := range specs {
		var st *autoscalingv2.MetricStatus
		if i < len(statuses) {
			st = &statuses[i]
		}
		list = append(list, hpaMetric(spec, st))
	}
	if len(list) > max {
		return fmt.Sprintf("%s + %d more...", strings.Join(list[:max], ", "), len(list)-max)
	}
	return strings.Join(list, ", ")
}

func hpaMetric(spec autoscalingv2.MetricSpec, st *autoscalingv2.MetricStatus) string {
	switch spec.Type {
	case autoscalingv2.ExternalMetricSourceType:
		var cur *autoscalingv2.MetricValueStatus
		if st != nil && st.External != nil {
			cur = &st.External.Current
		}
		return valueTarget(spec.External.Target, cur)
	case autoscalingv2.ObjectMetricSourceType:
		var cur *autoscalingv2.MetricValueStatus
		if st != nil && st.Object != nil {
			cur = &st.Object.Current
		}
		return valueTarget(spec.Object.Target, cur)
	case autoscalingv2.PodsMetricSourceType:
		current := unknown
		if st != nil && st.Pods != nil {
			current = st.Pods.Current.AverageValue.String()
		}
		return current + "/" + spec.Pods.Target.AverageValue.String()
	case autoscalingv2.ResourceMetricSourceType:
		var cur *autoscalingv2.MetricValueStatus
		if st != nil && st.Resource != nil {
			cur = &st.Resource.Current
		}
		return string(spec.Resource.Name) + ": " + utilizationTarget(spec.Resource.Target, cur)
	case autoscalingv2.ContainerResourceMetricSourceType:
		var cur *autoscalingv2.MetricValueStatus
		if st != nil && st.ContainerResource != nil {
			cur = &st.ContainerResource.Current
		}
		return string(spec.ContainerResource.Name) + ": " + utilizationTarget(spec.ContainerResource.Target, cur)
	}
	return "<unknown type>"
}

// valueTarget formats an object or external metric. Quantity's String
// prints "<nil>" for a missing value, as kubectl shows it.
func valueTarget(t autoscalingv2.MetricTarget, cur *autoscalingv2.MetricValueStatus) string {
	current := unknown
	if t.AverageValue != nil {
		if cur != nil && cur.AverageValue != nil {
			current = cur.AverageValue.String()
		}
		return fmt.Sprintf("%s/%s (avg)", current, t.AverageValue.String())
	}
	if cur != nil {
		current = cur.Value.String()
	}
	return current + "/" + t.Value.String()
}

// utilizationTarget formats a resource metric: "42%/80%" or "200Mi/500Mi".
func utilizationTarget(t autoscalingv2.MetricTarget, cur *autoscalingv2.MetricValueStatus) string {
	current := unknown
	if t.AverageValue != nil {
		if cur != nil {
			current = cur.AverageValue.String()
		}
		return current + "/" + t.AverageValue.String()
	}
	if cur != nil && cur.AverageUtilization != nil {
		current = fmt.Sprintf("%d%%", *cur.AverageUtilization)
	}
	target := "<auto>"
	if t.AverageUtilization != nil {
		target = fmt.Sprintf("%d%%", *t.AverageUtilization)
	}
	return current + "/" + target
}

var pdbColumns = cols("NAME", "MIN AVAILABLE", "MAX UNAVAILABLE", "ALLOWED DISRUPTIONS", "AGE")

func pdbRow(p *policyv1.PodDisruptionBudget, now time.Time) []string {
	intOrNA := func(v *intstr.IntOrString) string {
		if v == nil {
			return "N/A"
		}
		return v.String()
	}
	return []string{p.Name, intOrNA(p.Spec.MinAvailable), intOrNA(p.Spec.MaxUnavailable),
		fmt.Sprint(p.Status.DisruptionsAllowed), age(p.CreationTimestamp, now)}
}
