package objects

import (
	"fmt"
	"net/netip"
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	networkingv1 "k8s.io/api/networking/v1"
	nodev1 "k8s.io/api/node/v1"
	resourcev1 "k8s.io/api/resource/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	storagev1 "k8s.io/api/storage/v1"
	storagemigrationv1 "k8s.io/api/storagemigration/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// The kinds below are stored and served as written; nothing in Strom
// acts on them except EndpointSlices (written by the endpointslice
// controller) and Leases (a lock clients take through the API). They get
// Kubernetes' metadata validation with each kind's name rule, and their
// specs are kept as written: a full validator for a kind nothing reads
// would only be a second copy of kube-apiserver to keep in step.
// EndpointSlices, which Strom writes and clients read, also get the
// checks of their addresses and ports.

// storedNameRule is the name rule of the kinds whose rule depends on the
// object, or differs from the DNS subdomain most kinds use.
func storedNameRule(obj Object) (apivalidation.ValidateNameFunc, bool) {
	switch o := obj.(type) {
	case *certificatesv1.CertificateSigningRequest:
		// kube-apiserver accepts any name here; the path segment rule is
		// what its storage still needs of a name.
		return pathSegmentName, true
	case *certificatesv1.ClusterTrustBundle:
		return clusterTrustBundleName(o.Spec.SignerName), true
	case *networkingv1.IPAddress:
		return ipAddressName, true
	}
	return extensionNameRule(obj)
}

// validateStored validates the body of a stored-only kind; ok is false
// for other kinds.
func validateStored(obj Object) (errs field.ErrorList, ok bool) {
	switch o := obj.(type) {
	case *discoveryv1.EndpointSlice:
		return validateEndpointSlice(o), true
	case *corev1.PodTemplate, *appsv1.ControllerRevision,
		*coordinationv1.Lease,
		*networkingv1.IngressClass, *networkingv1.NetworkPolicy, *networkingv1.ServiceCIDR, *networkingv1.IPAddress,
		*storagev1.StorageClass, *storagev1.VolumeAttributesClass, *storagev1.VolumeAttachment,
		*storagev1.CSIDriver, *storagev1.CSINode, *storagev1.CSIStorageCapacity,
		*schedulingv1.PriorityClass, *nodev1.RuntimeClass,
		*certificatesv1.CertificateSigningRequest, *certificatesv1.ClusterTrustBundle, *certificatesv1.PodCertificateRequest,
		*admissionregistrationv1.MutatingWebhookConfiguration, *admissionregistrationv1.ValidatingWebhookConfiguration,
		*admissionregistrationv1.ValidatingAdmissionPolicy, *admissionregistrationv1.ValidatingAdmissionPolicyBinding,
		*admissionregistrationv1.MutatingAdmissionPolicy, *admissionregistrationv1.MutatingAdmissionPolicyBinding,
		*flowcontrolv1.FlowSchema, *flowcontrolv1.PriorityLevelConfiguration,
		*resourcev1.DeviceClass, *resourcev1.ResourceClaim, *resourcev1.ResourceClaimTemplate,
		*resourcev1.ResourceSlice, *resourcev1.DeviceTaintRule,
		*storagemigrationv1.StorageVersionMigration:
		return nil, true
	}
	return validateExtension(obj)
}

// clusterTrustBundleName is Kubernetes' rule: a bundle for a signer is
// named "<signer with / as :>:<DNS subdomain>"; one without a signer has
// no ":" in its name.
func clusterTrustBundleName(signer string) apivalidation.ValidateNameFunc {
	return func(name string, prefix bool) []string {
		if signer == "" {
			if strings.Contains(name, ":") {
				return []string{`ClusterTrustBundle without signer name must not have ":" in its name`}
			}
			return apivalidation.NameIsDNSSubdomain(name, prefix)
		}
		want := strings.ReplaceAll(signer, "/", ":") + ":"
		if !strings.HasPrefix(name, want) {
			return []string{fmt.Sprintf("ClusterTrustBundle for signerName %s must be named with prefix %s", signer, want)}
		}
		return apivalidation.NameIsDNSSubdomain(strings.TrimPrefix(name, want), prefix)
	}
}

// ipAddressName: an IPAddress is named by its address, in canonical form.
func ipAddressName(name string, _ bool) []string {
	var out []string
	for _, e := range validation.IsValidIP(&field.Path{}, name) {
		out = append(out, e.Detail)
	}
	return out
}

const (
	maxSliceEndpoints = 1000
	maxSliceAddresses = 100
	maxSlicePorts     = 20000
)

var sliceAddressTypes = []discoveryv1.AddressType{discoveryv1.AddressTypeIPv4, discoveryv1.AddressTypeIPv6, discoveryv1.AddressTypeFQDN}

// validateEndpointSlice checks what readers of a slice rely on: its
// address type, that every endpoint has an address of that type, and its
// ports.
func validateEndpointSlice(s *discoveryv1.EndpointSlice) field.ErrorList {
	errs := validateEnum(s.AddressType, sliceAddressTypes, field.NewPath("addressType"))
	ep := field.NewPath("endpoints")
	if len(s.Endpoints) > maxSliceEndpoints {
		errs = append(errs, field.TooMany(ep, len(s.Endpoints), maxSliceEndpoints))
	}
	for i := range s.Endpoints {
		e := &s.Endpoints[i]
		p := ep.Index(i)
		ap := p.Child("addresses")
		switch n := len(e.Addresses); {
		case n == 0:
			errs = append(errs, field.Required(ap, "must contain at least 1 address"))
		case n > maxSliceAddresses:
			errs = append(errs, field.TooMany(ap, n, maxSliceAddresses))
		}
		for j, a := range e.Addresses {
			errs = append(errs, validateSliceAddress(s.AddressType, a, ap.Index(j))...)
		}
		if e.NodeName != nil {
			errs = append(errs, msgErrs(p.Child("nodeName"), *e.NodeName, apivalidation.NameIsDNSSubdomain(*e.NodeName, false))...)
		}
		if e.Hostname != nil {
			errs = append(errs, validateDNSLabel(*e.Hostname, p.Child("hostname"))...)
		}
	}
	pp := field.NewPath("ports")
	if len(s.Ports) > maxSlicePorts {
		errs = append(errs, field.TooMany(pp, len(s.Ports), maxSlicePorts))
	}
	names := sets.New[string]()
	for i, port := range s.Ports {
		p := pp.Index(i)
		if port.Name == nil {
			errs = append(errs, field.Required(p.Child("name"), ""))
		} else {
			if *port.Name != "" {
				errs = append(errs, validateDNSLabel(*port.Name, p.Child("name"))...)
			}
			if names.Has(*port.Name) {
				errs = append(errs, field.Duplicate(p.Child("name"), *port.Name))
			}
			names.Insert(*port.Name)
		}
		if port.Protocol == nil {
			errs = append(errs, field.Required(p.Child("protocol"), ""))
		} else {
			errs = append(errs, validateEnum(*port.Protocol, protocols, p.Child("protocol"))...)
		}
		if port.Port != nil {
			errs = append(errs, msgErrs(p.Child("port"), *port.Port, validation.IsValidPortNum(int(*port.Port)))...)
		}
	}
	return errs
}

func validateSliceAddress(t discoveryv1.AddressType, a string, p *field.Path) field.ErrorList {
	switch t {
	case discoveryv1.AddressTypeIPv4, discoveryv1.AddressTypeIPv6:
		if errs := validateIP(a, p); len(errs) > 0 {
			return errs
		}
		ip, err := netip.ParseAddr(a)
		if err != nil {
			return field.ErrorList{field.Invalid(p, a, err.Error())}
		}
		if t == discoveryv1.AddressTypeIPv4 && !ip.Is4() {
			return field.ErrorList{field.Invalid(p, a, "must be a valid IPv4 address")}
		}
		if t == discoveryv1.AddressTypeIPv6 && !ip.Is6() {
			return field.ErrorList{field.Invalid(p, a, "must be a valid IPv6 address")}
		}
	case discoveryv1.AddressTypeFQDN:
		return validation.IsFullyQualifiedDomainName(p, a)
	}
	return nil
}
