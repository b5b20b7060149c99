package objects

import (
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Validation of a pod's volumes and of the containers' mounts of them.

// volumeSources lists the sources a volume sets, by JSON name.
func volumeSources(v *corev1.VolumeSource) []string {
	var out []string
	add := func(set bool, name string) {
		if set {
			out = append(out, name)
		}
	}
	add(v.HostPath != nil, "hostPath")
	add(v.EmptyDir != nil, "emptyDir")
	add(v.Secret != nil, "secret")
	add(v.ConfigMap != nil, "configMap")
	add(v.DownwardAPI != nil, "downwardAPI")
	add(v.Projected != nil, "projected")
	add(v.PersistentVolumeClaim != nil, "persistentVolumeClaim")
	add(v.Ephemeral != nil, "ephemeral")
	add(v.Image != nil, "image")
	add(v.NFS != nil, "nfs")
	add(v.ISCSI != nil, "iscsi")
	add(v.CSI != nil, "csi")
	add(v.FC != nil, "fc")
	add(v.GCEPersistentDisk != nil, "gcePersistentDisk")
	add(v.AWSElasticBlockStore != nil, "awsElasticBlockStore")
	add(v.AzureDisk != nil, "azureDisk")
	add(v.AzureFile != nil, "azureFile")
	add(v.GitRepo != nil, "gitRepo")
	add(v.Glusterfs != nil, "glusterfs")
	add(v.RBD != nil, "rbd")
	add(v.FlexVolume != nil, "flexVolume")
	add(v.Cinder != nil, "cinder")
	add(v.CephFS != nil, "cephfs")
	add(v.Flocker != nil, "flocker")
	add(v.VsphereVolume != nil, "vsphereVolume")
	add(v.Quobyte != nil, "quobyte")
	add(v.PhotonPersistentDisk != nil, "photonPersistentDisk")
	add(v.PortworxVolume != nil, "portworxVolume")
	add(v.ScaleIO != nil, "scaleIO")
	add(v.StorageOS != nil, "storageos")
	return out
}

// validateVolumes checks the pod's volumes and returns their names.
func validateVolumes(vols []corev1.Volume, p *field.Path) (sets.Set[string], field.ErrorList) {
	var errs field.ErrorList
	names := sets.New[string]()
	for i := range vols {
		v := &vols[i]
		vp := p.Index(i)
		switch {
		case v.Name == "":
			errs = append(errs, field.Required(vp.Child("name"), ""))
		case names.Has(v.Name):
			errs = append(errs, field.Duplicate(vp.Child("name"), v.Name))
		default:
			errs = append(errs, validateDNSLabel(v.Name, vp.Child("name"))...)
		}
		names.Insert(v.Name)
		srcs := volumeSources(&v.VolumeSource)
		if len(srcs) == 0 {
			errs = append(errs, field.Required(vp, "must specify a volume type"))
			continue
		}
		if len(srcs) > 1 {
			errs = append(errs, field.Forbidden(vp.Child(srcs[1]), "may not specify more than 1 volume type"))
			continue
		}
		errs = append(errs, validateVolumeSource(&v.VolumeSource, vp)...)
	}
	return names, errs
}

func validateVolumeSource(v *corev1.VolumeSource, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch {
	case v.HostPath != nil:
		hp := p.Child("hostPath")
		if v.HostPath.Path == "" {
			errs = append(errs, field.Required(hp.Child("path"), ""))
		}
		if t := v.HostPath.Type; t != nil {
			errs = append(errs, validateOptionalEnum(*t, []corev1.HostPathType{corev1.HostPathUnset, corev1.HostPathDirectoryOrCreate,
				corev1.HostPathDirectory, corev1.HostPathFileOrCreate, corev1.HostPathFile, corev1.HostPathSocket,
				corev1.HostPathCharDev, corev1.HostPathBlockDev}, hp.Child("type"))...)
		}
	case v.EmptyDir != nil:
		if v.EmptyDir.SizeLimit != nil {
			errs = append(errs, validateNonNegativeQuantity(*v.EmptyDir.SizeLimit, p.Child("emptyDir", "sizeLimit"))...)
		}
		errs = append(errs, validateOptionalEnum(v.EmptyDir.Medium, []corev1.StorageMedium{corev1.StorageMediumDefault,
			corev1.StorageMediumMemory, corev1.StorageMediumHugePages}, p.Child("emptyDir", "medium"))...)
	case v.ConfigMap != nil:
		cp := p.Child("configMap")
		if v.ConfigMap.Name == "" {
			errs = append(errs, field.Required(cp.Child("name"), ""))
		}
		errs = append(errs, validateFileMode(v.ConfigMap.DefaultMode, cp.Child("defaultMode"))...)
		errs = append(errs, validateKeyToPaths(v.ConfigMap.Items, cp.Child("items"))...)
	case v.Secret != nil:
		sp := p.Child("secret")
		if v.Secret.SecretName == "" {
			errs = append(errs, field.Required(sp.Child("secretName"), ""))
		}
		errs = append(errs, validateFileMode(v.Secret.DefaultMode, sp.Child("defaultMode"))...)
		errs = append(errs, validateKeyToPaths(v.Secret.Items, sp.Child("items"))...)
	case v.DownwardAPI != nil:
		dp := p.Child("downwardAPI")
		errs = append(errs, validateFileMode(v.DownwardAPI.DefaultMode, dp.Child("defaultMode"))...)
		for i, it := range v.DownwardAPI.Items {
			ip := dp.Child("items").Index(i)
			errs = append(errs, validateRelativePath(it.Path, ip.Child("path"))...)
			errs = append(errs, validateFileMode(it.Mode, ip.Child("mode"))...)
			if (it.FieldRef == nil) == (it.ResourceFieldRef == nil) {
				errs = append(errs, field.Invalid(ip, "", "must specify exactly one of `fieldRef` or `resourceFieldRef`"))
			}
			if it.FieldRef != nil {
				errs = append(errs, validateFieldRef(it.FieldRef, ip.Child("fieldRef"))...)
			}
		}
	case v.PersistentVolumeClaim != nil:
		if v.PersistentVolumeClaim.ClaimName == "" {
			errs = append(errs, field.Required(p.Child("persistentVolumeClaim", "claimName"), ""))
		}
	case v.Projected != nil:
		errs = append(errs, validateFileMode(v.Projected.DefaultMode, p.Child("projected", "defaultMode"))...)
	}
	return errs
}

// validateFileMode checks a file mode is within 0..0777.
func validateFileMode(mode *int32, p *field.Path) field.ErrorList {
	if mode != nil && (*mode < 0 || *mode > 0o777) {
		return field.ErrorList{field.Invalid(p, *mode, "must be a number between 0 and 0777 (octal), both inclusive")}
	}
	return nil
}

func validateKeyToPaths(items []corev1.KeyToPath, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, it := range items {
		ip := p.Index(i)
		if it.Key == "" {
			errs = append(errs, field.Required(ip.Child("key"), ""))
		}
		errs = append(errs, validateRelativePath(it.Path, ip.Child("path"))...)
		errs = append(errs, validateFileMode(it.Mode, ip.Child("mode"))...)
	}
	return errs
}

// validateRelativePath requires a relative path that does not climb out
// with "..".
func validateRelativePath(pth string, p *field.Path) field.ErrorList {
	switch {
	case pth == "":
		return field.ErrorList{field.Required(p, "")}
	case filepath.IsAbs(pth):
		return field.ErrorList{field.Invalid(p, pth, "must be a relative path")}
	}
	for _, part := range strings.Split(filepath.ToSlash(pth), "/") {
		if part == ".." {
			return field.ErrorList{field.Invalid(p, pth, "must not contain '..'")}
		}
	}
	return nil
}

func validateVolumeMounts(mounts []corev1.VolumeMount, volumes sets.Set[string], p *field.Path) field.ErrorList {
	var errs field.ErrorList
	paths := sets.New[string]()
	for i, m := range mounts {
		mp := p.Index(i)
		if m.Name == "" {
			errs = append(errs, field.Required(mp.Child("name"), ""))
		} else if !volumes.Has(m.Name) {
			errs = append(errs, field.NotFound(mp.Child("name"), m.Name))
		}
		if m.MountPath == "" {
			errs = append(errs, field.Required(mp.Child("mountPath"), ""))
		} else if paths.Has(m.MountPath) {
			errs = append(errs, field.Invalid(mp.Child("mountPath"), m.MountPath, "must be unique"))
		}
		paths.Insert(m.MountPath)
		if m.SubPath != "" {
			errs = append(errs, validateRelativePath(m.SubPath, mp.Child("subPath"))...)
		}
		if m.SubPath != "" && m.SubPathExpr != "" {
			errs = append(errs, field.Invalid(mp.Child("subPathExpr"), m.SubPathExpr, "subPathExpr and subPath are mutually exclusive"))
		}
		if m.MountPropagation != nil {
			errs = append(errs, validateOptionalEnum(*m.MountPropagation, []corev1.MountPropagationMode{corev1.MountPropagationNone,
				corev1.MountPropagationHostToContainer, corev1.MountPropagationBidirectional}, mp.Child("mountPropagation"))...)
		}
	}
	return errs
}
