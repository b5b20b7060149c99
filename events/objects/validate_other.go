package objects

import (
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/api/validation/path"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func validateNamespace(ns *corev1.Namespace) field.ErrorList {
	var errs field.ErrorList
	for i, f := range ns.Spec.Finalizers {
		errs = append(errs, validateQualifiedName(string(f), specPath.Child("finalizers").Index(i))...)
	}
	return errs
}

func validateNode(n *corev1.Node) field.ErrorList {
	var errs field.ErrorList
	if n.Spec.PodCIDR != "" {
		errs = append(errs, validation.IsValidCIDR(specPath.Child("podCIDR"), n.Spec.PodCIDR)...)
	}
	for i, c := range n.Spec.PodCIDRs {
		errs = append(errs, validation.IsValidCIDR(specPath.Child("podCIDRs").Index(i), c)...)
	}
	for i, t := range n.Spec.Taints {
		tp := specPath.Child("taints").Index(i)
		errs = append(errs, metavalidation.ValidateLabelName(t.Key, tp.Child("key"))...)
		if t.Value != "" {
			errs = append(errs, msgErrs(tp.Child("value"), t.Value, validation.IsValidLabelValue(t.Value))...)
		}
		errs = append(errs, validateEnum(t.Effect, taintEffects, tp.Child("effect"))...)
	}
	for name, q := range n.Status.Capacity {
		errs = append(errs, validateNonNegativeQuantity(q, field.NewPath("status", "capacity").Key(string(name)))...)
	}
	for name, q := range n.Status.Allocatable {
		errs = append(errs, validateNonNegativeQuantity(q, field.NewPath("status", "allocatable").Key(string(name)))...)
	}
	return errs
}

func validateServiceAccount(sa *corev1.ServiceAccount) field.ErrorList {
	var errs field.ErrorList
	for i, ref := range sa.ImagePullSecrets {
		if ref.Name == "" {
			errs = append(errs, field.Required(field.NewPath("imagePullSecrets").Index(i).Child("name"), ""))
		}
	}
	for i, ref := range sa.Secrets {
		if ref.Name == "" {
			errs = append(errs, field.Required(field.NewPath("secrets").Index(i).Child("name"), ""))
		}
	}
	return errs
}

var metricSourceTypes = []autoscalingv2.MetricSourceType{autoscalingv2.ObjectMetricSourceType, autoscalingv2.PodsMetricSourceType,
	autoscalingv2.ResourceMetricSourceType, autoscalingv2.ContainerResourceMetricSourceType, autoscalingv2.ExternalMetricSourceType}

// metricSourceFields maps a metric type to the field that must hold it.
var metricSourceFields = map[autoscalingv2.MetricSourceType]string{
	autoscalingv2.ObjectMetricSourceType:            "object",
	autoscalingv2.PodsMetricSourceType:              "pods",
	autoscalingv2.ResourceMetricSourceType:          "resource",
	autoscalingv2.ContainerResourceMetricSourceType: "containerResource",
	autoscalingv2.ExternalMetricSourceType:          "external",
}

func validateHPA(h *autoscalingv2.HorizontalPodAutoscaler) field.ErrorList {
	s := &h.Spec
	var errs field.ErrorList
	rp := specPath.Child("scaleTargetRef")
	if s.ScaleTargetRef.Kind == "" {
		errs = append(errs, field.Required(rp.Child("kind"), ""))
	} else {
		errs = append(errs, msgErrs(rp.Child("kind"), s.ScaleTargetRef.Kind, path.IsValidPathSegmentName(s.ScaleTargetRef.Kind))...)
	}
	if s.ScaleTargetRef.Name == "" {
		errs = append(errs, field.Required(rp.Child("name"), ""))
	} else {
		errs = append(errs, msgErrs(rp.Child("name"), s.ScaleTargetRef.Name, path.IsValidPathSegmentName(s.ScaleTargetRef.Name))...)
	}
	if s.MinReplicas != nil && *s.MinReplicas < 1 {
		errs = append(errs, field.Invalid(specPath.Child("minReplicas"), *s.MinReplicas, "must be greater than or equal to 1"))
	}
	if s.MaxReplicas < 1 {
		errs = append(errs, field.Invalid(specPath.Child("maxReplicas"), s.MaxReplicas, "must be greater than 0"))
	}
	if s.MinReplicas != nil && s.MaxReplicas < *s.MinReplicas {
		errs = append(errs, field.Invalid(specPath.Child("maxReplicas"), s.MaxReplicas, "must be greater than or equal to `minReplicas`"))
	}
	for i := range s.Metrics {
		errs = append(errs, validateMetricSpec(&s.Metrics[i], specPath.Child("metrics").Index(i))...)
	}
	if b := s.Behavior; b != nil {
		bp := specPath.Child("behavior")
		errs = append(errs, validateScalingRules(b.ScaleUp, bp.Child("scaleUp"))...)
		errs = append(errs, validateScalingRules(b.ScaleDown, bp.Child("scaleDown"))...)
	}
	return errs
}

