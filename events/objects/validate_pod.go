package objects

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var (
	restartPolicies = []corev1.RestartPolicy{corev1.RestartPolicyAlways, corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever}
	dnsPolicies     = []corev1.DNSPolicy{corev1.DNSClusterFirstWithHostNet, corev1.DNSClusterFirst, corev1.DNSDefault, corev1.DNSNone}
	pullPolicies    = []corev1.PullPolicy{corev1.PullAlways, corev1.PullIfNotPresent, corev1.PullNever}
	protocols       = []corev1.Protocol{corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP}
	uriSchemes      = []corev1.URIScheme{corev1.URISchemeHTTP, corev1.URISchemeHTTPS}
	taintEffects    = []corev1.TaintEffect{corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute}
	termMsgPolicies = []corev1.TerminationMessagePolicy{corev1.TerminationMessageReadFile, corev1.TerminationMessageFallbackToLogsOnError}
	nodeSelectorOps = []corev1.NodeSelectorOperator{corev1.NodeSelectorOpIn, corev1.NodeSelectorOpNotIn, corev1.NodeSelectorOpExists,
		corev1.NodeSelectorOpDoesNotExist, corev1.NodeSelectorOpGt, corev1.NodeSelectorOpLt}
	unsatisfiableActions = []corev1.UnsatisfiableConstraintAction{corev1.DoNotSchedule, corev1.ScheduleAnyway}
)

// fieldPaths the downward API may expose, in env (fieldRef) and volumes.
var downwardFieldPaths = sets.New("metadata.name", "metadata.namespace", "metadata.uid",
	"metadata.labels", "metadata.annotations", "spec.nodeName", "spec.serviceAccountName",
	"status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs")

// validatePodSpec checks a pod's spec; p is "spec" for a Pod and
// "spec.template.spec" for workloads.
// Containers may also mount extraVolumes: a StatefulSet's claim templates.
func validatePodSpec(s *corev1.PodSpec, p *field.Path, extraVolumes ...string) field.ErrorList {
	volumes, errs := validateVolumes(s.Volumes, p.Child("volumes"))
	volumes.Insert(extraVolumes...)
	if len(s.Containers) == 0 {
		errs = append(errs, field.Required(p.Child("containers"), ""))
	}
	names := sets.New[string]()
	for i := range s.InitContainers {
		errs = append(errs, validateContainer(&s.InitContainers[i], true, s.HostNetwork, volumes, names, p.Child("initContainers").Index(i))...)
	}
	for i := range s.Containers {
		errs = append(errs, validateContainer(&s.Containers[i], false, s.HostNetwork, volumes, names, p.Child("containers").Index(i))...)
	}
	errs = append(errs, validateUniqueHostPorts(s.Containers, p.Child("containers"))...)
	errs = append(errs, validateEnum(s.RestartPolicy, restartPolicies, p.Child("restartPolicy"))...)
	errs = append(errs, validateEnum(s.DNSPolicy, dnsPolicies, p.Child("dnsPolicy"))...)
	if s.DNSPolicy == corev1.DNSNone && s.DNSConfig == nil {
		errs = append(errs, field.Required(p.Child("dnsConfig"), "must provide `dnsConfig` when `dnsPolicy` is None"))
	}
	if s.DNSConfig != nil {
		for i, ns := range s.DNSConfig.Nameservers {
			errs = append(errs, validateIP(ns, p.Child("dnsConfig", "nameservers").Index(i))...)
		}
	}
	errs = append(errs, nonNegativePtr64(s.TerminationGracePeriodSeconds, p.Child("terminationGracePeriodSeconds"))...)
	if a := s.ActiveDeadlineSeconds; a != nil && (*a < 1 || *a > 1<<31-1) {
		errs = append(errs, field.Invalid(p.Child("activeDeadlineSeconds"), *a, validation.InclusiveRangeError(1, 1<<31-1)))
	}
	errs = append(errs, metavalidation.ValidateLabels(s.NodeSelector, p.Child("nodeSelector"))...)
	if s.NodeName != "" {
		errs = append(errs, validateDNSSubdomain(s.NodeName, p.Child("nodeName"))...)
	}
	if s.ServiceAccountName != "" {
		errs = append(errs, msgErrs(p.Child("serviceAccountName"), s.ServiceAccountName, apivalidation.ValidateServiceAccountName(s.ServiceAccountName, false))...)
	}
	if s.SchedulerName != "" {
		errs = append(errs, validateDNSSubdomain(s.SchedulerName, p.Child("schedulerName"))...)
	}
	if s.Hostname != "" {
		errs = append(errs, validateDNSLabel(s.Hostname, p.Child("hostname"))...)
	}
	if s.Subdomain != "" {
		errs = append(errs, validateDNSLabel(s.Subdomain, p.Child("subdomain"))...)
	}
	for i, ref := range s.ImagePullSecrets {
		if ref.Name == "" {
			errs = append(errs, field.Required(p.Child("imagePullSecrets").Index(i).Child("name"), ""))
		}
	}
	for i := range s.Tolerations {
		errs = append(errs, validateToleration(&s.Tolerations[i], p.Child("tolerations").Index(i))...)
	}
	errs = append(errs, validateAffinity(s.Affinity, p.Child("affinity"))...)
	for i := range s.TopologySpreadConstraints {
		errs = append(errs, validateSpreadConstraint(&s.TopologySpreadConstraints[i], p.Child("topologySpreadConstraints").Index(i))...)
	}
	errs = append(errs, validatePodSecurityContext(s.SecurityContext, p.Child("securityContext"))...)
	return errs
}

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

