package printers

import (
	"strings"
	"time"

	resourcev1 "k8s.io/api/resource/v1"
)

// Columns of the resource.k8s.io (dynamic resource allocation) kinds, as
// kube-apiserver's printers give them.

var nameAgeColumns = cols("NAME", "AGE")

func deviceClassRow(c *resourcev1.DeviceClass, now time.Time) []string {
	return []string{c.Name, age(c.CreationTimestamp, now)}
}

func resourceClaimTemplateRow(t *resourcev1.ResourceClaimTemplate, now time.Time) []string {
	return []string{t.Name, age(t.CreationTimestamp, now)}
}

// deviceTaintRuleRow: NAME and AGE. The v1.37 printer for this kind was
// not available to compare with.
func deviceTaintRuleRow(r *resourcev1.DeviceTaintRule, now time.Time) []string {
	return []string{r.Name, age(r.CreationTimestamp, now)}
}

var resourceClaimColumns = cols("NAME", "STATE", "AGE")

func resourceClaimRow(c *resourcev1.ResourceClaim, now time.Time) []string {
	return []string{c.Name, resourceClaimState(c), age(c.CreationTimestamp, now)}
}

// resourceClaimState lists "deleted", then "pending" (not allocated yet)
// or "allocated" and "reserved" (in use by a pod).
func resourceClaimState(c *resourcev1.ResourceClaim) string {
	var states []string
	if c.DeletionTimestamp != nil {
		states = append(states, "deleted")
	}
	switch {
	case c.Status.Allocation == nil && c.DeletionTimestamp == nil:
		states = append(states, "pending")
	case c.Status.Allocation != nil:
		states = append(states, "allocated")
		if len(c.Status.ReservedFor) > 0 {
			states = append(states, "reserved")
		}
	}
	return strings.Join(states, ",")
}

var resourceSliceColumns = cols("NAME", "NODE", "DRIVER", "POOL", "AGE")

func resourceSliceRow(s *resourcev1.ResourceSlice, now time.Time) []string {
	node := ""
	if s.Spec.NodeName != nil {
		node = *s.Spec.NodeName
	}
	return []string{s.Name, node, s.Spec.Driver, s.Spec.Pool.Name, age(s.CreationTimestamp, now)}
}
