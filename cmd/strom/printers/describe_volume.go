package printers

import (
	corev1 "k8s.io/api/core/v1"
)

// volumes writes the Volumes section.
func (d *describer) volumes(indent string, vs []corev1.Volume) {
	if len(vs) == 0 {
		d.w(0, "%sVolumes:\t%s\n", indent, none)
		return
	}
	d.w(0, "%sVolumes:\n", indent)
	nameIndent := ""
	if indent != "" {
		nameIndent = " "
	}
	for _, v := range vs {
		d.w(1, "%s%s:\n", nameIndent, v.Name)
		d.volumeSource(v.VolumeSource)
	}
}

func (d *describer) volumeSource(s corev1.VolumeSource) {
	optional := func(b *bool) bool { return b != nil && *b }
	switch {
	case s.HostPath != nil:
		typ := none
		if s.HostPath.Type != nil {
			typ = string(*s.HostPath.Type)
		}
		d.w(2, "Type:\tHostPath (bare host directory volume)\n")
		d.w(2, "Path:\t%s\n", s.HostPath.Path)
		d.w(2, "HostPathType:\t%s\n", typ)
	case s.EmptyDir != nil:
		limit := unset
		if s.EmptyDir.SizeLimit != nil && s.EmptyDir.SizeLimit.Sign() > 0 {
			limit = s.EmptyDir.SizeLimit.String()
		}
		d.w(2, "Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)\n")
		d.w(2, "Medium:\t%s\n", s.EmptyDir.Medium)
		d.w(2, "SizeLimit:\t%s\n", limit)
	case s.Secret != nil:
		d.w(2, "Type:\tSecret (a volume populated by a Secret)\n")
		d.w(2, "SecretName:\t%s\n", s.Secret.SecretName)
		d.w(2, "Optional:\t%t\n", optional(s.Secret.Optional))
	case s.ConfigMap != nil:
		d.w(2, "Type:\tConfigMap (a volume populated by a ConfigMap)\n")
		d.w(2, "Name:\t%s\n", s.ConfigMap.Name)
		d.w(2, "Optional:\t%t\n", optional(s.ConfigMap.Optional))
	case s.PersistentVolumeClaim != nil:
		d.w(2, "Type:\tPersistentVolumeClaim (a reference to a PersistentVolumeClaim in the same namespace)\n")
		d.w(2, "ClaimName:\t%s\n", s.PersistentVolumeClaim.ClaimName)
		d.w(2, "ReadOnly:\t%t\n", s.PersistentVolumeClaim.ReadOnly)
	case s.DownwardAPI != nil:
		d.w(2, "Type:\tDownwardAPI (a volume populated by information about the pod)\n")
		d.w(2, "Items:\n")
		for _, item := range s.DownwardAPI.Items {
			switch {
			case item.FieldRef != nil:
				d.w(3, "%s -> %s\n", item.FieldRef.FieldPath, item.Path)
			case item.ResourceFieldRef != nil:
				d.w(3, "%s -> %s\n", item.ResourceFieldRef.Resource, item.Path)
			}
		}
	case s.Projected != nil:
		d.w(2, "Type:\tProjected (a volume that contains injected data from multiple sources)\n")
		for _, src := range s.Projected.Sources {
			switch {
			case src.Secret != nil:
				d.w(2, "SecretName:\t%s\n", src.Secret.Name)
				d.w(2, "Optional:\t%t\n", optional(src.Secret.Optional))
			case src.ConfigMap != nil:
				d.w(2, "ConfigMapName:\t%s\n", src.ConfigMap.Name)
				d.w(2, "Optional:\t%t\n", optional(src.ConfigMap.Optional))
			case src.DownwardAPI != nil:
				d.w(2, "DownwardAPI:\ttrue\n")
			case src.ServiceAccountToken != nil:
				var secs int64
				if src.ServiceAccountToken.ExpirationSeconds != nil {
					secs = *src.ServiceAccountToken.ExpirationSeconds
				}
				d.w(2, "TokenExpirationSeconds:\t%d\n", secs)
			}
		}
	default:
		d.w(1, "%s\n", unknown)
	}
}