func validateContainer(c *corev1.Container, isInit, hostNetwork bool, volumes, names sets.Set[string], p *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch {
	case c.Name == "":
		errs = append(errs, field.Required(p.Child("name"), ""))
	case names.Has(c.Name):
		errs = append(errs, field.Duplicate(p.Child("name"), c.Name))
	default:
		errs = append(errs, validateDNSLabel(c.Name, p.Child("name"))...)
	}
	names.Insert(c.Name)
	if strings.TrimSpace(c.Image) == "" {
		errs = append(errs, field.Required(p.Child("image"), ""))
	} else if c.Image != strings.TrimSpace(c.Image) {
		errs = append(errs, field.Invalid(p.Child("image"), c.Image, "must not have leading or trailing whitespace"))
	}
	errs = append(errs, validateEnum(c.ImagePullPolicy, pullPolicies, p.Child("imagePullPolicy"))...)
	errs = append(errs, validateOptionalEnum(c.TerminationMessagePolicy, termMsgPolicies, p.Child("terminationMessagePolicy"))...)
	errs = append(errs, validateContainerPorts(c.Ports, hostNetwork, p.Child("ports"))...)
	errs = append(errs, validateEnv(c.Env, p.Child("env"))...)
	errs = append(errs, validateEnvFrom(c.EnvFrom, p.Child("envFrom"))...)
	errs = append(errs, validateVolumeMounts(c.VolumeMounts, volumes, p.Child("volumeMounts"))...)
	errs = append(errs, validateResources(&c.Resources, p.Child("resources"))...)
	sidecar := isInit && c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
	if c.RestartPolicy != nil {
		if !isInit {
			errs = append(errs, field.Forbidden(p.Child("restartPolicy"), "may not be set for non-init containers"))
		} else if *c.RestartPolicy != corev1.ContainerRestartPolicyAlways {
			errs = append(errs, field.NotSupported(p.Child("restartPolicy"), *c.RestartPolicy, []corev1.ContainerRestartPolicy{corev1.ContainerRestartPolicyAlways}))
		}
	}
	probes := []struct {
		name  string
		probe *corev1.Probe
	}{{"livenessProbe", c.LivenessProbe}, {"readinessProbe", c.ReadinessProbe}, {"startupProbe", c.StartupProbe}}
	for _, pr := range probes {
		if pr.probe == nil {
			continue
		}
		pp := p.Child(pr.name)
		if isInit && !sidecar {
			errs = append(errs, field.Forbidden(pp, "may not be set for init containers without restartPolicy=Always"))
			continue
		}
		errs = append(errs, validateProbe(pr.probe, pr.name != "readinessProbe", pp)...)
	}
	if c.Lifecycle != nil {
		if isInit && !sidecar {
			errs = append(errs, field.Forbidden(p.Child("lifecycle"), "may not be set for init containers without restartPolicy=Always"))
		} else {
			errs = append(errs, validateLifecycleHandler(c.Lifecycle.PostStart, p.Child("lifecycle", "postStart"))...)
			errs = append(errs, validateLifecycleHandler(c.Lifecycle.PreStop, p.Child("lifecycle", "preStop"))...)
		}
	}
	errs = append(errs, validateSecurityContext(c.SecurityContext, p.Child("securityContext"))...)
	return errs
}

