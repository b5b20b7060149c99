package printers

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Columns of the core and apps kinds Strom stores without acting on, and
// of EndpointSlices and Leases, as kube-apiserver's printers give them.

var podTemplateColumns = cols("NAME", "CONTAINERS", "IMAGES", "POD LABELS")

func podTemplateRow(p *corev1.PodTemplate, _ time.Time) []string {
	names, images := containerNamesImages(p.Template.Spec.Containers)
	return []string{p.Name, names, images, mapLabels(p.Template.Labels)}
}

var replicationControllerColumns = cols("NAME", "DESIRED", "CURRENT", "READY", "AGE", "*CONTAINERS", "*IMAGES", "*SELECTOR")

func replicationControllerRow(rc *corev1.ReplicationController, now time.Time) []string {
	var cs []corev1.Container
	if rc.Spec.Template != nil {
		cs = rc.Spec.Template.Spec.Containers
	}
	names, images := containerNamesImages(cs)
	return []string{
		rc.Name, fmt.Sprint(int32Or(rc.Spec.Replicas, 1)), fmt.Sprint(rc.Status.Replicas),
		fmt.Sprint(rc.Status.ReadyReplicas), age(rc.CreationTimestamp, now),
		names, images, mapLabels(rc.Spec.Selector),
	}
}

var controllerRevisionColumns = cols("NAME", "CONTROLLER", "REVISION", "AGE")

// controllerRevisionRow names the controller as "statefulset.apps/web":
// lower-case kind.group, then the name.
func controllerRevisionRow(r *appsv1.ControllerRevision, now time.Time) []string {
	controller := none
	if ref := metav1.GetControllerOf(r); ref != nil {
		gk := schema.GroupKind{Kind: ref.Kind}
		if gv, err := schema.ParseGroupVersion(ref.APIVersion); err == nil {
			gk.Group = gv.Group
		}
		controller = strings.ToLower(gk.String()) + "/" + ref.Name
	}
	return []string{r.Name, controller, strconv.FormatInt(r.Revision, 10), age(r.CreationTimestamp, now)}
}

var endpointSliceColumns = cols("NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE")

func endpointSliceRow(s *discoveryv1.EndpointSlice, now time.Time) []string {
	var ports, addrs []string
	for _, p := range s.Ports {
		switch {
		case p.Port != nil:
			ports = append(ports, strconv.Itoa(int(*p.Port)))
		case p.Name != nil:
			ports = append(ports, *p.Name)
		default:
			ports = append(ports, "*")
		}
	}
	for _, e := range s.Endpoints {
		addrs = append(addrs, e.Addresses...)
	}
	return []string{s.Name, string(s.AddressType), firstThree(ports), firstThree(addrs), age(s.CreationTimestamp, now)}
}

// firstThree is kubectl's list of at most three items, then "+ N
// more...", "<unset>" for none.
func firstThree(items []string) string {
	const max = 3
	switch {
	case len(items) == 0:
		return unset
	case len(items) > max:
		return fmt.Sprintf("%s + %d more...", strings.Join(items[:max], ","), len(items)-max)
	}
	return strings.Join(items, ",")
}

var leaseColumns = cols("NAME", "HOLDER", "AGE")

func leaseRow(l *coordinationv1.Lease, now time.Time) []string {
	holder := ""
	if l.Spec.HolderIdentity != nil {
		holder = *l.Spec.HolderIdentity
	}
	return []string{l.Name, holder, age(l.CreationTimestamp, now)}
}
