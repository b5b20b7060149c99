package printers

import (
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	resourcev1 "k8s.io/api/resource/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/strom-project/strom/events/objects"
)

func fixtureAdmission() map[string][]objects.Object {
	hooks := []admissionregistrationv1.MutatingWebhook{{Name: "a.example.com"}, {Name: "b.example.com"}}
	mwc := &admissionregistrationv1.MutatingWebhookConfiguration{ObjectMeta: meta("", "pod-defaults", time.Hour), Webhooks: hooks}
	vwc := &admissionregistrationv1.ValidatingWebhookConfiguration{ObjectMeta: meta("", "deny-latest", 2*time.Hour),
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{Name: "deny.example.com"}}}
	vap := &admissionregistrationv1.ValidatingAdmissionPolicy{ObjectMeta: meta("", "replica-limit", time.Hour),
		Spec: admissionregistrationv1.ValidatingAdmissionPolicySpec{ParamKind: &admissionregistrationv1.ParamKind{APIVersion: "v1", Kind: "ConfigMap"},
			Validations: []admissionregistrationv1.Validation{{Expression: "true"}, {Expression: "1 < 2"}}}}
	vapBare := &admissionregistrationv1.ValidatingAdmissionPolicy{ObjectMeta: meta("", "no-params", time.Hour)}
	ref := func(name, ns string, sel *metav1.LabelSelector) *admissionregistrationv1.ParamRef {
		return &admissionregistrationv1.ParamRef{Name: name, Namespace: ns, Selector: sel}
	}
	vapb := func(name string, r *admissionregistrationv1.ParamRef) objects.Object {
		return &admissionregistrationv1.ValidatingAdmissionPolicyBinding{ObjectMeta: meta("", name, time.Hour),
			Spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{PolicyName: "replica-limit", ParamRef: r}}
	}
	map1 := &admissionregistrationv1.MutatingAdmissionPolicy{ObjectMeta: meta("", "sidecar", time.Hour),
		Spec: admissionregistrationv1.MutatingAdmissionPolicySpec{Mutations: []admissionregistrationv1.Mutation{{PatchType: "JSONPatch"}}}}
	mapb := &admissionregistrationv1.MutatingAdmissionPolicyBinding{ObjectMeta: meta("", "sidecar-binding", time.Hour),
		Spec: admissionregistrationv1.MutatingAdmissionPolicyBindingSpec{PolicyName: "sidecar", ParamRef: ref("cfg", "", nil)}}

	approved := &certificatesv1.CertificateSigningRequest{ObjectMeta: meta("", "alice", 3*time.Hour),
		Spec: certificatesv1.CertificateSigningRequestSpec{SignerName: "kubernetes.io/kube-apiserver-client", Username: "admin",
			ExpirationSeconds: ptr(int32(86400))},
		Status: certificatesv1.CertificateSigningRequestStatus{Certificate: []byte("x"),
			Conditions: []certificatesv1.CertificateSigningRequestCondition{{Type: certificatesv1.CertificateApproved, Status: corev1.ConditionTrue}}}}
	denied := &certificatesv1.CertificateSigningRequest{ObjectMeta: meta("", "bob", time.Hour),
		Spec: certificatesv1.CertificateSigningRequestSpec{SignerName: "example.com/signer", Username: "bob"},
		Status: certificatesv1.CertificateSigningRequestStatus{Conditions: []certificatesv1.CertificateSigningRequestCondition{
			{Type: certificatesv1.CertificateApproved}, {Type: certificatesv1.CertificateDenied}, {Type: certificatesv1.CertificateFailed}}}}
	pending := &certificatesv1.CertificateSigningRequest{ObjectMeta: meta("", "carol", time.Minute),
		Spec: certificatesv1.CertificateSigningRequestSpec{Username: "system:node:node-1", ExpirationSeconds: ptr(int32(600))}}
	ctb := &certificatesv1.ClusterTrustBundle{ObjectMeta: meta("", "example.com:signer:one", time.Hour),
		Spec: certificatesv1.ClusterTrustBundleSpec{SignerName: "example.com/signer"}}
	ctbFree := &certificatesv1.ClusterTrustBundle{ObjectMeta: meta("", "corp-roots", time.Hour)}
	pcr := &certificatesv1.PodCertificateRequest{ObjectMeta: meta("default", "web-abcde-cert", time.Hour),
		Spec: certificatesv1.PodCertificateRequestSpec{SignerName: "example.com/workload", PodName: "web-abcde"}}

	byUser := &flowcontrolv1.FlowDistinguisherMethod{Type: flowcontrolv1.FlowDistinguisherMethodByUserType}
	fs := &flowcontrolv1.FlowSchema{ObjectMeta: meta("", "workload-leader-election", 24*time.Hour),
		Spec: flowcontrolv1.FlowSchemaSpec{PriorityLevelConfiguration: flowcontrolv1.PriorityLevelConfigurationReference{Name: "leader-election"},
			MatchingPrecedence: 200, DistinguisherMethod: byUser},
		Status: flowcontrolv1.FlowSchemaStatus{Conditions: []flowcontrolv1.FlowSchemaCondition{
			{Type: flowcontrolv1.FlowSchemaConditionDangling, Status: flowcontrolv1.ConditionFalse}}}}
	fsNew := &flowcontrolv1.FlowSchema{ObjectMeta: meta("", "fresh", time.Minute),
		Spec: flowcontrolv1.FlowSchemaSpec{PriorityLevelConfiguration: flowcontrolv1.PriorityLevelConfigurationReference{Name: "missing"},
			MatchingPrecedence: 1000}}
	queued := &flowcontrolv1.PriorityLevelConfiguration{ObjectMeta: meta("", "workload-low", 24*time.Hour),
		Spec: flowcontrolv1.PriorityLevelConfigurationSpec{Type: flowcontrolv1.PriorityLevelEnablementLimited,
			Limited: &flowcontrolv1.LimitedPriorityLevelConfiguration{NominalConcurrencyShares: ptr(int32(100)),
				LimitResponse: flowcontrolv1.LimitResponse{Type: flowcontrolv1.LimitResponseTypeQueue,
					Queuing: &flowcontrolv1.QueuingConfiguration{Queues: 128, HandSize: 6, QueueLengthLimit: 50}}}}}
	reject := &flowcontrolv1.PriorityLevelConfiguration{ObjectMeta: meta("", "catch-all", 24*time.Hour),
		Spec: flowcontrolv1.PriorityLevelConfigurationSpec{Type: flowcontrolv1.PriorityLevelEnablementLimited,
			Limited: &flowcontrolv1.LimitedPriorityLevelConfiguration{NominalConcurrencyShares: ptr(int32(5)),
				LimitResponse: flowcontrolv1.LimitResponse{Type: flowcontrolv1.LimitResponseTypeReject}}}}
	exempt := &flowcontrolv1.PriorityLevelConfiguration{ObjectMeta: meta("", "exempt", 24*time.Hour),
		Spec: flowcontrolv1.PriorityLevelConfigurationSpec{Type: flowcontrolv1.PriorityLevelEnablementExempt}}
	return map[string][]objects.Object{
		"mutatingwebhookconfiguration": {mwc}, "validatingwebhookconfiguration": {vwc},
		"validatingadmissionpolicy": {vap, vapBare},
		"validatingadmissionpolicybinding": {vapb("ns-param", ref("limits", "default", nil)), vapb("any-ns", ref("limits", "", nil)),
			vapb("by-selector", ref("", "", selector("limits"))), vapb("no-param", nil)},
		"mutatingadmissionpolicy": {map1}, "mutatingadmissionpolicybinding": {mapb},
		"certificatesigningrequest": {approved, denied, pending}, "clustertrustbundle": {ctb, ctbFree},
		"podcertificaterequest": {pcr}, "flowschema": {fs, fsNew}, "prioritylevelconfiguration": {queued, reject, exempt},
	}
}

