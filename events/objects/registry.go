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

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
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
	rbacGroup       = "rbac.authorization.k8s.io"
	networkingGroup = "networking.k8s.io"
)

// kinds is every kind Strom stores. Order is the order `strom get all`
// and the docs list them in.
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
}

var (
	byKind = map[string]*Kind{}   // "Deployment"
	byName = map[string][]*Kind{} // every lower-case name a user may type
	byGVK  = map[schema.GroupVersionKind]*Kind{}
	byType = map[reflect.Type]*Kind{}
)

func init() {
	for _, k := range kinds {
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
// ("deployments.apps"), case-insensitively.
func Lookup(name string) (*Kind, error) {
	ks := byName[strings.ToLower(name)]
	switch len(ks) {
	case 1:
		return ks[0], nil
	case 0:
		return nil, fmt.Errorf("the server doesn't have a resource type %q", name)
	default:
		return nil, fmt.Errorf("resource type %q is ambiguous", name)
	}
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
