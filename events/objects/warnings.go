package objects

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

// Strom keeps every field of a manifest, but not every field changes what
// Strom does yet. Warnings name each field an object sets that nothing in
// Strom acts on, so a user never believes in a setting that has no
// effect. The tables below are the single place that says what is not
// acted on: when a feature lands, delete its row.
//
// Rules look only at what a user can set: a field that defaulting fills
// (the pod's empty securityContext, a service's ipFamilies [IPv4]) warns
// only when it holds something other than the default Strom honours.

// notActedOnKinds are kinds whose objects are stored, listed and served,
// but that no Strom controller reconciles yet. Each gets one warning
// instead of one per field.
var notActedOnKinds = []string{
	"PersistentVolume",
	"PersistentVolumeClaim",
	"Ingress",
	"ServiceAccount",
	"Role",
	"RoleBinding",
	"ClusterRole",
	"ClusterRoleBinding",
	"HorizontalPodAutoscaler",
	"PodDisruptionBudget", // no eviction API uses it yet
	"ResourceQuota",
	"LimitRange",
	"PodTemplate",
	"ControllerRevision",
	"IngressClass",
	"NetworkPolicy",
	"ServiceCIDR", // ClusterIPs come from --service-cidr (events/alloc)
	"IPAddress",   // the allocator's claims are STROM_ALLOC keys
	"StorageClass",
	"VolumeAttributesClass",
	"VolumeAttachment",
	"CSIDriver",
	"CSINode",
	"CSIStorageCapacity",
	"PriorityClass",
	"RuntimeClass",
	"CertificateSigningRequest",
	"ClusterTrustBundle",
	"PodCertificateRequest",
	"MutatingWebhookConfiguration",
	"ValidatingWebhookConfiguration",
	"ValidatingAdmissionPolicy",
	"ValidatingAdmissionPolicyBinding",
	"MutatingAdmissionPolicy",
	"MutatingAdmissionPolicyBinding",
	"FlowSchema",
	"PriorityLevelConfiguration",
	"DeviceClass",
	"ResourceClaim",
	"ResourceClaimTemplate",
	"ResourceSlice",
	"DeviceTaintRule",
	"StorageVersionMigration",
	"CustomResourceDefinition", // no custom resource is served
	"APIService",               // no API server is aggregated
	// Not here, though no controller reconciles them: Lease, whose use is
	// the API's compare-and-swap on it (clients' leader election), which
	// Strom serves; and EndpointSlice, which the endpointslice controller
	// writes (a slice it does not manage warns: endpointSliceWarnings).
}

const notActedOn = "stored but not acted on by Strom yet"

// fieldRule is one field that is stored but not acted on. path is relative
// to the struct the rule reads (a pod spec, a container, a service spec).
type fieldRule[T any] struct {
	path string
	set  func(T) bool
}

// actedOnPodSpecFields are the pod spec fields Strom honours. A field
// acted on only in part (affinity, schedulerName, securityContext) is here
// and has rows in podSpecRules for the parts that are not. A test checks
// that every PodSpec field is in one list or the other, so a field added
// by a k8s.io/api upgrade cannot go unnoticed.
var actedOnPodSpecFields = []string{
	"containers", "initContainers", "volumes", "restartPolicy", "terminationGracePeriodSeconds",
	"dnsPolicy", "nodeSelector", "nodeName", "tolerations", "hostname", "subdomain",
	"imagePullSecrets", "serviceAccountName", "serviceAccount", "enableServiceLinks",
	"affinity",        // nodeAffinity; podAntiAffinity required on kubernetes.io/hostname
	"schedulerName",   // default-scheduler only
	"securityContext", // nothing in it yet: each field has a row below
}

