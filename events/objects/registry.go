// Package objects is Strom's object model: the Kubernetes kinds it stores,
// how manifests decode into them, and their defaulting and validation.
//
// Objects are the k8s.io/api types, so users' manifests work unchanged.
package objects

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	networkingv1 "k8s.io/api/networking/v1"
	nodev1 "k8s.io/api/node/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	resourcev1 "k8s.io/api/resource/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	storagev1 "k8s.io/api/storage/v1"
	storagemigrationv1 "k8s.io/api/storagemigration/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	apiregistrationv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"
)

// Object is any stored object: typed metadata plus a runtime.Object.
type Object interface {
	metav1.Object
	runtime.Object
}

// Kind describes one stored kind: its API identity, its names on the
// command line, and whether it lives in a namespace.
type Kind struct {
	Kind       string   // "Deployment"
	Group      string   // "apps"; "" for the core group
	Version    string   // "v1"
	Resource   string   // "deployments"
	Singular   string   // "deployment"
	ShortNames []string // "deploy"
	Namespaced bool
	newFn      func() Object
}

// APIVersion is the manifest's apiVersion: "apps/v1", or "v1" for core.
func (k *Kind) APIVersion() string {
	if k.Group == "" {
		return k.Version
	}
	return k.Group + "/" + k.Version
}

// GVK is the kind's group, version and kind.
func (k *Kind) GVK() schema.GroupVersionKind {
	return schema.GroupVersionKind{Group: k.Group, Version: k.Version, Kind: k.Kind}
}

// QualifiedName is how kubectl names the kind in messages:
// "deployment.apps", or "pod" for the core group.
func (k *Kind) QualifiedName() string {
	if k.Group == "" {
		return k.Singular
	}
	return k.Singular + "." + k.Group
}

// New returns an empty object of this kind with apiVersion and kind set.
func (k *Kind) New() Object {
	o := k.newFn()
	o.GetObjectKind().SetGroupVersionKind(k.GVK())
	return o
}

func kind[T any, PT interface {
	*T
	Object
}](group, version, kindName, resource string, namespaced bool, short ...string) *Kind {
	return &Kind{
		Kind: kindName, Group: group, Version: version, Resource: resource,
		Singular: strings.ToLower(kindName), ShortNames: short, Namespaced: namespaced,
		newFn: func() Object { return PT(new(T)) },
	}
}

const (
	rbacGroup         = "rbac.authorization.k8s.io"
	networkingGroup   = "networking.k8s.io"
	admissionGroup    = "admissionregistration.k8s.io"
	certificatesGroup = "certificates.k8s.io"
	flowcontrolGroup  = "flowcontrol.apiserver.k8s.io"
	resourceGroup     = "resource.k8s.io"
	storageGroup      = "storage.k8s.io"
)

