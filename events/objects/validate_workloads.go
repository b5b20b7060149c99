package objects

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// selectorMismatch is the detail of the error on a template whose labels
// the workload's selector does not select.
const selectorMismatch = "selector does not match template labels"

// validateSelectorAndTemplate checks a workload's selector (required,
// non-empty) against its pod template, and the template itself. allowed
// restricts the template's restartPolicy.
func validateSelectorAndTemplate(sel *metav1.LabelSelector, selRequired bool, t *corev1.PodTemplateSpec, allowed []corev1.RestartPolicy, p *field.Path, extraVolumes ...string) field.ErrorList {
	var errs field.ErrorList
	sp := p.Child("selector")
	tp := p.Child("template")
	switch {
	case sel == nil && selRequired:
		errs = append(errs, field.Required(sp, ""))
	case sel != nil:
		errs = append(errs, validateLabelSelector(sel, sp)...)
		if len(sel.MatchLabels)+len(sel.MatchExpressions) == 0 {
			errs = append(errs, field.Invalid(sp, sel, "empty selector is invalid for this kind"))
			break
		}
		s, err := metav1.LabelSelectorAsSelector(sel)
		if err != nil {
			break // reported by validateLabelSelector
		}
		if !s.Matches(labels.Set(t.Labels)) {
			errs = append(errs, field.Invalid(tp.Child("metadata", "labels"), t.Labels, selectorMismatch))
		}
	}
	errs = append(errs, validateTemplateMeta(&t.ObjectMeta, tp.Child("metadata"))...)
	specP := tp.Child("spec")
	errs = append(errs, validatePodSpec(&t.Spec, specP, extraVolumes...)...)
	if t.Spec.RestartPolicy != "" {
		errs = append(errs, validateOptionalEnum(t.Spec.RestartPolicy, allowed, specP.Child("restartPolicy"))...)
	}
	return errs
}

var alwaysRestart = []corev1.RestartPolicy{corev1.RestartPolicyAlways}

// validateLongRunningTemplate is for workloads whose pods run forever:
// they restart always and have no deadline.
func validateLongRunningTemplate(sel *metav1.LabelSelector, t *corev1.PodTemplateSpec, p *field.Path, extraVolumes ...string) field.ErrorList {
	errs := validateSelectorAndTemplate(sel, true, t, alwaysRestart, p, extraVolumes...)
	if t.Spec.ActiveDeadlineSeconds != nil {
		errs = append(errs, field.Forbidden(p.Child("template", "spec", "activeDeadlineSeconds"), "activeDeadlineSeconds may not be set for this kind"))
	}
	return errs
}

func validateReplicaSet(rs *appsv1.ReplicaSet) field.ErrorList {
	errs := nonNegativePtr32(rs.Spec.Replicas, specPath.Child("replicas"))
	errs = append(errs, nonNegative32(rs.Spec.MinReadySeconds, specPath.Child("minReadySeconds"))...)
	return append(errs, validateLongRunningTemplate(rs.Spec.Selector, &rs.Spec.Template, specPath)...)
}

func validateDeployment(d *appsv1.Deployment) field.ErrorList {
	s := &d.Spec
	errs := nonNegativePtr32(s.Replicas, specPath.Child("replicas"))
	errs = append(errs, nonNegative32(s.MinReadySeconds, specPath.Child("minReadySeconds"))...)
	errs = append(errs, nonNegativePtr32(s.RevisionHistoryLimit, specPath.Child("revisionHistoryLimit"))...)
	if pd := s.ProgressDeadlineSeconds; pd != nil {
		errs = append(errs, nonNegative32(*pd, specPath.Child("progressDeadlineSeconds"))...)
		if *pd <= s.MinReadySeconds {
			errs = append(errs, field.Invalid(specPath.Child("progressDeadlineSeconds"), *pd, "must be greater than minReadySeconds"))
		}
	}
	errs = append(errs, validateLongRunningTemplate(s.Selector, &s.Template, specPath)...)
	sp := specPath.Child("strategy")
	errs = append(errs, validateEnum(s.Strategy.Type, []appsv1.DeploymentStrategyType{appsv1.RecreateDeploymentStrategyType,
		appsv1.RollingUpdateDeploymentStrategyType}, sp.Child("type"))...)
	ru := s.Strategy.RollingUpdate
	switch {
	case s.Strategy.Type == appsv1.RecreateDeploymentStrategyType && ru != nil:
		errs = append(errs, field.Forbidden(sp.Child("rollingUpdate"), "may not be specified when strategy `type` is 'Recreate'"))
	case s.Strategy.Type == appsv1.RollingUpdateDeploymentStrategyType && ru == nil:
		errs = append(errs, field.Required(sp.Child("rollingUpdate"), "this should be defaulted and never be nil"))
	case ru != nil:
		errs = append(errs, validateRollingUpdate(ru.MaxUnavailable, ru.MaxSurge, sp.Child("rollingUpdate"))...)
	}
	return errs
}

