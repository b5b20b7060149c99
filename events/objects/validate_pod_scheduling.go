package objects

import (
	"strconv"

	corev1 "k8s.io/api/core/v1"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Validation of where a pod may run: tolerations, node and pod
// (anti-)affinity, and topology spread constraints.

func validateToleration(t *corev1.Toleration, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if t.Key != "" {
		errs = append(errs, metavalidation.ValidateLabelName(t.Key, p.Child("key"))...)
	}
	if t.Key == "" && t.Operator != corev1.TolerationOpExists {
		errs = append(errs, field.Invalid(p.Child("operator"), t.Operator,
			"operator must be Exists when `key` is empty, which means \"match all values and all keys\""))
	}
	if t.TolerationSeconds != nil && t.Effect != corev1.TaintEffectNoExecute {
		errs = append(errs, field.Invalid(p.Child("effect"), t.Effect, "effect must be 'NoExecute' when `tolerationSeconds` is set"))
	}
	switch t.Operator {
	case corev1.TolerationOpEqual, "":
		errs = append(errs, msgErrs(p.Child("value"), t.Value, validation.IsValidLabelValue(t.Value))...)
	case corev1.TolerationOpExists:
		if t.Value != "" {
			errs = append(errs, field.Invalid(p.Child("value"), t.Value, "value must be empty when `operator` is 'Exists'"))
		}
	default:
		errs = append(errs, field.NotSupported(p.Child("operator"), t.Operator,
			[]corev1.TolerationOperator{corev1.TolerationOpEqual, corev1.TolerationOpExists}))
	}
	errs = append(errs, validateOptionalEnum(t.Effect, taintEffects, p.Child("effect"))...)
	return errs
}

func validateAffinity(a *corev1.Affinity, p *field.Path) field.ErrorList {
	if a == nil {
		return nil
	}
	var errs field.ErrorList
	if na := a.NodeAffinity; na != nil {
		np := p.Child("nodeAffinity")
		if r := na.RequiredDuringSchedulingIgnoredDuringExecution; r != nil {
			rp := np.Child("requiredDuringSchedulingIgnoredDuringExecution")
			if len(r.NodeSelectorTerms) == 0 {
				errs = append(errs, field.Required(rp.Child("nodeSelectorTerms"), "must have at least one node selector term"))
			}
			for i := range r.NodeSelectorTerms {
				errs = append(errs, validateNodeSelectorTerm(&r.NodeSelectorTerms[i], rp.Child("nodeSelectorTerms").Index(i))...)
			}
		}
		for i, pt := range na.PreferredDuringSchedulingIgnoredDuringExecution {
			pp := np.Child("preferredDuringSchedulingIgnoredDuringExecution").Index(i)
			errs = append(errs, validateWeight(pt.Weight, pp.Child("weight"))...)
			errs = append(errs, validateNodeSelectorTerm(&pt.Preference, pp.Child("preference"))...)
		}
	}
	for _, pa := range []struct {
		name     string
		required []corev1.PodAffinityTerm
		weighted []corev1.WeightedPodAffinityTerm
		set      bool
	}{
		{"podAffinity", podAffinityRequired(a.PodAffinity), podAffinityPreferred(a.PodAffinity), a.PodAffinity != nil},
		{"podAntiAffinity", podAntiRequired(a.PodAntiAffinity), podAntiPreferred(a.PodAntiAffinity), a.PodAntiAffinity != nil},
	} {
		if !pa.set {
			continue
		}
		pp := p.Child(pa.name)
		for i := range pa.required {
			errs = append(errs, validatePodAffinityTerm(&pa.required[i], pp.Child("requiredDuringSchedulingIgnoredDuringExecution").Index(i))...)
		}
		for i := range pa.weighted {
			wp := pp.Child("preferredDuringSchedulingIgnoredDuringExecution").Index(i)
			errs = append(errs, validateWeight(pa.weighted[i].Weight, wp.Child("weight"))...)
			errs = append(errs, validatePodAffinityTerm(&pa.weighted[i].PodAffinityTerm, wp.Child("podAffinityTerm"))...)
		}
	}
	return errs
}

func podAffinityRequired(a *corev1.PodAffinity) []corev1.PodAffinityTerm {
	if a == nil {
		return nil
	}
	return a.RequiredDuringSchedulingIgnoredDuringExecution
}

func podAffinityPreferred(a *corev1.PodAffinity) []corev1.WeightedPodAffinityTerm {
	if a == nil {
		return nil
	}
	return a.PreferredDuringSchedulingIgnoredDuringExecution
}

func podAntiRequired(a *corev1.PodAntiAffinity) []corev1.PodAffinityTerm {
	if a == nil {
		return nil
	}
	return a.RequiredDuringSchedulingIgnoredDuringExecution
}

func podAntiPreferred(a *corev1.PodAntiAffinity) []corev1.WeightedPodAffinityTerm {
	if a == nil {
		return nil
	}
	return a.PreferredDuringSchedulingIgnoredDuringExecution
}

func validateWeight(w int32, p *field.Path) field.ErrorList {
	if w < 1 || w > 100 {
		return field.ErrorList{field.Invalid(p, w, validation.InclusiveRangeError(1, 100))}
	}
	return nil
}

func validateNodeSelectorTerm(t *corev1.NodeSelectorTerm, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, r := range t.MatchExpressions {
		rp := p.Child("matchExpressions").Index(i)
		errs = append(errs, metavalidation.ValidateLabelName(r.Key, rp.Child("key"))...)
		errs = append(errs, validateNodeSelectorValues(r.Operator, r.Values, rp)...)
	}
	for i, r := range t.MatchFields {
		rp := p.Child("matchFields").Index(i)
		if r.Key != "metadata.name" {
			errs = append(errs, field.NotSupported(rp.Child("key"), r.Key, []string{"metadata.name"}))
		}
		if r.Operator != corev1.NodeSelectorOpIn && r.Operator != corev1.NodeSelectorOpNotIn {
			errs = append(errs, field.NotSupported(rp.Child("operator"), r.Operator, []corev1.NodeSelectorOperator{corev1.NodeSelectorOpIn, corev1.NodeSelectorOpNotIn}))
		} else if len(r.Values) != 1 {
			errs = append(errs, field.Required(rp.Child("values"), "must be only one value when `operator` is 'In' or 'NotIn' for node field selector"))
		}
	}
	return errs
}

func validateNodeSelectorValues(op corev1.NodeSelectorOperator, values []string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	vp := p.Child("values")
	switch op {
	case corev1.NodeSelectorOpIn, corev1.NodeSelectorOpNotIn:
		if len(values) == 0 {
			errs = append(errs, field.Required(vp, "must be specified when `operator` is 'In' or 'NotIn'"))
		}
	case corev1.NodeSelectorOpExists, corev1.NodeSelectorOpDoesNotExist:
		if len(values) > 0 {
			errs = append(errs, field.Forbidden(vp, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
		}
	case corev1.NodeSelectorOpGt, corev1.NodeSelectorOpLt:
		if len(values) != 1 {
			errs = append(errs, field.Required(vp, "must be specified single value when `operator` is 'Lt' or 'Gt'"))
		} else if _, err := strconv.ParseInt(values[0], 10, 64); err != nil {
			errs = append(errs, field.Invalid(vp.Index(0), values[0], "must be an integer when `operator` is 'Lt' or 'Gt'"))
		}
		return errs
	default:
		return append(errs, field.NotSupported(p.Child("operator"), op, nodeSelectorOps))
	}
	for i, v := range values {
		errs = append(errs, msgErrs(vp.Index(i), v, validation.IsValidLabelValue(v))...)
	}
	return errs
}

func validatePodAffinityTerm(t *corev1.PodAffinityTerm, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if t.TopologyKey == "" {
		errs = append(errs, field.Required(p.Child("topologyKey"), "can not be empty"))
	} else {
		errs = append(errs, metavalidation.ValidateLabelName(t.TopologyKey, p.Child("topologyKey"))...)
	}
	errs = append(errs, validateLabelSelector(t.LabelSelector, p.Child("labelSelector"))...)
	errs = append(errs, validateLabelSelector(t.NamespaceSelector, p.Child("namespaceSelector"))...)
	for i, ns := range t.Namespaces {
		errs = append(errs, validateDNSLabel(ns, p.Child("namespaces").Index(i))...)
	}
	return errs
}

func validateSpreadConstraint(c *corev1.TopologySpreadConstraint, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if c.MaxSkew <= 0 {
		errs = append(errs, field.Invalid(p.Child("maxSkew"), c.MaxSkew, "must be greater than zero"))
	}
	if c.TopologyKey == "" {
		errs = append(errs, field.Required(p.Child("topologyKey"), "can not be empty"))
	} else {
		errs = append(errs, metavalidation.ValidateLabelName(c.TopologyKey, p.Child("topologyKey"))...)
	}
	errs = append(errs, validateEnum(c.WhenUnsatisfiable, unsatisfiableActions, p.Child("whenUnsatisfiable"))...)
	errs = append(errs, validateLabelSelector(c.LabelSelector, p.Child("labelSelector"))...)
	return errs
}