func validateMetricSpec(m *autoscalingv2.MetricSpec, p *field.Path) field.ErrorList {
	errs := validateEnum(m.Type, metricSourceTypes, p.Child("type"))
	set := setPointerFields(m)
	if len(set) != 1 {
		return append(errs, field.Invalid(p, set, "must populate exactly one metric source matching `type`"))
	}
	if want := metricSourceFields[m.Type]; want != "" && set[0] != want {
		errs = append(errs, field.Forbidden(p.Child(set[0]), "must populate information for the given metric source only"))
	}
	var target *autoscalingv2.MetricTarget
	var tp *field.Path
	switch {
	case m.Resource != nil:
		rp := p.Child("resource")
		if m.Resource.Name == "" {
			errs = append(errs, field.Required(rp.Child("name"), "must specify a resource name"))
		}
		target, tp = &m.Resource.Target, rp.Child("target")
	case m.ContainerResource != nil:
		cp := p.Child("containerResource")
		if m.ContainerResource.Container == "" {
			errs = append(errs, field.Required(cp.Child("container"), "must specify a container"))
		}
		target, tp = &m.ContainerResource.Target, cp.Child("target")
	case m.Pods != nil:
		if m.Pods.Metric.Name == "" {
			errs = append(errs, field.Required(p.Child("pods", "metric", "name"), "must specify a metric name"))
		}
		target, tp = &m.Pods.Target, p.Child("pods", "target")
	case m.Object != nil:
		if m.Object.Metric.Name == "" {
			errs = append(errs, field.Required(p.Child("object", "metric", "name"), "must specify a metric name"))
		}
		target, tp = &m.Object.Target, p.Child("object", "target")
	case m.External != nil:
		if m.External.Metric.Name == "" {
			errs = append(errs, field.Required(p.Child("external", "metric", "name"), "must specify a metric name"))
		}
		target, tp = &m.External.Target, p.Child("external", "target")
	}
	return append(errs, validateMetricTarget(target, tp)...)
}

func validateMetricTarget(t *autoscalingv2.MetricTarget, p *field.Path) field.ErrorList {
	errs := validateEnum(t.Type, []autoscalingv2.MetricTargetType{autoscalingv2.UtilizationMetricType,
		autoscalingv2.ValueMetricType, autoscalingv2.AverageValueMetricType}, p.Child("type"))
	switch t.Type {
	case autoscalingv2.UtilizationMetricType:
		if t.AverageUtilization == nil {
			errs = append(errs, field.Required(p.Child("averageUtilization"), "must be set when `type` is Utilization"))
		} else if *t.AverageUtilization <= 0 {
			errs = append(errs, field.Invalid(p.Child("averageUtilization"), *t.AverageUtilization, "must be greater than 0"))
		}
	case autoscalingv2.ValueMetricType:
		errs = append(errs, positiveQuantity(t.Value, "value", p)...)
	case autoscalingv2.AverageValueMetricType:
		errs = append(errs, positiveQuantity(t.AverageValue, "averageValue", p)...)
	}
	return errs
}

