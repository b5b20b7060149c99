package printers

import (
	"fmt"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	"k8s.io/apimachinery/pkg/util/duration"
)

// Columns of the admissionregistration.k8s.io, certificates.k8s.io and
// flowcontrol.apiserver.k8s.io kinds, as kube-apiserver's printers give
// them.

var webhookConfigurationColumns = cols("NAME", "WEBHOOKS", "AGE")

func mutatingWebhookRow(c *admissionregistrationv1.MutatingWebhookConfiguration, now time.Time) []string {
	return []string{c.Name, fmt.Sprint(len(c.Webhooks)), age(c.CreationTimestamp, now)}
}

func validatingWebhookRow(c *admissionregistrationv1.ValidatingWebhookConfiguration, now time.Time) []string {
	return []string{c.Name, fmt.Sprint(len(c.Webhooks)), age(c.CreationTimestamp, now)}
}

var validatingAdmissionPolicyColumns = cols("NAME", "VALIDATIONS", "PARAMKIND", "AGE")

func validatingAdmissionPolicyRow(p *admissionregistrationv1.ValidatingAdmissionPolicy, now time.Time) []string {
	return []string{p.Name, fmt.Sprint(len(p.Spec.Validations)), paramKind(p.Spec.ParamKind), age(p.CreationTimestamp, now)}
}

var mutatingAdmissionPolicyColumns = cols("NAME", "MUTATIONS", "PARAMKIND", "AGE")

func mutatingAdmissionPolicyRow(p *admissionregistrationv1.MutatingAdmissionPolicy, now time.Time) []string {
	return []string{p.Name, fmt.Sprint(len(p.Spec.Mutations)), paramKind(p.Spec.ParamKind), age(p.CreationTimestamp, now)}
}

func paramKind(k *admissionregistrationv1.ParamKind) string {
	if k == nil {
		return unset
	}
	return k.APIVersion + "/" + k.Kind
}

var admissionPolicyBindingColumns = cols("NAME", "POLICYNAME", "PARAMREF", "AGE")

func validatingAdmissionPolicyBindingRow(b *admissionregistrationv1.ValidatingAdmissionPolicyBinding, now time.Time) []string {
	return []string{b.Name, b.Spec.PolicyName, paramRef(b.Spec.ParamRef), age(b.CreationTimestamp, now)}
}

func mutatingAdmissionPolicyBindingRow(b *admissionregistrationv1.MutatingAdmissionPolicyBinding, now time.Time) []string {
	return []string{b.Name, b.Spec.PolicyName, paramRef(b.Spec.ParamRef), age(b.CreationTimestamp, now)}
}

// paramRef is "namespace/name", "*/name" when no namespace is given (the
// param may be cluster-scoped), or the selector as the API prints it.
func paramRef(r *admissionregistrationv1.ParamRef) string {
	switch {
	case r == nil:
		return unset
	case r.Name != "" && r.Namespace != "":
		return r.Namespace + "/" + r.Name
	case r.Name != "":
		return "*/" + r.Name
	case r.Selector != nil:
		return r.Selector.String()
	}
	return unset
}

var certificateSigningRequestColumns = cols("NAME", "AGE", "SIGNERNAME", "REQUESTOR", "REQUESTEDDURATION", "CONDITION")

func certificateSigningRequestRow(r *certificatesv1.CertificateSigningRequest, now time.Time) []string {
	requested := none
	if s := r.Spec.ExpirationSeconds; s != nil {
		requested = duration.HumanDuration(time.Duration(*s) * time.Second)
	}
	return []string{r.Name, age(r.CreationTimestamp, now), orNone(r.Spec.SignerName), r.Spec.Username, requested, csrCondition(r)}
}

// csrCondition is "Denied", "Approved" or "Pending", then ",Failed" and
// ",Issued" when they apply.
func csrCondition(r *certificatesv1.CertificateSigningRequest) string {
	var approved, denied, failed bool
	for _, c := range r.Status.Conditions {
		switch c.Type {
		case certificatesv1.CertificateApproved:
			approved = true
		case certificatesv1.CertificateDenied:
			denied = true
		case certificatesv1.CertificateFailed:
			failed = true
		}
	}
	status := "Pending"
	switch {
	case denied:
		status = "Denied"
	case approved:
		status = "Approved"
	}
	if failed {
		status += ",Failed"
	}
	if len(r.Status.Certificate) > 0 {
		status += ",Issued"
	}
	return status
}

// clusterTrustBundleColumns has no AGE, as in kube-apiserver.
var clusterTrustBundleColumns = cols("NAME", "SIGNERNAME")

func clusterTrustBundleRow(b *certificatesv1.ClusterTrustBundle, _ time.Time) []string {
	return []string{b.Name, orNone(b.Spec.SignerName)}
}

// podCertificateRequestColumns: NAME and AGE. The v1.37 printer for this
// kind was not available to compare with.
var podCertificateRequestColumns = cols("NAME", "AGE")

func podCertificateRequestRow(r *certificatesv1.PodCertificateRequest, now time.Time) []string {
	return []string{r.Name, age(r.CreationTimestamp, now)}
}

var flowSchemaColumns = cols("NAME", "PRIORITYLEVEL", "MATCHINGPRECEDENCE", "DISTINGUISHERMETHOD", "AGE", "MISSINGPL")

// flowSchemaRow: MISSINGPL is the Dangling condition's status, "?" before
// anything has set it.
func flowSchemaRow(f *flowcontrolv1.FlowSchema, now time.Time) []string {
	method := none
	if f.Spec.DistinguisherMethod != nil {
		method = string(f.Spec.DistinguisherMethod.Type)
	}
	missing := "?"
	for _, c := range f.Status.Conditions {
		if c.Type == flowcontrolv1.FlowSchemaConditionDangling {
			missing = string(c.Status)
			break
		}
	}
	return []string{f.Name, f.Spec.PriorityLevelConfiguration.Name, fmt.Sprint(f.Spec.MatchingPrecedence), method,
		age(f.CreationTimestamp, now), missing}
}

var priorityLevelColumns = cols("NAME", "TYPE", "NOMINALCONCURRENCYSHARES", "QUEUES", "HANDSIZE", "QUEUELENGTHLIMIT", "AGE")

// priorityLevelRow: the queueing cells are "<none>" for an exempt level
// or one that rejects instead of queueing.
func priorityLevelRow(p *flowcontrolv1.PriorityLevelConfiguration, now time.Time) []string {
	shares, queues, hand, limit := none, none, none, none
	if l := p.Spec.Limited; l != nil {
		if l.NominalConcurrencyShares != nil {
			shares = fmt.Sprint(*l.NominalConcurrencyShares)
		}
		if q := l.LimitResponse.Queuing; q != nil {
			queues, hand, limit = fmt.Sprint(q.Queues), fmt.Sprint(q.HandSize), fmt.Sprint(q.QueueLengthLimit)
		}
	}
	return []string{p.Name, string(p.Spec.Type), shares, queues, hand, limit, age(p.CreationTimestamp, now)}
}
