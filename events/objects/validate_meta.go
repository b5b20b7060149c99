package objects

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/api/validation/path"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Validation mirrors the API server's create-time validation for the
// kinds Strom stores, with the same field paths and error types, so that a
// manifest Kubernetes rejects is rejected here with the same message. It
// expects a defaulted object (the write path calls Default first); fields
// that defaulting always fills are still checked, with Required errors,
// for objects validated without defaulting.

var (
	metadataPath = field.NewPath("metadata")
	specPath     = field.NewPath("spec")
)

func validateObject(obj Object, write bool) field.ErrorList {
	k, err := KindOf(obj)
	if err != nil {
		return field.ErrorList{field.InternalError(nil, err)}
	}
	errs := validateObjectMeta(obj, k.Namespaced, nameRule(k, obj), write, metadataPath)
	return append(errs, validateBody(obj)...)
}

// nameRule is the rule each kind's metadata.name follows in Kubernetes.
func nameRule(k *Kind, obj Object) apivalidation.ValidateNameFunc {
	if fn, ok := storedNameRule(obj); ok {
		return fn
	}
	switch k.Kind {
	case "Namespace", "StatefulSet":
		// Namespaces name DNS zones; a StatefulSet's name prefixes its
		// pods' host names.
		return apivalidation.NameIsDNSLabel
	case "Service":
		return apivalidation.NameIsDNS1035Label
	case "CronJob":
		return cronJobName
	case "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding":
		return pathSegmentName
	default:
		return apivalidation.NameIsDNSSubdomain
	}
}

// pathSegmentName is the rule for names that only need to be usable as
// one segment of a URL path (RBAC objects).
func pathSegmentName(name string, prefix bool) []string {
	if prefix {
		return path.IsValidPathSegmentPrefix(name)
	}
	return path.IsValidPathSegmentName(name)
}

// maxCronJobNameLength leaves room for the 11 characters of the suffix
// that names each Job a CronJob starts.
const maxCronJobNameLength = 52

func cronJobName(name string, prefix bool) []string {
	msgs := apivalidation.NameIsDNSSubdomain(name, prefix)
	if len(name) > maxCronJobNameLength {
		msgs = append(msgs, validation.MaxLenError(maxCronJobNameLength))
	}
	return msgs
}

// validateObjectMeta checks metadata as on create; it is the only
// metadata validation (the write path uses it through ValidateWrite). A
// name is required unless generateName is set; for a write (write true)
// a name is always required, since Strom's write path does not generate
// names.
func validateObjectMeta(m metav1.Object, namespaced bool, nameFn apivalidation.ValidateNameFunc, write bool, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if g := m.GetGenerateName(); g != "" {
		for _, msg := range nameFn(g, true) {
			errs = append(errs, field.Invalid(p.Child("generateName"), g, msg))
		}
	}
	if name := m.GetName(); name == "" {
		switch {
		case m.GetGenerateName() == "":
			errs = append(errs, field.Required(p.Child("name"), ""))
		case write:
			errs = append(errs, field.Required(p.Child("name"), "name is required: generateName is not supported"))
		}
	} else {
		for _, msg := range nameFn(name, false) {
			errs = append(errs, field.Invalid(p.Child("name"), name, msg))
		}
	}
	ns := m.GetNamespace()
	switch {
	case namespaced && ns == "":
		errs = append(errs, field.Required(p.Child("namespace"), ""))
	case namespaced:
		for _, msg := range apivalidation.ValidateNamespaceName(ns, false) {
			errs = append(errs, field.Invalid(p.Child("namespace"), ns, msg))
		}
	case ns != "":
		errs = append(errs, field.Forbidden(p.Child("namespace"), "not allowed on this type"))
	}
	errs = append(errs, apivalidation.ValidateNonnegativeField(m.GetGeneration(), p.Child("generation"))...)
	errs = append(errs, metavalidation.ValidateLabels(m.GetLabels(), p.Child("labels"))...)
	errs = append(errs, apivalidation.ValidateAnnotations(m.GetAnnotations(), p.Child("annotations"))...)
	errs = append(errs, apivalidation.ValidateOwnerReferences(m.GetOwnerReferences(), p.Child("ownerReferences"))...)
	errs = append(errs, apivalidation.ValidateFinalizers(m.GetFinalizers(), p.Child("finalizers"))...)
	return errs
}

// validateTemplateMeta checks the metadata of a pod or job template: only
// labels and annotations mean anything there.
func validateTemplateMeta(m *metav1.ObjectMeta, p *field.Path) field.ErrorList {
	errs := metavalidation.ValidateLabels(m.Labels, p.Child("labels"))
	return append(errs, apivalidation.ValidateAnnotations(m.Annotations, p.Child("annotations"))...)
}

