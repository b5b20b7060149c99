package printers

import (
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

var nodeColumns = cols("NAME", "STATUS", "ROLES", "AGE", "VERSION",
	"*INTERNAL-IP", "*EXTERNAL-IP", "*OS-IMAGE", "*KERNEL-VERSION", "*CONTAINER-RUNTIME")

func nodeRow(n *corev1.Node, now time.Time) []string {
	info := n.Status.NodeInfo
	unknownIfEmpty := func(s string) string {
		if s == "" {
			return unknown
		}
		return s
	}
	return []string{
		n.Name, nodeStatus(n), orNone(strings.Join(nodeRoles(n), ",")), age(n.CreationTimestamp, now), info.KubeletVersion,
		nodeAddress(n, corev1.NodeInternalIP), nodeAddress(n, corev1.NodeExternalIP),
		unknownIfEmpty(info.OSImage), unknownIfEmpty(info.KernelVersion), unknownIfEmpty(info.ContainerRuntimeVersion),
	}
}

// nodeStatus is "Ready", "NotReady", "Unknown", with ",SchedulingDisabled"
// for a cordoned node.
func nodeStatus(n *corev1.Node) string {
	var status []string
	for _, c := range n.Status.Conditions {
		if c.Type != corev1.NodeReady {
			continue
		}
		if c.Status == corev1.ConditionTrue {
			status = append(status, "Ready")
		} else {
			status = append(status, "NotReady")
		}
		break
	}
	if len(status) == 0 {
		status = append(status, "Unknown")
	}
	if n.Spec.Unschedulable {
		status = append(status, "SchedulingDisabled")
	}
	return strings.Join(status, ",")
}

// nodeRoles reads roles from node-role.kubernetes.io/<role> labels and the
// older kubernetes.io/role label, sorted.
func nodeRoles(n *corev1.Node) []string {
	set := map[string]bool{}
	for k, v := range n.Labels {
		switch {
		case strings.HasPrefix(k, "node-role.kubernetes.io/"):
			if r := strings.TrimPrefix(k, "node-role.kubernetes.io/"); r != "" {
				set[r] = true
			}
		case k == "kubernetes.io/role" && v != "":
			set[v] = true
		}
	}
	roles := make([]string, 0, len(set))
	for r := range set {
		roles = append(roles, r)
	}
	sort.Strings(roles)
	return roles
}

func nodeAddress(n *corev1.Node, t corev1.NodeAddressType) string {
	for _, a := range n.Status.Addresses {
		if a.Type == t {
			return a.Address
		}
	}
	return none
}

var pvColumns = cols("NAME", "CAPACITY", "ACCESS MODES", "RECLAIM POLICY", "STATUS", "CLAIM", "STORAGECLASS",
	"VOLUMEATTRIBUTESCLASS", "REASON", "AGE", "*VOLUMEMODE")

func pvRow(pv *corev1.PersistentVolume, now time.Time) []string {
	claim := ""
	if r := pv.Spec.ClaimRef; r != nil {
		claim = r.Namespace + "/" + r.Name
	}
	phase := string(pv.Status.Phase)
	if pv.DeletionTimestamp != nil {
		phase = "Terminating"
	}
	class := pv.Spec.StorageClassName
	if a, ok := pv.Annotations[corev1.BetaStorageClassAnnotation]; ok {
		class = a
	}
	vac := unset
	if pv.Spec.VolumeAttributesClassName != nil {
		vac = *pv.Spec.VolumeAttributesClassName
	}
	capacity := pv.Spec.Capacity[corev1.ResourceStorage]
	return []string{
		pv.Name, capacity.String(), accessModes(pv.Spec.AccessModes), string(pv.Spec.PersistentVolumeReclaimPolicy),
		phase, claim, class, vac, pv.Status.Reason, age(pv.CreationTimestamp, now),
		volumeMode(pv.Spec.VolumeMode),
	}
}

func volumeMode(m *corev1.PersistentVolumeMode) string {
	if m == nil {
		return unset
	}
	return string(*m)
}

var pvcColumns = cols("NAME", "STATUS", "VOLUME", "CAPACITY", "ACCESS MODES", "STORAGECLASS",
	"VOLUMEATTRIBUTESCLASS", "AGE", "*VOLUMEMODE")

func pvcRow(c *corev1.PersistentVolumeClaim, now time.Time) []string {
	phase := string(c.Status.Phase)
	if c.DeletionTimestamp != nil {
		phase = "Terminating"
	}
	class := ""
	if c.Spec.StorageClassName != nil {
		class = *c.Spec.StorageClassName
	}
	if a, ok := c.Annotations[corev1.BetaStorageClassAnnotation]; ok {
		class = a
	}
	var capacity, modes string
	if c.Spec.VolumeName != "" {
		modes = accessModes(c.Status.AccessModes)
		q := c.Status.Capacity[corev1.ResourceStorage]
		capacity = q.String()
	}
	vac := unset
	if n := c.Spec.VolumeAttributesClassName; n != nil {
		vac = *n
	}
	return []string{
		c.Name, phase, c.Spec.VolumeName, capacity, modes, class, vac, age(c.CreationTimestamp, now),
		volumeMode(c.Spec.VolumeMode),
	}
}
