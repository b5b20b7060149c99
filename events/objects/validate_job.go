package objects

import (
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var jobRestartPolicies = []corev1.RestartPolicy{corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever}

// validateJobSpec checks a Job's spec or a CronJob's job template spec,
// as Kubernetes' batch validation does.
func validateJobSpec(s *batchv1.JobSpec, p *field.Path) field.ErrorList {
	errs := nonNegativePtr32(s.Parallelism, p.Child("parallelism"))
	errs = append(errs, nonNegativePtr32(s.Completions, p.Child("completions"))...)
	errs = append(errs, nonNegativePtr32(s.BackoffLimit, p.Child("backoffLimit"))...)
	errs = append(errs, nonNegativePtr32(s.TTLSecondsAfterFinished, p.Child("ttlSecondsAfterFinished"))...)
	errs = append(errs, nonNegativePtr32(s.BackoffLimitPerIndex, p.Child("backoffLimitPerIndex"))...)
	errs = append(errs, nonNegativePtr32(s.MaxFailedIndexes, p.Child("maxFailedIndexes"))...)
	if a := s.ActiveDeadlineSeconds; a != nil && *a <= 0 {
		errs = append(errs, field.Invalid(p.Child("activeDeadlineSeconds"), *a, "must be greater than 0"))
	}
	indexed := s.CompletionMode != nil && *s.CompletionMode == batchv1.IndexedCompletion
	if m := s.CompletionMode; m != nil {
		errs = append(errs, validateEnum(*m, []batchv1.CompletionMode{batchv1.NonIndexedCompletion, batchv1.IndexedCompletion}, p.Child("completionMode"))...)
		if indexed && s.Completions == nil {
			errs = append(errs, field.Required(p.Child("completions"), "when completion mode is Indexed"))
		}
	}
	if s.BackoffLimitPerIndex != nil && !indexed {
		errs = append(errs, field.Forbidden(p.Child("backoffLimitPerIndex"), "requires indexed completion mode"))
	}
	if s.MaxFailedIndexes != nil && s.BackoffLimitPerIndex == nil {
		errs = append(errs, field.Required(p.Child("backoffLimitPerIndex"), "when maxFailedIndexes is specified"))
	}
	if s.SuccessPolicy != nil && !indexed {
		errs = append(errs, field.Invalid(p.Child("successPolicy"), "", "requires indexed completion mode"))
	}
	if s.SuccessPolicy != nil && len(s.SuccessPolicy.Rules) == 0 {
		errs = append(errs, field.Required(p.Child("successPolicy", "rules"), ""))
	}
	if s.SuccessPolicy != nil {
		for i, r := range s.SuccessPolicy.Rules {
			rp := p.Child("successPolicy", "rules").Index(i)
			if r.SucceededIndexes == nil && r.SucceededCount == nil {
				errs = append(errs, field.Required(rp, "at least one of succeededCount or succeededIndexes must be specified"))
			}
			if c := r.SucceededCount; c != nil && *c < 0 {
				errs = append(errs, field.Invalid(rp.Child("succeededCount"), *c, "must be greater than or equal to 0"))
			}
		}
	}
	if pfp := s.PodFailurePolicy; pfp != nil {
		errs = append(errs, validatePodFailurePolicy(pfp, s, p)...)
	}
	// Kubernetes generates a Job's selector from its uid (PrepareCreate);
	// one given by the user must still select the template.
	if s.ManualSelector != nil && *s.ManualSelector && s.Selector == nil {
		errs = append(errs, field.Required(p.Child("selector"), "when manualSelector is true"))
	}
	errs = append(errs, validateSelectorAndTemplate(s.Selector, false, &s.Template, jobRestartPolicies, p)...)
	return errs
}

var podFailureActions = []batchv1.PodFailurePolicyAction{batchv1.PodFailurePolicyActionFailJob, batchv1.PodFailurePolicyActionFailIndex,
	batchv1.PodFailurePolicyActionIgnore, batchv1.PodFailurePolicyActionCount}

func validatePodFailurePolicy(pfp *batchv1.PodFailurePolicy, s *batchv1.JobSpec, spec *field.Path) field.ErrorList {
	var errs field.ErrorList
	p := spec.Child("podFailurePolicy")
	if s.Template.Spec.RestartPolicy != corev1.RestartPolicyNever {
		errs = append(errs, field.Invalid(spec.Child("template", "spec", "restartPolicy"), s.Template.Spec.RestartPolicy,
			"only \"Never\" is supported when podFailurePolicy is specified"))
	}
	for i, r := range pfp.Rules {
		rp := p.Child("rules").Index(i)
		errs = append(errs, validateEnum(r.Action, podFailureActions, rp.Child("action"))...)
		if r.Action == batchv1.PodFailurePolicyActionFailIndex && s.BackoffLimitPerIndex == nil {
			errs = append(errs, field.Invalid(rp.Child("action"), r.Action, "requires the backoffLimitPerIndex to be set"))
		}
		switch {
		case r.OnExitCodes != nil && len(r.OnPodConditions) > 0:
			errs = append(errs, field.Invalid(rp, field.OmitValueType{}, "specifying both OnExitCodes and OnPodConditions is not supported"))
		case r.OnExitCodes == nil && len(r.OnPodConditions) == 0:
			errs = append(errs, field.Invalid(rp, field.OmitValueType{}, "specifying one of OnExitCodes and OnPodConditions is required"))
		case r.OnExitCodes != nil:
			ep := rp.Child("onExitCodes")
			errs = append(errs, validateEnum(r.OnExitCodes.Operator, []batchv1.PodFailurePolicyOnExitCodesOperator{
				batchv1.PodFailurePolicyOnExitCodesOpIn, batchv1.PodFailurePolicyOnExitCodesOpNotIn}, ep.Child("operator"))...)
			if len(r.OnExitCodes.Values) == 0 {
				errs = append(errs, field.Invalid(ep.Child("values"), r.OnExitCodes.Values, "at least one value is required"))
			}
			for k, v := range r.OnExitCodes.Values {
				if v == 0 && r.OnExitCodes.Operator == batchv1.PodFailurePolicyOnExitCodesOpIn {
					errs = append(errs, field.Invalid(ep.Child("values").Index(k), v, "must not be 0 for the In operator"))
				}
			}
		}
	}
	return errs
}

// Labels Kubernetes puts on a Job's pod template, and the selector it
// generates from the Job's uid when manualSelector is not true.
const (
	legacyJobNameLabel       = "job-name"
	legacyControllerUIDLabel = "controller-uid"
)

// prepareJobCreate generates the selector of a new Job (its uid is now
// known) and labels the template to match, as Kubernetes' Job strategy
// does: batch.kubernetes.io/controller-uid and job-name, with their
// unprefixed legacy forms.
func prepareJobCreate(j *batchv1.Job) {
	if j.Spec.ManualSelector != nil && *j.Spec.ManualSelector {
		return
	}
	uid := string(j.UID)
	if j.Spec.Template.Labels == nil {
		j.Spec.Template.Labels = map[string]string{}
	}
	l := j.Spec.Template.Labels
	l[batchv1.ControllerUidLabel], l[legacyControllerUIDLabel] = uid, uid
	l[batchv1.JobNameLabel], l[legacyJobNameLabel] = j.Name, j.Name
	j.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{batchv1.ControllerUidLabel: uid}}
}