func validateContainerPorts(ports []corev1.ContainerPort, hostNetwork bool, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	names := sets.New[string]()
	for i, port := range ports {
		pp := p.Index(i)
		if port.Name != "" {
			errs = append(errs, msgErrs(pp.Child("name"), port.Name, validation.IsValidPortName(port.Name))...)
			if names.Has(port.Name) {
				errs = append(errs, field.Duplicate(pp.Child("name"), port.Name))
			}
			names.Insert(port.Name)
		}
		if port.ContainerPort == 0 {
			errs = append(errs, field.Required(pp.Child("containerPort"), ""))
		} else {
			errs = append(errs, msgErrs(pp.Child("containerPort"), port.ContainerPort, validation.IsValidPortNum(int(port.ContainerPort)))...)
		}
		if port.HostPort != 0 {
			errs = append(errs, msgErrs(pp.Child("hostPort"), port.HostPort, validation.IsValidPortNum(int(port.HostPort)))...)
			if hostNetwork && port.HostPort != port.ContainerPort {
				errs = append(errs, field.Invalid(pp.Child("containerPort"), port.ContainerPort, "must match `hostPort` when `hostNetwork` is true"))
			}
		}
		errs = append(errs, validateEnum(port.Protocol, protocols, pp.Child("protocol"))...)
		if port.HostIP != "" {
			errs = append(errs, validateIP(port.HostIP, pp.Child("hostIP"))...)
		}
	}
	return errs
}

// validateUniqueHostPorts: two containers of a pod cannot bind the same
// host port, protocol and host IP.
func validateUniqueHostPorts(cs []corev1.Container, p *field.Path) field.ErrorList {
	type key struct {
		ip       string
		port     int32
		protocol corev1.Protocol
	}
	var errs field.ErrorList
	seen := map[key]bool{}
	for i := range cs {
		for j, port := range cs[i].Ports {
			if port.HostPort == 0 {
				continue
			}
			k := key{port.HostIP, port.HostPort, port.Protocol}
			if seen[k] {
				errs = append(errs, field.Duplicate(p.Index(i).Child("ports").Index(j).Child("hostPort"),
					fmt.Sprintf("%s/%s:%d", port.Protocol, port.HostIP, port.HostPort)))
			}
			seen[k] = true
		}
	}
	return errs
}

func validateEnv(env []corev1.EnvVar, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, ev := range env {
		ep := p.Index(i)
		if ev.Name == "" {
			errs = append(errs, field.Required(ep.Child("name"), ""))
		} else {
			errs = append(errs, msgErrs(ep.Child("name"), ev.Name, validation.IsRelaxedEnvVarName(ev.Name))...)
		}
		if ev.ValueFrom != nil {
			errs = append(errs, validateEnvVarSource(ev.ValueFrom, ev.Value != "", ep.Child("valueFrom"))...)
		}
	}
	return errs
}