// podSpecRules: pod spec fields, or parts of them, Strom does not act on.
var podSpecRules = []fieldRule[*corev1.PodSpec]{
	{"affinity.podAffinity", func(s *corev1.PodSpec) bool { return s.Affinity != nil && s.Affinity.PodAffinity != nil }},
	{"affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution", func(s *corev1.PodSpec) bool {
		return len(podAntiPreferred(antiAffinity(s))) > 0
	}},
	{"affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution (topologyKey other than kubernetes.io/hostname, or other namespaces)", func(s *corev1.PodSpec) bool {
		for _, t := range podAntiRequired(antiAffinity(s)) {
			if t.TopologyKey != corev1.LabelHostname || len(t.Namespaces) > 0 || t.NamespaceSelector != nil ||
				len(t.MatchLabelKeys) > 0 || len(t.MismatchLabelKeys) > 0 {
				return true
			}
		}
		return false
	}},
	{"topologySpreadConstraints", func(s *corev1.PodSpec) bool { return len(s.TopologySpreadConstraints) > 0 }},
	{"hostNetwork", func(s *corev1.PodSpec) bool { return s.HostNetwork }},
	{"hostPID", func(s *corev1.PodSpec) bool { return s.HostPID }},
	{"hostIPC", func(s *corev1.PodSpec) bool { return s.HostIPC }},
	{"hostUsers", func(s *corev1.PodSpec) bool { return s.HostUsers != nil }},
	{"shareProcessNamespace", func(s *corev1.PodSpec) bool { return s.ShareProcessNamespace != nil && *s.ShareProcessNamespace }},
	{"priorityClassName", func(s *corev1.PodSpec) bool { return s.PriorityClassName != "" }},
	{"priority", func(s *corev1.PodSpec) bool { return s.Priority != nil }},
	{"preemptionPolicy", func(s *corev1.PodSpec) bool { return s.PreemptionPolicy != nil }},
	{"runtimeClassName", func(s *corev1.PodSpec) bool { return s.RuntimeClassName != nil }},
	{"overhead", func(s *corev1.PodSpec) bool { return len(s.Overhead) > 0 }},
	{"activeDeadlineSeconds", func(s *corev1.PodSpec) bool { return s.ActiveDeadlineSeconds != nil }},
	{"dnsConfig", func(s *corev1.PodSpec) bool { return s.DNSConfig != nil }},
	{"hostAliases", func(s *corev1.PodSpec) bool { return len(s.HostAliases) > 0 }},
	{"setHostnameAsFQDN", func(s *corev1.PodSpec) bool { return s.SetHostnameAsFQDN != nil && *s.SetHostnameAsFQDN }},
	{"readinessGates", func(s *corev1.PodSpec) bool { return len(s.ReadinessGates) > 0 }},
	{"automountServiceAccountToken", func(s *corev1.PodSpec) bool { return s.AutomountServiceAccountToken != nil }},
	{"schedulerName", func(s *corev1.PodSpec) bool {
		return s.SchedulerName != "" && s.SchedulerName != corev1.DefaultSchedulerName
	}},
	{"schedulingGates", func(s *corev1.PodSpec) bool { return len(s.SchedulingGates) > 0 }},
	{"os", func(s *corev1.PodSpec) bool { return s.OS != nil }},
	{"resources", func(s *corev1.PodSpec) bool { return s.Resources != nil }},
	{"resourceClaims", func(s *corev1.PodSpec) bool { return len(s.ResourceClaims) > 0 }},
	{"ephemeralContainers", func(s *corev1.PodSpec) bool { return len(s.EphemeralContainers) > 0 }},
	{"hostnameOverride", func(s *corev1.PodSpec) bool { return s.HostnameOverride != nil }},
	{"schedulingGroup", func(s *corev1.PodSpec) bool { return s.SchedulingGroup != nil }},
	{"evictionResponders", func(s *corev1.PodSpec) bool { return len(s.EvictionResponders) > 0 }},
	{"securityContext.runAsUser", func(s *corev1.PodSpec) bool { return psc(s).RunAsUser != nil }},
	{"securityContext.runAsGroup", func(s *corev1.PodSpec) bool { return psc(s).RunAsGroup != nil }},
	{"securityContext.runAsNonRoot", func(s *corev1.PodSpec) bool { return psc(s).RunAsNonRoot != nil }},
	{"securityContext.fsGroup", func(s *corev1.PodSpec) bool { return psc(s).FSGroup != nil }},
	{"securityContext.fsGroupChangePolicy", func(s *corev1.PodSpec) bool { return psc(s).FSGroupChangePolicy != nil }},
	{"securityContext.supplementalGroups", func(s *corev1.PodSpec) bool { return len(psc(s).SupplementalGroups) > 0 }},
	{"securityContext.supplementalGroupsPolicy", func(s *corev1.PodSpec) bool { return psc(s).SupplementalGroupsPolicy != nil }},
	{"securityContext.sysctls", func(s *corev1.PodSpec) bool { return len(psc(s).Sysctls) > 0 }},
	{"securityContext.seLinuxOptions", func(s *corev1.PodSpec) bool { return psc(s).SELinuxOptions != nil }},
	{"securityContext.seLinuxChangePolicy", func(s *corev1.PodSpec) bool { return psc(s).SELinuxChangePolicy != nil }},
	{"securityContext.seccompProfile", func(s *corev1.PodSpec) bool { return psc(s).SeccompProfile != nil }},
	{"securityContext.appArmorProfile", func(s *corev1.PodSpec) bool { return psc(s).AppArmorProfile != nil }},
	{"securityContext.windowsOptions", func(s *corev1.PodSpec) bool { return psc(s).WindowsOptions != nil }},
}