// kinds is every kind Strom stores: the kinds of kube-apiserver v1.37's
// default-enabled GA API groups, each at the version kube-apiserver
// prefers, with its scope and short names as kube-apiserver publishes
// them (its registries' ShortNames). Left out: kinds that are not stored
// objects in Kubernetes either (Binding, the token and access reviews,
// ComponentStatus, which kube-apiserver computes on each read), and
// events.k8s.io/v1 Event, which Kubernetes serves as a second version of
// the core Event objects (one resource "events", converted per version):
// the registry keys kinds, subjects and the view's tables by kind and
// resource name, so it holds one version of a resource.
//
// Kind and resource names are unique (init panics otherwise); a short or
// singular name two kinds share resolves as kubectl resolves it (Lookup).
// Order is the order the docs list them in; the first 26 are the kinds
// Strom stored first.
var kinds = []*Kind{
	kind[corev1.Namespace]("", "v1", "Namespace", "namespaces", false, "ns"),
	kind[corev1.Node]("", "v1", "Node", "nodes", false, "no"),
	kind[corev1.Pod]("", "v1", "Pod", "pods", true, "po"),
	kind[appsv1.ReplicaSet]("apps", "v1", "ReplicaSet", "replicasets", true, "rs"),
	kind[appsv1.Deployment]("apps", "v1", "Deployment", "deployments", true, "deploy"),
	kind[appsv1.DaemonSet]("apps", "v1", "DaemonSet", "daemonsets", true, "ds"),
	kind[appsv1.StatefulSet]("apps", "v1", "StatefulSet", "statefulsets", true, "sts"),
	kind[batchv1.Job]("batch", "v1", "Job", "jobs", true),
	kind[batchv1.CronJob]("batch", "v1", "CronJob", "cronjobs", true, "cj"),
	kind[corev1.Service]("", "v1", "Service", "services", true, "svc"),
	kind[corev1.Endpoints]("", "v1", "Endpoints", "endpoints", true, "ep"),
	kind[corev1.ConfigMap]("", "v1", "ConfigMap", "configmaps", true, "cm"),
	kind[corev1.Secret]("", "v1", "Secret", "secrets", true),
	kind[corev1.PersistentVolume]("", "v1", "PersistentVolume", "persistentvolumes", false, "pv"),
	kind[corev1.PersistentVolumeClaim]("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", true, "pvc"),
	kind[networkingv1.Ingress](networkingGroup, "v1", "Ingress", "ingresses", true, "ing"),
	kind[corev1.ServiceAccount]("", "v1", "ServiceAccount", "serviceaccounts", true, "sa"),
	kind[rbacv1.Role](rbacGroup, "v1", "Role", "roles", true),
	kind[rbacv1.RoleBinding](rbacGroup, "v1", "RoleBinding", "rolebindings", true),
	kind[rbacv1.ClusterRole](rbacGroup, "v1", "ClusterRole", "clusterroles", false),
	kind[rbacv1.ClusterRoleBinding](rbacGroup, "v1", "ClusterRoleBinding", "clusterrolebindings", false),
	kind[autoscalingv2.HorizontalPodAutoscaler]("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", true, "hpa"),
	kind[policyv1.PodDisruptionBudget]("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", true, "pdb"),
	kind[corev1.ResourceQuota]("", "v1", "ResourceQuota", "resourcequotas", true, "quota"),
	kind[corev1.LimitRange]("", "v1", "LimitRange", "limitranges", true, "limits"),
	kind[corev1.Event]("", "v1", "Event", "events", true, "ev"),

	kind[corev1.ReplicationController]("", "v1", "ReplicationController", "replicationcontrollers", true, "rc"),
	kind[corev1.PodTemplate]("", "v1", "PodTemplate", "podtemplates", true),
	kind[appsv1.ControllerRevision]("apps", "v1", "ControllerRevision", "controllerrevisions", true),
	kind[discoveryv1.EndpointSlice]("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", true),
	kind[coordinationv1.Lease]("coordination.k8s.io", "v1", "Lease", "leases", true),
	kind[networkingv1.IngressClass](networkingGroup, "v1", "IngressClass", "ingressclasses", false),
	kind[networkingv1.NetworkPolicy](networkingGroup, "v1", "NetworkPolicy", "networkpolicies", true, "netpol"),
	kind[networkingv1.ServiceCIDR](networkingGroup, "v1", "ServiceCIDR", "servicecidrs", false),
	kind[networkingv1.IPAddress](networkingGroup, "v1", "IPAddress", "ipaddresses", false, "ip"),
	kind[storagev1.StorageClass](storageGroup, "v1", "StorageClass", "storageclasses", false, "sc"),
	kind[storagev1.VolumeAttributesClass](storageGroup, "v1", "VolumeAttributesClass", "volumeattributesclasses", false, "vac"),
	kind[storagev1.VolumeAttachment](storageGroup, "v1", "VolumeAttachment", "volumeattachments", false),
	kind[storagev1.CSIDriver](storageGroup, "v1", "CSIDriver", "csidrivers", false),
	kind[storagev1.CSINode](storageGroup, "v1", "CSINode", "csinodes", false),
	kind[storagev1.CSIStorageCapacity](storageGroup, "v1", "CSIStorageCapacity", "csistoragecapacities", true),
	kind[schedulingv1.PriorityClass]("scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", false, "pc"),
	kind[nodev1.RuntimeClass]("node.k8s.io", "v1", "RuntimeClass", "runtimeclasses", false),
	kind[certificatesv1.CertificateSigningRequest](certificatesGroup, "v1", "CertificateSigningRequest", "certificatesigningrequests", false, "csr"),
	kind[certificatesv1.ClusterTrustBundle](certificatesGroup, "v1", "ClusterTrustBundle", "clustertrustbundles", false),
	kind[certificatesv1.PodCertificateRequest](certificatesGroup, "v1", "PodCertificateRequest", "podcertificaterequests", true),
	kind[admissionregistrationv1.MutatingWebhookConfiguration](admissionGroup, "v1", "MutatingWebhookConfiguration", "mutatingwebhookconfigurations", false),
	kind[admissionregistrationv1.ValidatingWebhookConfiguration](admissionGroup, "v1", "ValidatingWebhookConfiguration", "validatingwebhookconfigurations", false),
	kind[admissionregistrationv1.ValidatingAdmissionPolicy](admissionGroup, "v1", "ValidatingAdmissionPolicy", "validatingadmissionpolicies", false),
	kind[admissionregistrationv1.ValidatingAdmissionPolicyBinding](admissionGroup, "v1", "ValidatingAdmissionPolicyBinding", "validatingadmissionpolicybindings", false),
	kind[admissionregistrationv1.MutatingAdmissionPolicy](admissionGroup, "v1", "MutatingAdmissionPolicy", "mutatingadmissionpolicies", false),
	kind[admissionregistrationv1.MutatingAdmissionPolicyBinding](admissionGroup, "v1", "MutatingAdmissionPolicyBinding", "mutatingadmissionpolicybindings", false),
	kind[flowcontrolv1.FlowSchema](flowcontrolGroup, "v1", "FlowSchema", "flowschemas", false),
	kind[flowcontrolv1.PriorityLevelConfiguration](flowcontrolGroup, "v1", "PriorityLevelConfiguration", "prioritylevelconfigurations", false),
	kind[resourcev1.DeviceClass](resourceGroup, "v1", "DeviceClass", "deviceclasses", false),
	kind[resourcev1.ResourceClaim](resourceGroup, "v1", "ResourceClaim", "resourceclaims", true),
	kind[resourcev1.ResourceClaimTemplate](resourceGroup, "v1", "ResourceClaimTemplate", "resourceclaimtemplates", true),
	kind[resourcev1.ResourceSlice](resourceGroup, "v1", "ResourceSlice", "resourceslices", false),
	kind[resourcev1.DeviceTaintRule](resourceGroup, "v1", "DeviceTaintRule", "devicetaintrules", false),
	kind[storagemigrationv1.StorageVersionMigration]("storagemigration.k8s.io", "v1", "StorageVersionMigration", "storageversionmigrations", false),
	// Served by kube-apiserver's apiextensions and aggregator servers;
	// their types are not in client-go's scheme (the HTTPS API adds them).
	kind[apiextensionsv1.CustomResourceDefinition]("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", false, "crd", "crds"),
	kind[apiregistrationv1.APIService]("apiregistration.k8s.io", "v1", "APIService", "apiservices", false),
}

