package printers

import (
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	storagemigrationv1 "k8s.io/api/storagemigration/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Columns of the storage.k8s.io and storagemigration.k8s.io kinds, as
// kube-apiserver's printers give them.

// The annotations that mark a default class; a name is shown with
// " (default)" when one of them is "true".
var (
	defaultStorageClassAnnotations = []string{"storageclass.kubernetes.io/is-default-class",
		"storageclass.beta.kubernetes.io/is-default-class"}
	defaultVolumeAttributesClassAnnotations = []string{"volumeattributesclass.alpha.kubernetes.io/is-default-class"}
)

func nameWithDefault(name string, annotations map[string]string, keys []string) string {
	for _, k := range keys {
		if annotations[k] == "true" {
			return name + " (default)"
		}
	}
	return name
}

var storageClassColumns = cols("NAME", "PROVISIONER", "RECLAIMPOLICY", "VOLUMEBINDINGMODE", "ALLOWVOLUMEEXPANSION", "AGE")

func storageClassRow(c *storagev1.StorageClass, now time.Time) []string {
	reclaim := corev1.PersistentVolumeReclaimDelete
	if c.ReclaimPolicy != nil {
		reclaim = *c.ReclaimPolicy
	}
	binding := storagev1.VolumeBindingImmediate
	if c.VolumeBindingMode != nil {
		binding = *c.VolumeBindingMode
	}
	expand := c.AllowVolumeExpansion != nil && *c.AllowVolumeExpansion
	return []string{nameWithDefault(c.Name, c.Annotations, defaultStorageClassAnnotations), c.Provisioner,
		string(reclaim), string(binding), fmt.Sprint(expand), age(c.CreationTimestamp, now)}
}

var volumeAttributesClassColumns = cols("NAME", "DRIVERNAME", "AGE")

func volumeAttributesClassRow(c *storagev1.VolumeAttributesClass, now time.Time) []string {
	return []string{nameWithDefault(c.Name, c.Annotations, defaultVolumeAttributesClassAnnotations),
		c.DriverName, age(c.CreationTimestamp, now)}
}

var volumeAttachmentColumns = cols("NAME", "ATTACHER", "PV", "NODE", "ATTACHED", "AGE")

func volumeAttachmentRow(a *storagev1.VolumeAttachment, now time.Time) []string {
	pv := ""
	if a.Spec.Source.PersistentVolumeName != nil {
		pv = *a.Spec.Source.PersistentVolumeName
	}
	return []string{a.Name, a.Spec.Attacher, pv, a.Spec.NodeName, fmt.Sprint(a.Status.Attached), age(a.CreationTimestamp, now)}
}

var csiDriverColumns = cols("NAME", "ATTACHREQUIRED", "PODINFOONMOUNT", "STORAGECAPACITY", "TOKENREQUESTS",
	"REQUIRESREPUBLISH", "MODES", "AGE")

// csiDriverRow shows unset booleans as their defaults (attachRequired
// true, the others false), as kube-apiserver stores them.
func csiDriverRow(d *storagev1.CSIDriver, now time.Time) []string {
	boolOr := func(b *bool, def bool) string {
		if b == nil {
			return fmt.Sprint(def)
		}
		return fmt.Sprint(*b)
	}
	tokens := unset
	if d.Spec.TokenRequests != nil {
		var auds []string
		for _, t := range d.Spec.TokenRequests {
			auds = append(auds, t.Audience)
		}
		tokens = strings.Join(auds, ",")
	}
	var modes []string
	for _, m := range d.Spec.VolumeLifecycleModes {
		modes = append(modes, string(m))
	}
	return []string{d.Name, boolOr(d.Spec.AttachRequired, true), boolOr(d.Spec.PodInfoOnMount, false),
		boolOr(d.Spec.StorageCapacity, false), tokens, boolOr(d.Spec.RequiresRepublish, false),
		orNone(strings.Join(modes, ",")), age(d.CreationTimestamp, now)}
}

var csiNodeColumns = cols("NAME", "DRIVERS", "AGE")

func csiNodeRow(n *storagev1.CSINode, now time.Time) []string {
	return []string{n.Name, fmt.Sprint(len(n.Spec.Drivers)), age(n.CreationTimestamp, now)}
}

// csiStorageCapacityColumns has no AGE, as in kube-apiserver.
var csiStorageCapacityColumns = cols("NAME", "STORAGECLASSNAME", "CAPACITY")

func csiStorageCapacityRow(c *storagev1.CSIStorageCapacity, _ time.Time) []string {
	capacity := unset
	if c.Capacity != nil {
		capacity = c.Capacity.String()
	}
	return []string{c.Name, c.StorageClassName, capacity}
}

// storageVersionMigrationColumns: the resource to migrate, "secrets" or
// "deployments.apps" (v1 names a group and resource, no version).
var storageVersionMigrationColumns = cols("NAME", "RESOURCE")

func storageVersionMigrationRow(m *storagemigrationv1.StorageVersionMigration, _ time.Time) []string {
	r := m.Spec.Resource
	return []string{m.Name, schema.GroupResource{Group: r.Group, Resource: r.Resource}.String()}
}