// actedOnContainerFields are the container fields Strom honours, for
// init and app containers alike (volumeMounts except the parts with rows
// in containerRules; resources except claims).
var actedOnContainerFields = []string{
	"name", "image", "imagePullPolicy", "command", "args", "workingDir", "env", "envFrom",
	"ports", "resources", "livenessProbe", "readinessProbe", "startupProbe", "lifecycle",
	"volumeMounts", "terminationMessagePath", "terminationMessagePolicy",
}

// containerRules: container fields, or parts of them, Strom does not act on.
var containerRules = []fieldRule[*corev1.Container]{
	{"securityContext.privileged", func(c *corev1.Container) bool { return csc(c).Privileged != nil }},
	{"securityContext.runAsUser", func(c *corev1.Container) bool { return csc(c).RunAsUser != nil }},
	{"securityContext.runAsGroup", func(c *corev1.Container) bool { return csc(c).RunAsGroup != nil }},
	{"securityContext.runAsNonRoot", func(c *corev1.Container) bool { return csc(c).RunAsNonRoot != nil }},
	{"securityContext.readOnlyRootFilesystem", func(c *corev1.Container) bool { return csc(c).ReadOnlyRootFilesystem != nil }},
	{"securityContext.allowPrivilegeEscalation", func(c *corev1.Container) bool { return csc(c).AllowPrivilegeEscalation != nil }},
	{"securityContext.capabilities", func(c *corev1.Container) bool { return csc(c).Capabilities != nil }},
	{"securityContext.seLinuxOptions", func(c *corev1.Container) bool { return csc(c).SELinuxOptions != nil }},
	{"securityContext.seccompProfile", func(c *corev1.Container) bool { return csc(c).SeccompProfile != nil }},
	{"securityContext.appArmorProfile", func(c *corev1.Container) bool { return csc(c).AppArmorProfile != nil }},
	{"securityContext.procMount", func(c *corev1.Container) bool { return csc(c).ProcMount != nil }},
	{"securityContext.windowsOptions", func(c *corev1.Container) bool { return csc(c).WindowsOptions != nil }},
	{"restartPolicy", func(c *corev1.Container) bool { return c.RestartPolicy != nil }},
	{"restartPolicyRules", func(c *corev1.Container) bool { return len(c.RestartPolicyRules) > 0 }},
	{"resizePolicy", func(c *corev1.Container) bool { return len(c.ResizePolicy) > 0 }},
	{"resources.claims", func(c *corev1.Container) bool { return len(c.Resources.Claims) > 0 }},
	{"lifecycle.stopSignal", func(c *corev1.Container) bool { return c.Lifecycle != nil && c.Lifecycle.StopSignal != nil }},
	{"volumeDevices", func(c *corev1.Container) bool { return len(c.VolumeDevices) > 0 }},
	{"stdin", func(c *corev1.Container) bool { return c.Stdin }},
	{"stdinOnce", func(c *corev1.Container) bool { return c.StdinOnce }},
	{"tty", func(c *corev1.Container) bool { return c.TTY }},
	{"volumeMounts[*].mountPropagation", func(c *corev1.Container) bool {
		return anyMount(c, func(m corev1.VolumeMount) bool { return m.MountPropagation != nil })
	}},
	{"volumeMounts[*].subPathExpr", func(c *corev1.Container) bool {
		return anyMount(c, func(m corev1.VolumeMount) bool { return m.SubPathExpr != "" })
	}},
	{"volumeMounts[*].recursiveReadOnly", func(c *corev1.Container) bool {
		return anyMount(c, func(m corev1.VolumeMount) bool { return m.RecursiveReadOnly != nil })
	}},
}