func fixtureResource() map[string][]objects.Object {
	dc := &resourcev1.DeviceClass{ObjectMeta: meta("", "gpu.example.com", time.Hour)}
	claim := func(name string, allocated bool, reserved bool, deleted bool) objects.Object {
		c := &resourcev1.ResourceClaim{ObjectMeta: meta("default", name, time.Hour)}
		if allocated {
			c.Status.Allocation = &resourcev1.AllocationResult{}
		}
		if reserved {
			c.Status.ReservedFor = []resourcev1.ResourceClaimConsumerReference{{Resource: "pods", Name: "p", UID: "u"}}
		}
		if deleted {
			c.DeletionTimestamp = agoPtr(time.Minute)
		}
		return c
	}
	rct := &resourcev1.ResourceClaimTemplate{ObjectMeta: meta("default", "gpu-claim-template", time.Hour)}
	rs := &resourcev1.ResourceSlice{ObjectMeta: meta("", "node-1-gpu.example.com-x7k2p", time.Hour),
		Spec: resourcev1.ResourceSliceSpec{Driver: "gpu.example.com", NodeName: ptr("node-1"), Pool: resourcev1.ResourcePool{Name: "node-1"}}}
	rsNet := &resourcev1.ResourceSlice{ObjectMeta: meta("", "fabric-nic.example.com-q2w3e", time.Hour),
		Spec: resourcev1.ResourceSliceSpec{Driver: "nic.example.com", AllNodes: ptr(true), Pool: resourcev1.ResourcePool{Name: "fabric"}}}
	dtr := &resourcev1.DeviceTaintRule{ObjectMeta: meta("", "gpu-0-maintenance", time.Hour)}
	return map[string][]objects.Object{
		"deviceclass": {dc}, "resourceclaimtemplate": {rct}, "resourceslice": {rs, rsNet}, "devicetaintrule": {dtr},
		"resourceclaim": {claim("pending", false, false, false), claim("allocated", true, false, false),
			claim("in-use", true, true, false), claim("going", true, true, true), claim("gone-pending", false, false, true)},
	}
}