// prepareJobUpdate keeps what the cluster generated when an update (or an
// apply of the original manifest) leaves it out: the selector and the
// template's generated labels.
func prepareJobUpdate(next, cur *batchv1.Job) {
	if next.Spec.ManualSelector != nil && *next.Spec.ManualSelector {
		return
	}
	if next.Spec.Selector == nil {
		next.Spec.Selector = cur.Spec.Selector.DeepCopy()
	}
	for _, k := range []string{batchv1.ControllerUidLabel, legacyControllerUIDLabel, batchv1.JobNameLabel, legacyJobNameLabel} {
		v, ok := cur.Spec.Template.Labels[k]
		if _, set := next.Spec.Template.Labels[k]; ok && !set {
			if next.Spec.Template.Labels == nil {
				next.Spec.Template.Labels = map[string]string{}
			}
			next.Spec.Template.Labels[k] = v
		}
	}
}

// validateJobUpdate refuses changes to what a running Job cannot change:
// the selector, the template, the completion mode, and completions
// (except for an Indexed Job scaled elastically: completions and
// parallelism changed together to the same value).
func validateJobUpdate(next, cur *batchv1.Job) field.ErrorList {
	var errs field.ErrorList
	p := field.NewPath("spec")
	if !equality.Semantic.DeepEqual(next.Spec.Selector, cur.Spec.Selector) {
		errs = append(errs, field.Invalid(p.Child("selector"), next.Spec.Selector, fieldImmutable))
	}
	if !equality.Semantic.DeepEqual(next.Spec.Template, cur.Spec.Template) {
		errs = append(errs, field.Invalid(p.Child("template"), field.OmitValueType{}, fieldImmutable))
	}
	if !equality.Semantic.DeepEqual(next.Spec.CompletionMode, cur.Spec.CompletionMode) {
		errs = append(errs, field.Invalid(p.Child("completionMode"), next.Spec.CompletionMode, fieldImmutable))
	}
	if !equality.Semantic.DeepEqual(next.Spec.Completions, cur.Spec.Completions) {
		elastic := next.Spec.CompletionMode != nil && *next.Spec.CompletionMode == batchv1.IndexedCompletion &&
			next.Spec.Completions != nil && next.Spec.Parallelism != nil && *next.Spec.Completions == *next.Spec.Parallelism &&
			cur.Spec.Completions != nil && cur.Spec.Parallelism != nil && *cur.Spec.Completions == *cur.Spec.Parallelism
		if !elastic {
			errs = append(errs, field.Invalid(p.Child("completions"), next.Spec.Completions, fieldImmutable))
		}
	}
	if !equality.Semantic.DeepEqual(next.Spec.PodFailurePolicy, cur.Spec.PodFailurePolicy) {
		errs = append(errs, field.Invalid(p.Child("podFailurePolicy"), field.OmitValueType{}, fieldImmutable))
	}
	return errs
}

const fieldImmutable = "field is immutable"