// volumeSourceActedOn: the volume sources the node agent mounts. Any other
// source (persistentVolumeClaim, projected, ephemeral, nfs, ...) warns.
var volumeSourceActedOn = map[string]bool{
	"emptyDir": true, "hostPath": true, "configMap": true, "secret": true, "downwardAPI": true,
}

// actedOnServiceSpecFields are the service spec fields the proxy, DNS and
// allocators honour; the defaults Strom fills itself (traffic policies
// Cluster, SingleStack IPv4) are acted on too.
var actedOnServiceSpecFields = []string{
	"type", "ports", "selector", "clusterIP", "clusterIPs", "externalIPs", "externalName",
	"sessionAffinity", "sessionAffinityConfig", "publishNotReadyAddresses",
	"externalTrafficPolicy", "internalTrafficPolicy", "ipFamilies", "ipFamilyPolicy",
	"allocateLoadBalancerNodePorts",
}

// serviceRules: service spec fields, or values of them, not acted on.
var serviceRules = []fieldRule[*corev1.ServiceSpec]{
	{"externalTrafficPolicy", func(s *corev1.ServiceSpec) bool {
		return s.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal
	}},
	{"internalTrafficPolicy", func(s *corev1.ServiceSpec) bool {
		return s.InternalTrafficPolicy != nil && *s.InternalTrafficPolicy == corev1.ServiceInternalTrafficPolicyLocal
	}},
	{"healthCheckNodePort", func(s *corev1.ServiceSpec) bool { return s.HealthCheckNodePort != 0 }},
	{"loadBalancerIP", func(s *corev1.ServiceSpec) bool { return s.LoadBalancerIP != "" }},
	{"loadBalancerSourceRanges", func(s *corev1.ServiceSpec) bool { return len(s.LoadBalancerSourceRanges) > 0 }},
	{"loadBalancerClass", func(s *corev1.ServiceSpec) bool { return s.LoadBalancerClass != nil }},
	{"allocateLoadBalancerNodePorts", func(s *corev1.ServiceSpec) bool {
		return s.AllocateLoadBalancerNodePorts != nil && !*s.AllocateLoadBalancerNodePorts
	}},
	{"trafficDistribution", func(s *corev1.ServiceSpec) bool { return s.TrafficDistribution != nil }},
	{"ipFamilyPolicy", func(s *corev1.ServiceSpec) bool {
		return s.IPFamilyPolicy != nil && *s.IPFamilyPolicy != corev1.IPFamilyPolicySingleStack
	}},
	{"ipFamilies", func(s *corev1.ServiceSpec) bool {
		for _, f := range s.IPFamilies {
			if f != corev1.IPv4Protocol {
				return true
			}
		}
		return false
	}},
	{"ports[*].appProtocol", func(s *corev1.ServiceSpec) bool {
		for _, p := range s.Ports {
			if p.AppProtocol != nil {
				return true
			}
		}
		return false
	}},
}