// validateRollingUpdate checks maxUnavailable and maxSurge: counts or
// percentages, not both zero (the rollout could never progress).
func validateRollingUpdate(mu, ms *intstr.IntOrString, p *field.Path) field.ErrorList {
	errs := validateIntOrPercent(mu, true, p.Child("maxUnavailable"))
	errs = append(errs, validateIntOrPercent(ms, false, p.Child("maxSurge"))...)
	if intOrPercentIsZero(mu) && (ms == nil || intOrPercentIsZero(ms)) {
		errs = append(errs, field.Invalid(p.Child("maxUnavailable"), mu.String(), "may not be 0 when `maxSurge` is 0"))
	}
	return errs
}

func validateDaemonSet(ds *appsv1.DaemonSet) field.ErrorList {
	s := &ds.Spec
	errs := nonNegative32(s.MinReadySeconds, specPath.Child("minReadySeconds"))
	errs = append(errs, nonNegativePtr32(s.RevisionHistoryLimit, specPath.Child("revisionHistoryLimit"))...)
	errs = append(errs, validateLongRunningTemplate(s.Selector, &s.Template, specPath)...)
	up := specPath.Child("updateStrategy")
	errs = append(errs, validateEnum(s.UpdateStrategy.Type, []appsv1.DaemonSetUpdateStrategyType{appsv1.OnDeleteDaemonSetStrategyType,
		appsv1.RollingUpdateDaemonSetStrategyType}, up.Child("type"))...)
	ru := s.UpdateStrategy.RollingUpdate
	switch {
	case s.UpdateStrategy.Type == appsv1.OnDeleteDaemonSetStrategyType && ru != nil:
		errs = append(errs, field.Forbidden(up.Child("rollingUpdate"), "may not be specified when strategy `type` is 'OnDelete'"))
	case s.UpdateStrategy.Type == appsv1.RollingUpdateDaemonSetStrategyType && ru == nil:
		errs = append(errs, field.Required(up.Child("rollingUpdate"), "this should be defaulted and never be nil"))
	case ru != nil:
		errs = append(errs, validateRollingUpdate(ru.MaxUnavailable, ru.MaxSurge, up.Child("rollingUpdate"))...)
	}
	return errs
}

func validateStatefulSet(ss *appsv1.StatefulSet) field.ErrorList {
	s := &ss.Spec
	errs := nonNegativePtr32(s.Replicas, specPath.Child("replicas"))
	errs = append(errs, nonNegative32(s.MinReadySeconds, specPath.Child("minReadySeconds"))...)
	errs = append(errs, nonNegativePtr32(s.RevisionHistoryLimit, specPath.Child("revisionHistoryLimit"))...)
	if s.ServiceName != "" {
		errs = append(errs, validateDNSLabel(s.ServiceName, specPath.Child("serviceName"))...)
	}
	errs = append(errs, validateEnum(s.PodManagementPolicy, []appsv1.PodManagementPolicyType{appsv1.OrderedReadyPodManagement,
		appsv1.ParallelPodManagement}, specPath.Child("podManagementPolicy"))...)
	up := specPath.Child("updateStrategy")
	errs = append(errs, validateEnum(s.UpdateStrategy.Type, []appsv1.StatefulSetUpdateStrategyType{appsv1.RollingUpdateStatefulSetStrategyType,
		appsv1.OnDeleteStatefulSetStrategyType}, up.Child("type"))...)
	if ru := s.UpdateStrategy.RollingUpdate; ru != nil {
		if s.UpdateStrategy.Type == appsv1.OnDeleteStatefulSetStrategyType {
			errs = append(errs, field.Invalid(up.Child("rollingUpdate"), ru, "only allowed for updateStrategy 'RollingUpdate'"))
		}
		errs = append(errs, nonNegativePtr32(ru.Partition, up.Child("rollingUpdate", "partition"))...)
		if ru.MaxUnavailable != nil {
			mp := up.Child("rollingUpdate", "maxUnavailable")
			errs = append(errs, validateIntOrPercent(ru.MaxUnavailable, true, mp)...)
			if intOrPercentIsZero(ru.MaxUnavailable) {
				errs = append(errs, field.Invalid(mp, ru.MaxUnavailable.String(), "must be greater than 0"))
			}
		}
	}
	var claims []string
	for _, c := range s.VolumeClaimTemplates {
		claims = append(claims, c.Name)
	}
	errs = append(errs, validateLongRunningTemplate(s.Selector, &s.Template, specPath, claims...)...)
	names := map[string]bool{}
	for i := range s.VolumeClaimTemplates {
		vp := specPath.Child("volumeClaimTemplates").Index(i)
		pvc := &s.VolumeClaimTemplates[i]
		if pvc.Name == "" {
			errs = append(errs, field.Required(vp.Child("metadata", "name"), ""))
		} else {
			errs = append(errs, validateDNSSubdomain(pvc.Name, vp.Child("metadata", "name"))...)
			if names[pvc.Name] {
				errs = append(errs, field.Duplicate(vp.Child("metadata", "name"), pvc.Name))
			}
		}
		names[pvc.Name] = true
		errs = append(errs, validatePVCSpec(&pvc.Spec, vp.Child("spec"))...)
	}
	return errs
}