func positiveQuantity(q *resource.Quantity, name string, p *field.Path) field.ErrorList {
	if q == nil {
		return field.ErrorList{field.Required(p.Child(name), "must be set for this target type")}
	}
	if q.Sign() <= 0 {
		return field.ErrorList{field.Invalid(p.Child(name), q.String(), "must be positive")}
	}
	return nil
}

func validateScalingRules(r *autoscalingv2.HPAScalingRules, p *field.Path) field.ErrorList {
	if r == nil {
		return nil
	}
	var errs field.ErrorList
	if w := r.StabilizationWindowSeconds; w != nil && (*w < 0 || *w > 3600) {
		errs = append(errs, field.Invalid(p.Child("stabilizationWindowSeconds"), *w, validation.InclusiveRangeError(0, 3600)))
	}
	if r.SelectPolicy != nil {
		errs = append(errs, validateEnum(*r.SelectPolicy, []autoscalingv2.ScalingPolicySelect{autoscalingv2.MaxChangePolicySelect,
			autoscalingv2.MinChangePolicySelect, autoscalingv2.DisabledPolicySelect}, p.Child("selectPolicy"))...)
	}
	for i, pol := range r.Policies {
		pp := p.Child("policies").Index(i)
		errs = append(errs, validateEnum(pol.Type, []autoscalingv2.HPAScalingPolicyType{autoscalingv2.PodsScalingPolicy,
			autoscalingv2.PercentScalingPolicy}, pp.Child("type"))...)
		if pol.Value <= 0 {
			errs = append(errs, field.Invalid(pp.Child("value"), pol.Value, "must be greater than zero"))
		}
		if pol.PeriodSeconds <= 0 || pol.PeriodSeconds > 1800 {
			errs = append(errs, field.Invalid(pp.Child("periodSeconds"), pol.PeriodSeconds, validation.InclusiveRangeError(1, 1800)))
		}
	}
	return errs
}

// validatePDB requires exactly one of minAvailable and maxUnavailable.
// Kubernetes also accepts neither; Strom asks the user to say which.
func validatePDB(pdb *policyv1.PodDisruptionBudget) field.ErrorList {
	s := &pdb.Spec
	var errs field.ErrorList
	switch {
	case s.MinAvailable != nil && s.MaxUnavailable != nil:
		errs = append(errs, field.Invalid(specPath, s, "minAvailable and maxUnavailable cannot be both set"))
	case s.MinAvailable == nil && s.MaxUnavailable == nil:
		errs = append(errs, field.Required(specPath.Child("minAvailable"), "one of minAvailable or maxUnavailable is required"))
	}
	errs = append(errs, validateIntOrPercent(s.MinAvailable, true, specPath.Child("minAvailable"))...)
	errs = append(errs, validateIntOrPercent(s.MaxUnavailable, true, specPath.Child("maxUnavailable"))...)
	errs = append(errs, validateLabelSelector(s.Selector, specPath.Child("selector"))...)
	if s.UnhealthyPodEvictionPolicy != nil {
		errs = append(errs, validateEnum(*s.UnhealthyPodEvictionPolicy, []policyv1.UnhealthyPodEvictionPolicyType{
			policyv1.IfHealthyBudget, policyv1.AlwaysAllow}, specPath.Child("unhealthyPodEvictionPolicy"))...)
	}
	return errs
}

var quotaScopes = []corev1.ResourceQuotaScope{corev1.ResourceQuotaScopeTerminating, corev1.ResourceQuotaScopeNotTerminating,
	corev1.ResourceQuotaScopeBestEffort, corev1.ResourceQuotaScopeNotBestEffort, corev1.ResourceQuotaScopePriorityClass,
	corev1.ResourceQuotaScopeCrossNamespacePodAffinity, corev1.ResourceQuotaScopeVolumeAttributesClass}