func psc(s *corev1.PodSpec) *corev1.PodSecurityContext {
	if s.SecurityContext == nil {
		return &corev1.PodSecurityContext{}
	}
	return s.SecurityContext
}

func csc(c *corev1.Container) *corev1.SecurityContext {
	if c.SecurityContext == nil {
		return &corev1.SecurityContext{}
	}
	return c.SecurityContext
}

func antiAffinity(s *corev1.PodSpec) *corev1.PodAntiAffinity {
	if s.Affinity == nil {
		return nil
	}
	return s.Affinity.PodAntiAffinity
}

func anyMount(c *corev1.Container, f func(corev1.VolumeMount) bool) bool {
	for _, m := range c.VolumeMounts {
		if f(m) {
			return true
		}
	}
	return false
}

func warningsFor(obj Object) []string {
	k, err := KindOf(obj)
	if err != nil {
		return nil
	}
	for _, name := range notActedOnKinds {
		if name == k.Kind {
			return []string{fmt.Sprintf("%s objects are %s", k.Kind, notActedOn)}
		}
	}
	switch o := obj.(type) {
	case *discoveryv1.EndpointSlice:
		return endpointSliceWarnings(o)
	case *corev1.Pod:
		return podSpecWarnings(&o.Spec, "spec")
	case *appsv1.ReplicaSet:
		return podSpecWarnings(&o.Spec.Template.Spec, "spec.template.spec")
	case *appsv1.Deployment:
		return podSpecWarnings(&o.Spec.Template.Spec, "spec.template.spec")
	case *appsv1.DaemonSet:
		return podSpecWarnings(&o.Spec.Template.Spec, "spec.template.spec")
	case *corev1.Service:
		return applyRules(serviceRules, &o.Spec, "spec", nil)
	}
	return nil
}

func applyRules[T any](rules []fieldRule[T], v T, prefix string, out []string) []string {
	for _, r := range rules {
		if r.set(v) {
			out = append(out, fmt.Sprintf("%s.%s: %s", prefix, r.path, notActedOn))
		}
	}
	return out
}

func podSpecWarnings(s *corev1.PodSpec, prefix string) []string {
	out := applyRules(podSpecRules, s, prefix, nil)
	for i := range s.InitContainers {
		out = applyRules(containerRules, &s.InitContainers[i], fmt.Sprintf("%s.initContainers[%d]", prefix, i), out)
	}
	for i := range s.Containers {
		out = applyRules(containerRules, &s.Containers[i], fmt.Sprintf("%s.containers[%d]", prefix, i), out)
	}
	for i := range s.Volumes {
		for _, src := range volumeSources(&s.Volumes[i].VolumeSource) {
			if !volumeSourceActedOn[src] {
				out = append(out, fmt.Sprintf("%s.volumes[%d].%s: %s", prefix, i, src, notActedOn))
			}
		}
	}
	return out
}

// EndpointSliceController is the managed-by label value of the slices the
// endpointslice controller writes, kube-controller-manager's own.
const EndpointSliceController = "endpointslice-controller.k8s.io"

// endpointSliceWarnings: Strom's service proxy and DNS read Endpoints, so
// a slice nothing manages (one a user writes for a selector-less
// Service) changes nothing. The controller's own slices are reconciled.
func endpointSliceWarnings(s *discoveryv1.EndpointSlice) []string {
	if s.Labels[discoveryv1.LabelManagedBy] == EndpointSliceController {
		return nil
	}
	return []string{fmt.Sprintf("EndpointSlice objects not managed by %s are %s (the service proxy and DNS read Endpoints)",
		EndpointSliceController, notActedOn)}
}