var (
	byKind = map[string]*Kind{}   // "Deployment"
	byName = map[string][]*Kind{} // every lower-case name a user may type
	byGVK  = map[schema.GroupVersionKind]*Kind{}
	byType = map[reflect.Type]*Kind{}
)

func init() {
	resources := map[string]bool{}
	for _, k := range kinds {
		// Manifests and owner references name a kind, subjects and the
		// view's tables a resource: each must name one kind.
		if byKind[k.Kind] != nil || resources[k.Resource] {
			panic(fmt.Sprintf("objects: kind %s (resource %s) registered twice", k.Kind, k.Resource))
		}
		resources[k.Resource] = true
		byKind[k.Kind] = k
		byGVK[k.GVK()] = k
		byType[reflect.TypeOf(k.newFn())] = k
		names := append([]string{strings.ToLower(k.Kind), k.Resource, k.Singular}, k.ShortNames...)
		if k.Group != "" {
			names = append(names, k.Resource+"."+k.Group, k.Singular+"."+k.Group)
		}
		seen := map[string]bool{}
		for _, n := range names {
			if !seen[n] {
				seen[n] = true
				byName[n] = append(byName[n], k)
			}
		}
	}
}

// All returns every stored kind.
func All() []*Kind { return append([]*Kind(nil), kinds...) }

// ByKind returns the kind named exactly as in a manifest ("Deployment"),
// or nil.
func ByKind(kind string) *Kind { return byKind[kind] }

// ByGVK returns the kind for an apiVersion and kind, or nil.
func ByGVK(gvk schema.GroupVersionKind) *Kind { return byGVK[gvk] }

// Lookup resolves what a user typed on the command line: a kind, its
// plural, singular or short name, optionally qualified by group
// ("deployments.apps"), case-insensitively. A name several kinds share
// resolves as kubectl resolves it against kube-apiserver: to the core
// group's kind (kube-apiserver lists the core group first, and kubectl
// takes the first group that has the name); the others are reached by
// the group-qualified name.
func Lookup(name string) (*Kind, error) {
	return pick(name, byName[strings.ToLower(name)])
}

// pick chooses among the kinds a name matched.
func pick(name string, ks []*Kind) (*Kind, error) {
	switch len(ks) {
	case 1:
		return ks[0], nil
	case 0:
		return nil, fmt.Errorf("the server doesn't have a resource type %q", name)
	}
	var core []*Kind
	for _, k := range ks {
		if k.Group == "" {
			core = append(core, k)
		}
	}
	if len(core) == 1 {
		return core[0], nil
	}
	return nil, fmt.Errorf("resource type %q is ambiguous", name)
}

// Names lists every resource name, sorted, for help texts and errors.
func Names() []string {
	var out []string
	for _, k := range kinds {
		out = append(out, k.Resource)
	}
	sort.Strings(out)
	return out
}

// KindOf returns the registered kind of an object from its Go type.
func KindOf(o runtime.Object) (*Kind, error) {
	if k := byType[reflect.TypeOf(o)]; k != nil {
		return k, nil
	}
	return nil, fmt.Errorf("objects: %T is not a stored kind", o)
}
