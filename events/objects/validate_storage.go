package objects

import (
	"reflect"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var (
	accessModes = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce, corev1.ReadOnlyMany,
		corev1.ReadWriteMany, corev1.ReadWriteOncePod}
	volumeModes    = []corev1.PersistentVolumeMode{corev1.PersistentVolumeBlock, corev1.PersistentVolumeFilesystem}
	reclaimPolices = []corev1.PersistentVolumeReclaimPolicy{corev1.PersistentVolumeReclaimRetain,
		corev1.PersistentVolumeReclaimDelete, corev1.PersistentVolumeReclaimRecycle}
)

// setPointerFields lists, by JSON name, the pointer fields of a struct of
// alternatives (a volume source) that are set.
func setPointerFields(v any) []string {
	rv := reflect.ValueOf(v).Elem()
	var out []string
	for i := 0; i < rv.NumField(); i++ {
		f := rv.Field(i)
		if f.Kind() == reflect.Pointer && !f.IsNil() {
			name, _, _ := strings.Cut(rv.Type().Field(i).Tag.Get("json"), ",")
			out = append(out, name)
		}
	}
	return out
}

func validateAccessModes(modes []corev1.PersistentVolumeAccessMode, p *field.Path) field.ErrorList {
	if len(modes) == 0 {
		return field.ErrorList{field.Required(p, "at least 1 access mode is required")}
	}
	var errs field.ErrorList
	for i, m := range modes {
		errs = append(errs, validateEnum(m, accessModes, p.Index(i))...)
	}
	if len(modes) > 1 && sets.New(modes...).Has(corev1.ReadWriteOncePod) {
		errs = append(errs, field.Forbidden(p, "may not use ReadWriteOncePod with other access modes"))
	}
	return errs
}

func validatePersistentVolume(pv *corev1.PersistentVolume) field.ErrorList {
	s := &pv.Spec
	p := specPath
	errs := validateAccessModes(s.AccessModes, p.Child("accessModes"))
	cp := p.Child("capacity")
	if len(s.Capacity) == 0 {
		errs = append(errs, field.Required(cp, ""))
	} else {
		q, ok := s.Capacity[corev1.ResourceStorage]
		if !ok || len(s.Capacity) > 1 {
			keys := make([]corev1.ResourceName, 0, len(s.Capacity))
			for k := range s.Capacity {
				keys = append(keys, k)
			}
			errs = append(errs, field.NotSupported(cp, keys, []corev1.ResourceName{corev1.ResourceStorage}))
		}
		if ok {
			errs = append(errs, validateNonNegativeQuantity(q, cp.Key(string(corev1.ResourceStorage)))...)
		}
	}
	errs = append(errs, validateOptionalEnum(s.PersistentVolumeReclaimPolicy, reclaimPolices, p.Child("persistentVolumeReclaimPolicy"))...)
	if s.VolumeMode != nil {
		errs = append(errs, validateEnum(*s.VolumeMode, volumeModes, p.Child("volumeMode"))...)
	}
	if s.StorageClassName != "" {
		errs = append(errs, validateDNSSubdomain(s.StorageClassName, p.Child("storageClassName"))...)
	}
	srcs := setPointerFields(&s.PersistentVolumeSource)
	switch len(srcs) {
	case 0:
		errs = append(errs, field.Required(p, "must specify a volume type"))
	case 1:
		switch {
		case s.HostPath != nil && s.HostPath.Path == "":
			errs = append(errs, field.Required(p.Child("hostPath", "path"), ""))
		case s.Local != nil:
			if s.Local.Path == "" {
				errs = append(errs, field.Required(p.Child("local", "path"), ""))
			}
			if s.NodeAffinity == nil || s.NodeAffinity.Required == nil {
				errs = append(errs, field.Required(p.Child("nodeAffinity"), "Local volume requires node affinity"))
			}
		case s.NFS != nil:
			if s.NFS.Server == "" {
				errs = append(errs, field.Required(p.Child("nfs", "server"), ""))
			}
			if !strings.HasPrefix(s.NFS.Path, "/") {
				errs = append(errs, field.Invalid(p.Child("nfs", "path"), s.NFS.Path, "must be an absolute path"))
			}
		case s.CSI != nil:
			if s.CSI.Driver == "" {
				errs = append(errs, field.Required(p.Child("csi", "driver"), ""))
			}
			if s.CSI.VolumeHandle == "" {
				errs = append(errs, field.Required(p.Child("csi", "volumeHandle"), ""))
			}
		}
	default:
		errs = append(errs, field.Forbidden(p.Child(srcs[1]), "may not specify more than 1 volume type"))
	}
	if na := s.NodeAffinity; na != nil && na.Required != nil {
		rp := p.Child("nodeAffinity", "required")
		if len(na.Required.NodeSelectorTerms) == 0 {
			errs = append(errs, field.Required(rp.Child("nodeSelectorTerms"), "must have at least one node selector term"))
		}
		for i := range na.Required.NodeSelectorTerms {
			errs = append(errs, validateNodeSelectorTerm(&na.Required.NodeSelectorTerms[i], rp.Child("nodeSelectorTerms").Index(i))...)
		}
	}
	return errs
}

// validatePVCSpec checks a claim's spec; p is "spec" for a claim and
// "spec.volumeClaimTemplates[i].spec" in a StatefulSet.
func validatePVCSpec(s *corev1.PersistentVolumeClaimSpec, p *field.Path) field.ErrorList {
	errs := validateAccessModes(s.AccessModes, p.Child("accessModes"))
	errs = append(errs, validateLabelSelector(s.Selector, p.Child("selector"))...)
	rp := p.Child("resources")
	q, ok := s.Resources.Requests[corev1.ResourceStorage]
	switch {
	case !ok:
		errs = append(errs, field.Required(rp.Child("requests").Key(string(corev1.ResourceStorage)), ""))
	case q.Sign() <= 0:
		errs = append(errs, field.Invalid(rp.Child("requests").Key(string(corev1.ResourceStorage)), q.String(), "must be greater than zero"))
	}
	if lim, ok := s.Resources.Limits[corev1.ResourceStorage]; ok && q.Cmp(lim) > 0 {
		errs = append(errs, field.Invalid(rp.Child("requests").Key(string(corev1.ResourceStorage)), q.String(),
			"must be less than or equal to storage limit of "+lim.String()))
	}
	if s.VolumeMode != nil {
		errs = append(errs, validateEnum(*s.VolumeMode, volumeModes, p.Child("volumeMode"))...)
	}
	if s.StorageClassName != nil && *s.StorageClassName != "" {
		errs = append(errs, validateDNSSubdomain(*s.StorageClassName, p.Child("storageClassName"))...)
	}
	return errs
}