func validateResourceQuota(q *corev1.ResourceQuota) field.ErrorList {
	var errs field.ErrorList
	hp := specPath.Child("hard")
	for name, v := range q.Spec.Hard {
		kp := hp.Key(string(name))
		errs = append(errs, validateQualifiedName(string(name), kp)...)
		errs = append(errs, validateNonNegativeQuantity(v, kp)...)
	}
	for i, s := range q.Spec.Scopes {
		errs = append(errs, validateEnum(s, quotaScopes, specPath.Child("scopes").Index(i))...)
	}
	return errs
}

var limitTypes = []corev1.LimitType{corev1.LimitTypePod, corev1.LimitTypeContainer, corev1.LimitTypePersistentVolumeClaim}

func validateLimitRange(l *corev1.LimitRange) field.ErrorList {
	var errs field.ErrorList
	seen := map[corev1.LimitType]bool{}
	for i := range l.Spec.Limits {
		it := &l.Spec.Limits[i]
		p := specPath.Child("limits").Index(i)
		errs = append(errs, validateEnum(it.Type, limitTypes, p.Child("type"))...)
		if seen[it.Type] {
			errs = append(errs, field.Duplicate(p.Child("type"), it.Type))
		}
		seen[it.Type] = true
		lists := []struct {
			name string
			list corev1.ResourceList
		}{{"max", it.Max}, {"min", it.Min}, {"default", it.Default}, {"defaultRequest", it.DefaultRequest}, {"maxLimitRequestRatio", it.MaxLimitRequestRatio}}
		for _, l := range lists {
			for name, q := range l.list {
				kp := p.Child(l.name).Key(string(name))
				errs = append(errs, validateQualifiedName(string(name), kp)...)
				errs = append(errs, validateNonNegativeQuantity(q, kp)...)
			}
		}
		if it.Type == corev1.LimitTypePod && (len(it.Default) > 0 || len(it.DefaultRequest) > 0) {
			errs = append(errs, field.Forbidden(p.Child("default"), "may not be set when `type` is 'Pod'"))
		}
		errs = append(errs, notAbove(it.Min, it.Max, "max", p.Child("min"))...)
		errs = append(errs, notAbove(it.Default, it.Max, "max", p.Child("default"))...)
		errs = append(errs, notAbove(it.Min, it.Default, "default", p.Child("min"))...)
		errs = append(errs, notAbove(it.DefaultRequest, it.Max, "max", p.Child("defaultRequest"))...)
		errs = append(errs, notAbove(it.Min, it.DefaultRequest, "defaultRequest", p.Child("min"))...)
		errs = append(errs, notAbove(it.DefaultRequest, it.Default, "default", p.Child("defaultRequest"))...)
		for name, q := range it.MaxLimitRequestRatio {
			if q.Cmp(resource.MustParse("1")) < 0 {
				errs = append(errs, field.Invalid(p.Child("maxLimitRequestRatio").Key(string(name)), q.String(), "ratio must be greater than or equal to 1"))
			}
		}
	}
	return errs
}

// notAbove reports each resource of small that exceeds the same resource
// of big.
func notAbove(small, big corev1.ResourceList, bigName string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for name, q := range small {
		if b, ok := big[name]; ok && q.Cmp(b) > 0 {
			errs = append(errs, field.Invalid(p.Key(string(name)), q.String(), "must be less than or equal to "+bigName+" value "+b.String()))
		}
	}
	return errs
}

func validateEvent(e *corev1.Event) field.ErrorList {
	var errs field.ErrorList
	ip := field.NewPath("involvedObject")
	if e.InvolvedObject.Kind == "" {
		errs = append(errs, field.Required(ip.Child("kind"), ""))
	}
	if e.InvolvedObject.Name == "" {
		errs = append(errs, field.Required(ip.Child("name"), ""))
	}
	if ns := e.InvolvedObject.Namespace; ns != "" && ns != e.Namespace {
		errs = append(errs, field.Invalid(ip.Child("namespace"), ns, "does not match event.namespace"))
	}
	errs = append(errs, validateOptionalEnum(e.Type, []string{corev1.EventTypeNormal, corev1.EventTypeWarning}, field.NewPath("type"))...)
	errs = append(errs, apivalidation.ValidateNonnegativeField(int64(e.Count), field.NewPath("count"))...)
	return errs
}