func validateEnvVarSource(s *corev1.EnvVarSource, hasValue bool, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	n := 0
	if s.FieldRef != nil {
		n++
		errs = append(errs, validateFieldRef(s.FieldRef, p.Child("fieldRef"))...)
	}
	if s.ResourceFieldRef != nil {
		n++
		if s.ResourceFieldRef.Resource == "" {
			errs = append(errs, field.Required(p.Child("resourceFieldRef", "resource"), ""))
		}
	}
	if s.ConfigMapKeyRef != nil {
		n++
		errs = append(errs, validateKeySelector(s.ConfigMapKeyRef.Name, s.ConfigMapKeyRef.Key, p.Child("configMapKeyRef"))...)
	}
	if s.SecretKeyRef != nil {
		n++
		errs = append(errs, validateKeySelector(s.SecretKeyRef.Name, s.SecretKeyRef.Key, p.Child("secretKeyRef"))...)
	}
	if s.FileKeyRef != nil {
		n++
	}
	switch {
	case n == 0:
		errs = append(errs, field.Invalid(p, "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef`, `secretKeyRef` or `fileKeyRef`"))
	case n > 1:
		errs = append(errs, field.Invalid(p, "", "may not have more than one field specified at a time"))
	}
	if hasValue {
		errs = append(errs, field.Invalid(p, "", "may not be specified when `value` is not empty"))
	}
	return errs
}

func validateKeySelector(name, key string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if name == "" {
		errs = append(errs, field.Required(p.Child("name"), ""))
	}
	if key == "" {
		errs = append(errs, field.Required(p.Child("key"), ""))
	} else {
		errs = append(errs, msgErrs(p.Child("key"), key, validation.IsConfigMapKey(key))...)
	}
	return errs
}

// validateFieldRef checks a downward API field path; labels and
// annotations may be read whole or by key.
func validateFieldRef(f *corev1.ObjectFieldSelector, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if f.APIVersion != "" && f.APIVersion != "v1" {
		errs = append(errs, field.NotSupported(p.Child("apiVersion"), f.APIVersion, []string{"v1"}))
	}
	fp := p.Child("fieldPath")
	if f.FieldPath == "" {
		return append(errs, field.Required(fp, ""))
	}
	pth := f.FieldPath
	for _, prefix := range []string{"metadata.labels", "metadata.annotations"} {
		if strings.HasPrefix(pth, prefix+"['") && strings.HasSuffix(pth, "']") {
			key := strings.TrimSuffix(strings.TrimPrefix(pth, prefix+"['"), "']")
			return append(errs, validateQualifiedName(strings.ToLower(key), fp)...)
		}
	}
	if !downwardFieldPaths.Has(pth) {
		errs = append(errs, field.NotSupported(fp, pth, sets.List(downwardFieldPaths)))
	}
	return errs
}