func validateBody(obj Object) field.ErrorList {
	switch o := obj.(type) {
	case *corev1.Namespace:
		return validateNamespace(o)
	case *corev1.Node:
		return validateNode(o)
	case *corev1.Pod:
		return validatePodSpec(&o.Spec, specPath)
	case *appsv1.ReplicaSet:
		return validateReplicaSet(o)
	case *appsv1.Deployment:
		return validateDeployment(o)
	case *corev1.ReplicationController:
		return validateReplicationController(o)
	case *appsv1.DaemonSet:
		return validateDaemonSet(o)
	case *appsv1.StatefulSet:
		return validateStatefulSet(o)
	case *batchv1.Job:
		return validateJobSpec(&o.Spec, specPath)
	case *batchv1.CronJob:
		return validateCronJob(o)
	case *corev1.Service:
		return validateService(o)
	case *corev1.Endpoints:
		return validateEndpoints(o)
	case *corev1.ConfigMap:
		return validateConfigMap(o)
	case *corev1.Secret:
		return validateSecret(o)
	case *corev1.PersistentVolume:
		return validatePersistentVolume(o)
	case *corev1.PersistentVolumeClaim:
		return validatePVCSpec(&o.Spec, specPath)
	case *networkingv1.Ingress:
		return validateIngress(o)
	case *corev1.ServiceAccount:
		return validateServiceAccount(o)
	case *rbacv1.Role:
		return validatePolicyRules(o.Rules, true, field.NewPath("rules"))
	case *rbacv1.ClusterRole:
		return validateClusterRole(o)
	case *rbacv1.RoleBinding:
		return validateBinding(o.RoleRef, o.Subjects, true)
	case *rbacv1.ClusterRoleBinding:
		return validateBinding(o.RoleRef, o.Subjects, false)
	case *autoscalingv2.HorizontalPodAutoscaler:
		return validateHPA(o)
	case *policyv1.PodDisruptionBudget:
		return validatePDB(o)
	case *corev1.ResourceQuota:
		return validateResourceQuota(o)
	case *corev1.LimitRange:
		return validateLimitRange(o)
	case *corev1.Event:
		return validateEvent(o)
	}
	if errs, ok := validateStored(obj); ok {
		return errs
	}
	return field.ErrorList{field.InternalError(nil, fmt.Errorf("no validation for %T", obj))}
}

// Small helpers shared by the validate_*.go files.

// validateEnum reports a Required error for an empty value and a
// NotSupported one for a value outside the allowed set.
func validateEnum[T ~string](v T, allowed []T, p *field.Path) field.ErrorList {
	if v == "" {
		return field.ErrorList{field.Required(p, "")}
	}
	return validateOptionalEnum(v, allowed, p)
}

// validateOptionalEnum is validateEnum where empty means "not set".
func validateOptionalEnum[T ~string](v T, allowed []T, p *field.Path) field.ErrorList {
	if v == "" {
		return nil
	}
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return field.ErrorList{field.NotSupported(p, v, allowed)}
}

func nonNegative32(v int32, p *field.Path) field.ErrorList {
	return apivalidation.ValidateNonnegativeField(int64(v), p)
}

func nonNegativePtr32(v *int32, p *field.Path) field.ErrorList {
	if v == nil {
		return nil
	}
	return nonNegative32(*v, p)
}

func nonNegativePtr64(v *int64, p *field.Path) field.ErrorList {
	if v == nil {
		return nil
	}
	return apivalidation.ValidateNonnegativeField(*v, p)
}

// msgErrs turns the messages of a validation.Is* helper into Invalid errors.
func msgErrs(p *field.Path, value any, msgs []string) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range msgs {
		errs = append(errs, field.Invalid(p, value, msg))
	}
	return errs
}

func validateDNSLabel(v string, p *field.Path) field.ErrorList {
	return msgErrs(p, v, validation.IsDNS1123Label(v))
}

func validateDNSSubdomain(v string, p *field.Path) field.ErrorList {
	return msgErrs(p, v, validation.IsDNS1123Subdomain(v))
}

func validateQualifiedName(v string, p *field.Path) field.ErrorList {
	return msgErrs(p, v, validation.IsQualifiedName(v))
}

func validateIP(v string, p *field.Path) field.ErrorList {
	return validation.IsValidIP(p, v)
}

// validatePortNumOrName checks an int-or-string port: a number in range or
// an IANA_SVC_NAME.
func validatePortNumOrName(port intstr.IntOrString, p *field.Path) field.ErrorList {
	switch port.Type {
	case intstr.Int:
		return msgErrs(p, port.IntVal, validation.IsValidPortNum(int(port.IntVal)))
	case intstr.String:
		return msgErrs(p, port.StrVal, validation.IsValidPortName(port.StrVal))
	}
	return field.ErrorList{field.InternalError(p, fmt.Errorf("unknown type: %v", port.Type))}
}

// validateIntOrPercent checks a count or a percentage, both >= 0; with
// atMost100 a percentage may not exceed 100%.
func validateIntOrPercent(v *intstr.IntOrString, atMost100 bool, p *field.Path) field.ErrorList {
	if v == nil {
		return nil
	}
	switch v.Type {
	case intstr.Int:
		return nonNegative32(v.IntVal, p)
	case intstr.String:
		if msgs := validation.IsValidPercent(v.StrVal); len(msgs) > 0 {
			return msgErrs(p, v.StrVal, msgs)
		}
		n, _ := intstr.GetScaledValueFromIntOrPercent(v, 100, false)
		if atMost100 && n > 100 {
			return field.ErrorList{field.Invalid(p, v.StrVal, "must not be greater than 100%")}
		}
	}
	return nil
}

// intOrPercentIsZero is true for 0 and "0%".
func intOrPercentIsZero(v *intstr.IntOrString) bool {
	if v == nil {
		return false
	}
	n, err := intstr.GetScaledValueFromIntOrPercent(v, 100, false)
	return err == nil && n == 0
}

// validateLabelSelector checks a selector's syntax.
func validateLabelSelector(s *metav1.LabelSelector, p *field.Path) field.ErrorList {
	return metavalidation.ValidateLabelSelector(s, metavalidation.LabelSelectorValidationOptions{}, p)
}

func validateNonNegativeQuantity(q resource.Quantity, p *field.Path) field.ErrorList {
	if q.Sign() < 0 {
		return field.ErrorList{field.Invalid(p, q.String(), apivalidation.IsNegativeErrorMsg)}
	}
	return nil
}