func validateEnvFrom(envFrom []corev1.EnvFromSource, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, ef := range envFrom {
		ep := p.Index(i)
		if ef.Prefix != "" {
			errs = append(errs, msgErrs(ep.Child("prefix"), ef.Prefix, validation.IsRelaxedEnvVarName(ef.Prefix))...)
		}
		switch {
		case ef.ConfigMapRef != nil && ef.SecretRef != nil:
			errs = append(errs, field.Invalid(ep, "", "may not have more than one field specified at a time"))
		case ef.ConfigMapRef != nil:
			if ef.ConfigMapRef.Name == "" {
				errs = append(errs, field.Required(ep.Child("configMapRef", "name"), ""))
			}
		case ef.SecretRef != nil:
			if ef.SecretRef.Name == "" {
				errs = append(errs, field.Required(ep.Child("secretRef", "name"), ""))
			}
		default:
			errs = append(errs, field.Invalid(ep, "", "must specify one of: `configMapRef` or `secretRef`"))
		}
	}
	return errs
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

// validateResourceName accepts the standard container resources and
// extended resources, which carry a domain ("example.com/gpu").
func validateResourceName(name corev1.ResourceName, p *field.Path) field.ErrorList {
	n := string(name)
	if errs := validateQualifiedName(n, p); len(errs) > 0 {
		return errs
	}
	if strings.Contains(n, "/") {
		return nil
	}
	switch {
	case name == corev1.ResourceCPU, name == corev1.ResourceMemory, name == corev1.ResourceEphemeralStorage,
		strings.HasPrefix(n, corev1.ResourceHugePagesPrefix):
		return nil
	}
	return field.ErrorList{field.Invalid(p, n, "must be a standard resource for containers")}
}

func validateResources(r *corev1.ResourceRequirements, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for name, q := range r.Limits {
		lp := p.Child("limits").Key(string(name))
		errs = append(errs, validateResourceName(name, lp)...)
		errs = append(errs, validateNonNegativeQuantity(q, lp)...)
	}
	for name, q := range r.Requests {
		rp := p.Child("requests").Key(string(name))
		errs = append(errs, validateResourceName(name, rp)...)
		errs = append(errs, validateNonNegativeQuantity(q, rp)...)
		if limit, ok := r.Limits[name]; ok && q.Cmp(limit) > 0 {
			errs = append(errs, field.Invalid(rp, q.String(), "must be less than or equal to "+string(name)+" limit of "+limit.String()))
		}
	}
	return errs
}

// handlerTypes lists the handler fields a probe or hook sets.
func handlerTypes(exec, httpGet, tcp, grpc, sleep bool) []string {
	var out []string
	for _, h := range []struct {
		set  bool
		name string
	}{{exec, "exec"}, {httpGet, "httpGet"}, {tcp, "tcpSocket"}, {grpc, "grpc"}, {sleep, "sleep"}} {
		if h.set {
			out = append(out, h.name)
		}
	}
	return out
}

func validateProbe(pr *corev1.Probe, successMustBeOne bool, p *field.Path) field.ErrorList {
	h := &pr.ProbeHandler
	types := handlerTypes(h.Exec != nil, h.HTTPGet != nil, h.TCPSocket != nil, h.GRPC != nil, false)
	var errs field.ErrorList
	switch len(types) {
	case 0:
		errs = append(errs, field.Required(p, "must specify a handler type"))
	case 1:
		errs = append(errs, validateHandler(h.Exec, h.HTTPGet, h.TCPSocket, p)...)
		if h.GRPC != nil {
			errs = append(errs, msgErrs(p.Child("grpc", "port"), h.GRPC.Port, validation.IsValidPortNum(int(h.GRPC.Port)))...)
		}
	default:
		errs = append(errs, field.Forbidden(p.Child(types[1]), "may not specify more than 1 handler type"))
	}
	errs = append(errs, nonNegative32(pr.InitialDelaySeconds, p.Child("initialDelaySeconds"))...)
	errs = append(errs, nonNegative32(pr.TimeoutSeconds, p.Child("timeoutSeconds"))...)
	errs = append(errs, nonNegative32(pr.PeriodSeconds, p.Child("periodSeconds"))...)
	errs = append(errs, nonNegative32(pr.SuccessThreshold, p.Child("successThreshold"))...)
	errs = append(errs, nonNegative32(pr.FailureThreshold, p.Child("failureThreshold"))...)
	errs = append(errs, nonNegativePtr64(pr.TerminationGracePeriodSeconds, p.Child("terminationGracePeriodSeconds"))...)
	if successMustBeOne && pr.SuccessThreshold > 1 {
		errs = append(errs, field.Invalid(p.Child("successThreshold"), pr.SuccessThreshold, "must be 1"))
	}
	return errs
}

func validateLifecycleHandler(h *corev1.LifecycleHandler, p *field.Path) field.ErrorList {
	if h == nil {
		return nil
	}
	types := handlerTypes(h.Exec != nil, h.HTTPGet != nil, h.TCPSocket != nil, false, h.Sleep != nil)
	switch len(types) {
	case 0:
		return field.ErrorList{field.Required(p, "must specify a handler type")}
	case 1:
		errs := validateHandler(h.Exec, h.HTTPGet, h.TCPSocket, p)
		if h.Sleep != nil && h.Sleep.Seconds < 0 {
			errs = append(errs, field.Invalid(p.Child("sleep", "seconds"), h.Sleep.Seconds, apivalidation.IsNegativeErrorMsg))
		}
		return errs
	default:
		return field.ErrorList{field.Forbidden(p.Child(types[1]), "may not specify more than 1 handler type")}
	}
}

func validateHandler(exec *corev1.ExecAction, httpGet *corev1.HTTPGetAction, tcp *corev1.TCPSocketAction, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if exec != nil && len(exec.Command) == 0 {
		errs = append(errs, field.Required(p.Child("exec", "command"), ""))
	}
	if httpGet != nil {
		hp := p.Child("httpGet")
		if httpGet.Path == "" {
			errs = append(errs, field.Required(hp.Child("path"), ""))
		}
		errs = append(errs, validatePortNumOrName(httpGet.Port, hp.Child("port"))...)
		errs = append(errs, validateOptionalEnum(httpGet.Scheme, uriSchemes, hp.Child("scheme"))...)
		for i, h := range httpGet.HTTPHeaders {
			errs = append(errs, msgErrs(hp.Child("httpHeaders").Index(i).Child("name"), h.Name, validation.IsHTTPHeaderName(h.Name))...)
		}
	}
	if tcp != nil {
		errs = append(errs, validatePortNumOrName(tcp.Port, p.Child("tcpSocket", "port"))...)
	}
	return errs
}

func validateToleration(t *corev1.Toleration, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if t.Key != "" {
		errs = append(errs, metavalidation.ValidateLabelName(t.Key, p.Child("key"))...)
	}
	if t.Key == "" && t.Operator != corev1.TolerationOpExists {
		errs = append(errs, field.Invalid(p.Child("operator"), t.Operator,
			"operator must be Exists when `key` is empty, which means \"match all values and all keys\""))
	}
	if t.TolerationSeconds != nil && t.Effect != corev1.TaintEffectNoExecute {
		errs = append(errs, field.Invalid(p.Child("effect"), t.Effect, "effect must be 'NoExecute' when `tolerationSeconds` is set"))
	}
	switch t.Operator {
	case corev1.TolerationOpEqual, "":
		errs = append(errs, msgErrs(p.Child("value"), t.Value, validation.IsValidLabelValue(t.Value))...)
	case corev1.TolerationOpExists:
		if t.Value != "" {
			errs = append(errs, field.Invalid(p.Child("value"), t.Value, "value must be empty when `operator` is 'Exists'"))
		}
	default:
		errs = append(errs, field.NotSupported(p.Child("operator"), t.Operator,
			[]corev1.TolerationOperator{corev1.TolerationOpEqual, corev1.TolerationOpExists}))
	}
	errs = append(errs, validateOptionalEnum(t.Effect, taintEffects, p.Child("effect"))...)
	return errs
}

func validateAffinity(a *corev1.Affinity, p *field.Path) field.ErrorList {
	if a == nil {
		return nil
	}
	var errs field.ErrorList
	if na := a.NodeAffinity; na != nil {
		np := p.Child("nodeAffinity")
		if r := na.RequiredDuringSchedulingIgnoredDuringExecution; r != nil {
			rp := np.Child("requiredDuringSchedulingIgnoredDuringExecution")
			if len(r.NodeSelectorTerms) == 0 {
				errs = append(errs, field.Required(rp.Child("nodeSelectorTerms"), "must have at least one node selector term"))
			}
			for i := range r.NodeSelectorTerms {
				errs = append(errs, validateNodeSelectorTerm(&r.NodeSelectorTerms[i], rp.Child("nodeSelectorTerms").Index(i))...)
			}
		}
		for i, pt := range na.PreferredDuringSchedulingIgnoredDuringExecution {
			pp := np.Child("preferredDuringSchedulingIgnoredDuringExecution").Index(i)
			errs = append(errs, validateWeight(pt.Weight, pp.Child("weight"))...)
			errs = append(errs, validateNodeSelectorTerm(&pt.Preference, pp.Child("preference"))...)
		}
	}
	for _, pa := range []struct {
		name     string
		required []corev1.PodAffinityTerm
		weighted []corev1.WeightedPodAffinityTerm
		set      bool
	}{
		{"podAffinity", podAffinityRequired(a.PodAffinity), podAffinityPreferred(a.PodAffinity), a.PodAffinity != nil},
		{"podAntiAffinity", podAntiRequired(a.PodAntiAffinity), podAntiPreferred(a.PodAntiAffinity), a.PodAntiAffinity != nil},
	} {
		if !pa.set {
			continue
		}
		pp := p.Child(pa.name)
		for i := range pa.required {
			errs = append(errs, validatePodAffinityTerm(&pa.required[i], pp.Child("requiredDuringSchedulingIgnoredDuringExecution").Index(i))...)
		}
		for i := range pa.weighted {
			wp := pp.Child("preferredDuringSchedulingIgnoredDuringExecution").Index(i)
			errs = append(errs, validateWeight(pa.weighted[i].Weight, wp.Child("weight"))...)
			errs = append(errs, validatePodAffinityTerm(&pa.weighted[i].PodAffinityTerm, wp.Child("podAffinityTerm"))...)
		}
	}
	return errs
}

func podAffinityRequired(a *corev1.PodAffinity) []corev1.PodAffinityTerm {
	if a == nil {
		return nil
	}
	return a.RequiredDuringSchedulingIgnoredDuringExecution
}

func podAffinityPreferred(a *corev1.PodAffinity) []corev1.WeightedPodAffinityTerm {
	if a == nil {
		return nil
	}
	return a.PreferredDuringSchedulingIgnoredDuringExecution
}

func podAntiRequired(a *corev1.PodAntiAffinity) []corev1.PodAffinityTerm {
	if a == nil {
		return nil
	}
	return a.RequiredDuringSchedulingIgnoredDuringExecution
}

func podAntiPreferred(a *corev1.PodAntiAffinity) []corev1.WeightedPodAffinityTerm {
	if a == nil {
		return nil
	}
	return a.PreferredDuringSchedulingIgnoredDuringExecution
}

func validateWeight(w int32, p *field.Path) field.ErrorList {
	if w < 1 || w > 100 {
		return field.ErrorList{field.Invalid(p, w, validation.InclusiveRangeError(1, 100))}
	}
	return nil
}

func validateNodeSelectorTerm(t *corev1.NodeSelectorTerm, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, r := range t.MatchExpressions {
		rp := p.Child("matchExpressions").Index(i)
		errs = append(errs, metavalidation.ValidateLabelName(r.Key, rp.Child("key"))...)
		errs = append(errs, validateNodeSelectorValues(r.Operator, r.Values, rp)...)
	}
	for i, r := range t.MatchFields {
		rp := p.Child("matchFields").Index(i)
		if r.Key != "metadata.name" {
			errs = append(errs, field.NotSupported(rp.Child("key"), r.Key, []string{"metadata.name"}))
		}
		if r.Operator != corev1.NodeSelectorOpIn && r.Operator != corev1.NodeSelectorOpNotIn {
			errs = append(errs, field.NotSupported(rp.Child("operator"), r.Operator, []corev1.NodeSelectorOperator{corev1.NodeSelectorOpIn, corev1.NodeSelectorOpNotIn}))
		} else if len(r.Values) != 1 {
			errs = append(errs, field.Required(rp.Child("values"), "must be only one value when `operator` is 'In' or 'NotIn' for node field selector"))
		}
	}
	return errs
}

func validateNodeSelectorValues(op corev1.NodeSelectorOperator, values []string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	vp := p.Child("values")
	switch op {
	case corev1.NodeSelectorOpIn, corev1.NodeSelectorOpNotIn:
		if len(values) == 0 {
			errs = append(errs, field.Required(vp, "must be specified when `operator` is 'In' or 'NotIn'"))
		}
	case corev1.NodeSelectorOpExists, corev1.NodeSelectorOpDoesNotExist:
		if len(values) > 0 {
			errs = append(errs, field.Forbidden(vp, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
		}
	case corev1.NodeSelectorOpGt, corev1.NodeSelectorOpLt:
		if len(values) != 1 {
			errs = append(errs, field.Required(vp, "must be specified single value when `operator` is 'Lt' or 'Gt'"))
		} else if _, err := strconv.ParseInt(values[0], 10, 64); err != nil {
			errs = append(errs, field.Invalid(vp.Index(0), values[0], "must be an integer when `operator` is 'Lt' or 'Gt'"))
		}
		return errs
	default:
		return append(errs, field.NotSupported(p.Child("operator"), op, nodeSelectorOps))
	}
	for i, v := range values {
		errs = append(errs, msgErrs(vp.Index(i), v, validation.IsValidLabelValue(v))...)
	}
	return errs
}

func validatePodAffinityTerm(t *corev1.PodAffinityTerm, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if t.TopologyKey == "" {
		errs = append(errs, field.Required(p.Child("topologyKey"), "can not be empty"))
	} else {
		errs = append(errs, metavalidation.ValidateLabelName(t.TopologyKey, p.Child("topologyKey"))...)
	}
	errs = append(errs, validateLabelSelector(t.LabelSelector, p.Child("labelSelector"))...)
	errs = append(errs, validateLabelSelector(t.NamespaceSelector, p.Child("namespaceSelector"))...)
	for i, ns := range t.Namespaces {
		errs = append(errs, validateDNSLabel(ns, p.Child("namespaces").Index(i))...)
	}
	return errs
}

func validateSpreadConstraint(c *corev1.TopologySpreadConstraint, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if c.MaxSkew <= 0 {
		errs = append(errs, field.Invalid(p.Child("maxSkew"), c.MaxSkew, "must be greater than zero"))
	}
	if c.TopologyKey == "" {
		errs = append(errs, field.Required(p.Child("topologyKey"), "can not be empty"))
	} else {
		errs = append(errs, metavalidation.ValidateLabelName(c.TopologyKey, p.Child("topologyKey"))...)
	}
	errs = append(errs, validateEnum(c.WhenUnsatisfiable, unsatisfiableActions, p.Child("whenUnsatisfiable"))...)
	errs = append(errs, validateLabelSelector(c.LabelSelector, p.Child("labelSelector"))...)
	return errs
}

func validatePodSecurityContext(sc *corev1.PodSecurityContext, p *field.Path) field.ErrorList {
	if sc == nil {
		return nil
	}
	var errs field.ErrorList
	errs = append(errs, validateUserID(sc.RunAsUser, p.Child("runAsUser"))...)
	errs = append(errs, validateGroupID(sc.RunAsGroup, p.Child("runAsGroup"))...)
	errs = append(errs, validateGroupID(sc.FSGroup, p.Child("fsGroup"))...)
	for i, g := range sc.SupplementalGroups {
		errs = append(errs, validateGroupID(&g, p.Child("supplementalGroups").Index(i))...)
	}
	return errs
}

func validateSecurityContext(sc *corev1.SecurityContext, p *field.Path) field.ErrorList {
	if sc == nil {
		return nil
	}
	var errs field.ErrorList
	errs = append(errs, validateUserID(sc.RunAsUser, p.Child("runAsUser"))...)
	errs = append(errs, validateGroupID(sc.RunAsGroup, p.Child("runAsGroup"))...)
	if sc.Privileged != nil && *sc.Privileged && sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation {
		errs = append(errs, field.Invalid(p, sc, "cannot set `allowPrivilegeEscalation` to false and `privileged` to true"))
	}
	return errs
}

func validateUserID(id *int64, p *field.Path) field.ErrorList {
	if id == nil {
		return nil
	}
	return msgErrs(p, *id, validation.IsValidUserID(*id))
}

func validateGroupID(id *int64, p *field.Path) field.ErrorList {
	if id == nil {
		return nil
	}
	return msgErrs(p, *id, validation.IsValidGroupID(*id))
}
