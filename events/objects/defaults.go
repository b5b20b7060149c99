package objects

import (
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Defaulting follows the Kubernetes API server's SetDefaults_* functions
// for the kinds Strom stores. Every rule only fills a field that is unset,
// so applying the rules twice gives the same object as applying them once.
// Allocating cluster IPs and node ports is not defaulting: the service
// allocator does it.

// defaultFileMode is the mode of files projected from ConfigMaps, Secrets
// and the downward API when the manifest gives none (0644).
const defaultFileMode int32 = 0o644

func ptrTo[T any](v T) *T { return &v }

func setIfNil[T any](p **T, v T) {
	if *p == nil {
		*p = &v
	}
}

func setIfEmpty[T ~string](p *T, v T) {
	if *p == "" {
		*p = v
	}
}

func defaultObject(obj Object) {
	switch o := obj.(type) {
	case *corev1.Namespace:
		defaultNamespace(o)
	case *corev1.Node:
		defaultNode(o)
	case *corev1.Pod:
		defaultPod(o)
	case *appsv1.ReplicaSet:
		setIfNil(&o.Spec.Replicas, 1)
		defaultPodTemplate(&o.Spec.Template)
	case *appsv1.Deployment:
		defaultDeployment(o)
	case *corev1.ReplicationController:
		defaultReplicationController(o)
	case *appsv1.DaemonSet:
		defaultDaemonSet(o)
	case *appsv1.StatefulSet:
		defaultStatefulSet(o)
	case *batchv1.Job:
		defaultJob(o)
	case *batchv1.CronJob:
		defaultCronJob(o)
	case *corev1.Service:
		defaultService(o)
	case *corev1.Endpoints:
		for i := range o.Subsets {
			for j := range o.Subsets[i].Ports {
				setIfEmpty(&o.Subsets[i].Ports[j].Protocol, corev1.ProtocolTCP)
			}
		}
	case *corev1.Secret:
		setIfEmpty(&o.Type, corev1.SecretTypeOpaque)
		mergeStringData(o)
	case *corev1.PersistentVolume:
		setIfEmpty(&o.Spec.PersistentVolumeReclaimPolicy, corev1.PersistentVolumeReclaimRetain)
		setIfNil(&o.Spec.VolumeMode, corev1.PersistentVolumeFilesystem)
		setIfEmpty(&o.Status.Phase, corev1.VolumePending)
	case *corev1.PersistentVolumeClaim:
		setIfNil(&o.Spec.VolumeMode, corev1.PersistentVolumeFilesystem)
		setIfEmpty(&o.Status.Phase, corev1.ClaimPending)
	case *rbacv1.RoleBinding:
		defaultRoleRef(&o.RoleRef)
		defaultSubjects(o.Subjects)
	case *rbacv1.ClusterRoleBinding:
		defaultRoleRef(&o.RoleRef)
		defaultSubjects(o.Subjects)
	case *autoscalingv2.HorizontalPodAutoscaler:
		defaultHPA(o)
	case *corev1.LimitRange:
		defaultLimitRange(o)
	default:
		defaultStored(obj)
	}
	// ConfigMap, Ingress, ServiceAccount, Role, ClusterRole,
	// PodDisruptionBudget, ResourceQuota and Event have no defaults.
}

// defaultNamespace adds the immutable kubernetes.io/metadata.name label
// Kubernetes puts on every namespace, so that namespace selectors can pick
// a namespace by name. The status phase and spec finalizers are left to
// the namespace lifecycle.
func defaultNamespace(ns *corev1.Namespace) {
	if ns.Name == "" {
		return
	}
	if ns.Labels == nil {
		ns.Labels = map[string]string{}
	}
	ns.Labels[corev1.LabelMetadataName] = ns.Name
}

func defaultNode(n *corev1.Node) {
	if n.Status.Allocatable == nil && n.Status.Capacity != nil {
		n.Status.Allocatable = n.Status.Capacity.DeepCopy()
	}
}

// defaultPod applies the pod-only defaults (not those of templates) and
// then the pod spec defaults.
func defaultPod(p *corev1.Pod) {
	// A container that sets limits but no requests requests its limits.
	for _, cs := range [][]corev1.Container{p.Spec.InitContainers, p.Spec.Containers} {
		for i := range cs {
			r := &cs[i].Resources
			for name, limit := range r.Limits {
				if _, ok := r.Requests[name]; ok {
					continue
				}
				if r.Requests == nil {
					r.Requests = corev1.ResourceList{}
				}
				r.Requests[name] = limit.DeepCopy()
			}
		}
	}
	setIfNil(&p.Spec.EnableServiceLinks, corev1.DefaultEnableServiceLinks)
	// The ServiceAccount admission plugin's default account, and the
	// deprecated spec.serviceAccount mirrored as core/v1 serves it.
	setIfEmpty(&p.Spec.ServiceAccountName, p.Spec.DeprecatedServiceAccount)
	setIfEmpty(&p.Spec.ServiceAccountName, "default")
	p.Spec.DeprecatedServiceAccount = p.Spec.ServiceAccountName
	defaultPodSpec(&p.Spec)
}

func defaultPodTemplate(t *corev1.PodTemplateSpec) { defaultPodSpec(&t.Spec) }

func defaultPodSpec(s *corev1.PodSpec) {
	setIfEmpty(&s.RestartPolicy, corev1.RestartPolicyAlways)
	setIfEmpty(&s.DNSPolicy, corev1.DNSClusterFirst)
	setIfNil(&s.TerminationGracePeriodSeconds, corev1.DefaultTerminationGracePeriodSeconds)
	setIfEmpty(&s.SchedulerName, corev1.DefaultSchedulerName)
	if s.SecurityContext == nil {
		s.SecurityContext = &corev1.PodSecurityContext{}
	}
	for i := range s.InitContainers {
		defaultContainer(&s.InitContainers[i], s.HostNetwork)
	}
	for i := range s.Containers {
		defaultContainer(&s.Containers[i], s.HostNetwork)
	}
	for i := range s.Volumes {
		defaultVolume(&s.Volumes[i])
	}
}

func defaultContainer(c *corev1.Container, hostNetwork bool) {
	setIfEmpty(&c.ImagePullPolicy, pullPolicyFor(c.Image))
	setIfEmpty(&c.TerminationMessagePath, corev1.TerminationMessagePathDefault)
	setIfEmpty(&c.TerminationMessagePolicy, corev1.TerminationMessageReadFile)
	for i := range c.Ports {
		p := &c.Ports[i]
		setIfEmpty(&p.Protocol, corev1.ProtocolTCP)
		// With the host's network the container port is the host port.
		if hostNetwork && p.HostPort == 0 {
			p.HostPort = p.ContainerPort
		}
	}
	for i := range c.Env {
		if vf := c.Env[i].ValueFrom; vf != nil && vf.FieldRef != nil {
			setIfEmpty(&vf.FieldRef.APIVersion, "v1")
		}
	}
	defaultProbe(c.LivenessProbe)
	defaultProbe(c.ReadinessProbe)
	defaultProbe(c.StartupProbe)
	if c.Lifecycle != nil {
		defaultLifecycleHandler(c.Lifecycle.PostStart)
		defaultLifecycleHandler(c.Lifecycle.PreStop)
	}
}

// pullPolicyFor is Always for an image tagged latest or not tagged at all
// (which means latest), IfNotPresent otherwise, as in Kubernetes.
func pullPolicyFor(image string) corev1.PullPolicy {
	if imageTag(image) == "latest" {
		return corev1.PullAlways
	}
	return corev1.PullIfNotPresent
}

// imageTag returns the tag of an image reference: "latest" when it has
// neither tag nor digest, "" when it has only a digest.
func imageTag(image string) string {
	name, _, hasDigest := strings.Cut(image, "@")
	tag := ""
	if i := strings.LastIndex(name, ":"); i >= 0 && !strings.Contains(name[i:], "/") {
		tag = name[i+1:]
	}
	if tag == "" && !hasDigest {
		return "latest"
	}
	return tag
}

func defaultProbe(p *corev1.Probe) {
	if p == nil {
		return
	}
	if p.TimeoutSeconds == 0 {
		p.TimeoutSeconds = 1
	}
	if p.PeriodSeconds == 0 {
		p.PeriodSeconds = 10
	}
	if p.SuccessThreshold == 0 {
		p.SuccessThreshold = 1
	}
	if p.FailureThreshold == 0 {
		p.FailureThreshold = 3
	}
	defaultHTTPGet(p.HTTPGet)
}

func defaultLifecycleHandler(h *corev1.LifecycleHandler) {
	if h != nil {
		defaultHTTPGet(h.HTTPGet)
	}
}

func defaultHTTPGet(h *corev1.HTTPGetAction) {
	if h == nil {
		return
	}
	setIfEmpty(&h.Path, "/")
	setIfEmpty(&h.Scheme, corev1.URISchemeHTTP)
}

func defaultVolume(v *corev1.Volume) {
	if v.VolumeSource == (corev1.VolumeSource{}) {
		v.EmptyDir = &corev1.EmptyDirVolumeSource{}
	}
	if v.ConfigMap != nil {
		setIfNil(&v.ConfigMap.DefaultMode, defaultFileMode)
	}
	if v.Secret != nil {
		setIfNil(&v.Secret.DefaultMode, defaultFileMode)
	}
	if v.DownwardAPI != nil {
		setIfNil(&v.DownwardAPI.DefaultMode, defaultFileMode)
		defaultDownwardAPIItems(v.DownwardAPI.Items)
	}
	if v.Projected != nil {
		setIfNil(&v.Projected.DefaultMode, defaultFileMode)
		for _, s := range v.Projected.Sources {
			if s.DownwardAPI != nil {
				defaultDownwardAPIItems(s.DownwardAPI.Items)
			}
		}
	}
	if v.HostPath != nil {
		setIfNil(&v.HostPath.Type, corev1.HostPathUnset)
	}
}

func defaultDownwardAPIItems(items []corev1.DownwardAPIVolumeFile) {
	for i := range items {
		if items[i].FieldRef != nil {
			setIfEmpty(&items[i].FieldRef.APIVersion, "v1")
		}
	}
}

func defaultDeployment(d *appsv1.Deployment) {
	setIfNil(&d.Spec.Replicas, 1)
	setIfEmpty(&d.Spec.Strategy.Type, appsv1.RollingUpdateDeploymentStrategyType)
	if d.Spec.Strategy.Type == appsv1.RollingUpdateDeploymentStrategyType {
		if d.Spec.Strategy.RollingUpdate == nil {
			d.Spec.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{}
		}
		setIfNil(&d.Spec.Strategy.RollingUpdate.MaxUnavailable, intstr.FromString("25%"))
		setIfNil(&d.Spec.Strategy.RollingUpdate.MaxSurge, intstr.FromString("25%"))
	}
	setIfNil(&d.Spec.RevisionHistoryLimit, 10)
	setIfNil(&d.Spec.ProgressDeadlineSeconds, 600)
	defaultPodTemplate(&d.Spec.Template)
}

func defaultDaemonSet(ds *appsv1.DaemonSet) {
	setIfEmpty(&ds.Spec.UpdateStrategy.Type, appsv1.RollingUpdateDaemonSetStrategyType)
	if ds.Spec.UpdateStrategy.Type == appsv1.RollingUpdateDaemonSetStrategyType {
		if ds.Spec.UpdateStrategy.RollingUpdate == nil {
			ds.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateDaemonSet{}
		}
		setIfNil(&ds.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable, intstr.FromInt32(1))
		setIfNil(&ds.Spec.UpdateStrategy.RollingUpdate.MaxSurge, intstr.FromInt32(0))
	}
	setIfNil(&ds.Spec.RevisionHistoryLimit, 10)
	defaultPodTemplate(&ds.Spec.Template)
}

func defaultStatefulSet(s *appsv1.StatefulSet) {
	setIfNil(&s.Spec.Replicas, 1)
	setIfEmpty(&s.Spec.PodManagementPolicy, appsv1.OrderedReadyPodManagement)
	setIfEmpty(&s.Spec.UpdateStrategy.Type, appsv1.RollingUpdateStatefulSetStrategyType)
	if s.Spec.UpdateStrategy.Type == appsv1.RollingUpdateStatefulSetStrategyType {
		if s.Spec.UpdateStrategy.RollingUpdate == nil {
			s.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateStatefulSetStrategy{}
		}
		setIfNil(&s.Spec.UpdateStrategy.RollingUpdate.Partition, 0)
	}
	setIfNil(&s.Spec.RevisionHistoryLimit, 10)
	if s.Spec.PersistentVolumeClaimRetentionPolicy == nil {
		s.Spec.PersistentVolumeClaimRetentionPolicy = &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{}
	}
	setIfEmpty(&s.Spec.PersistentVolumeClaimRetentionPolicy.WhenDeleted, appsv1.RetainPersistentVolumeClaimRetentionPolicyType)
	setIfEmpty(&s.Spec.PersistentVolumeClaimRetentionPolicy.WhenScaled, appsv1.RetainPersistentVolumeClaimRetentionPolicyType)
	for i := range s.Spec.VolumeClaimTemplates {
		pvc := &s.Spec.VolumeClaimTemplates[i]
		setIfNil(&pvc.Spec.VolumeMode, corev1.PersistentVolumeFilesystem)
		setIfEmpty(&pvc.Status.Phase, corev1.ClaimPending)
	}
	defaultPodTemplate(&s.Spec.Template)
}

// defaultJob follows batch/v1: with neither completions nor parallelism
// set the job runs one pod to completion; with only completions unset it
// is a work queue and completions stays unset.
func defaultJob(j *batchv1.Job) {
	if j.Spec.Completions == nil && j.Spec.Parallelism == nil {
		j.Spec.Completions = ptrTo[int32](1)
	}
	setIfNil(&j.Spec.Parallelism, 1)
	if j.Spec.BackoffLimit == nil {
		if j.Spec.BackoffLimitPerIndex != nil {
			// Per-index limits take over; the global one stops mattering.
			j.Spec.BackoffLimit = ptrTo[int32](1<<31 - 1)
		} else {
			j.Spec.BackoffLimit = ptrTo[int32](6)
		}
	}
	setIfNil(&j.Spec.CompletionMode, batchv1.NonIndexedCompletion)
	setIfNil(&j.Spec.Suspend, false)
	if j.Spec.PodFailurePolicy != nil {
		setIfNil(&j.Spec.PodReplacementPolicy, batchv1.Failed)
	} else {
		setIfNil(&j.Spec.PodReplacementPolicy, batchv1.TerminatingOrFailed)
	}
	// A job without labels of its own takes its template's.
	if len(j.Labels) == 0 && j.Spec.Template.Labels != nil {
		j.Labels = make(map[string]string, len(j.Spec.Template.Labels))
		for k, v := range j.Spec.Template.Labels {
			j.Labels[k] = v
		}
	}
	defaultPodTemplate(&j.Spec.Template)
}

// defaultCronJob defaults the cron job and the pod template of its job
// template; as in Kubernetes, the job spec fields are defaulted when each
// Job is created, not in the template.
func defaultCronJob(c *batchv1.CronJob) {
	setIfEmpty(&c.Spec.ConcurrencyPolicy, batchv1.AllowConcurrent)
	setIfNil(&c.Spec.Suspend, false)
	setIfNil(&c.Spec.SuccessfulJobsHistoryLimit, 3)
	setIfNil(&c.Spec.FailedJobsHistoryLimit, 1)
	defaultPodTemplate(&c.Spec.JobTemplate.Spec.Template)
}

func defaultService(s *corev1.Service) {
	sp := &s.Spec
	setIfEmpty(&sp.Type, corev1.ServiceTypeClusterIP)
	setIfEmpty(&sp.SessionAffinity, corev1.ServiceAffinityNone)
	if sp.SessionAffinity == corev1.ServiceAffinityClientIP {
		if sp.SessionAffinityConfig == nil {
			sp.SessionAffinityConfig = &corev1.SessionAffinityConfig{}
		}
		if sp.SessionAffinityConfig.ClientIP == nil {
			sp.SessionAffinityConfig.ClientIP = &corev1.ClientIPConfig{}
		}
		setIfNil(&sp.SessionAffinityConfig.ClientIP.TimeoutSeconds, corev1.DefaultClientIPServiceAffinitySeconds)
	}
	for i := range sp.Ports {
		p := &sp.Ports[i]
		setIfEmpty(&p.Protocol, corev1.ProtocolTCP)
		if p.TargetPort == intstr.FromInt32(0) || p.TargetPort == intstr.FromString("") {
			p.TargetPort = intstr.FromInt32(p.Port)
		}
	}
	if sp.Type == corev1.ServiceTypeExternalName {
		return
	}
	setIfNil(&sp.InternalTrafficPolicy, corev1.ServiceInternalTrafficPolicyCluster)
	if sp.Type == corev1.ServiceTypeNodePort || sp.Type == corev1.ServiceTypeLoadBalancer {
		setIfEmpty(&sp.ExternalTrafficPolicy, corev1.ServiceExternalTrafficPolicyCluster)
	}
	if sp.Type == corev1.ServiceTypeLoadBalancer {
		setIfNil(&sp.AllocateLoadBalancerNodePorts, true)
	}
	// Strom's service network is IPv4 only.
	setIfNil(&sp.IPFamilyPolicy, corev1.IPFamilyPolicySingleStack)
	if len(sp.IPFamilies) == 0 && *sp.IPFamilyPolicy == corev1.IPFamilyPolicySingleStack {
		sp.IPFamilies = []corev1.IPFamily{corev1.IPv4Protocol}
	}
}

func defaultRoleRef(r *rbacv1.RoleRef) { setIfEmpty(&r.APIGroup, rbacv1.GroupName) }

func defaultSubjects(subjects []rbacv1.Subject) {
	for i := range subjects {
		s := &subjects[i]
		if s.Kind == rbacv1.UserKind || s.Kind == rbacv1.GroupKind {
			setIfEmpty(&s.APIGroup, rbacv1.GroupName)
		}
	}
}

// defaultHPA sets one replica as the floor and, with no metrics at all, a
// CPU utilization target of 80%. A behavior given in part is completed
// with the Kubernetes scaling rules.
func defaultHPA(h *autoscalingv2.HorizontalPodAutoscaler) {
	setIfNil(&h.Spec.MinReplicas, 1)
	if len(h.Spec.Metrics) == 0 {
		h.Spec.Metrics = []autoscalingv2.MetricSpec{{
			Type: autoscalingv2.ResourceMetricSourceType,
			Resource: &autoscalingv2.ResourceMetricSource{
				Name: corev1.ResourceCPU,
				Target: autoscalingv2.MetricTarget{
					Type:               autoscalingv2.UtilizationMetricType,
					AverageUtilization: ptrTo[int32](80),
				},
			},
		}}
	}
	if b := h.Spec.Behavior; b != nil {
		b.ScaleUp = defaultScalingRules(b.ScaleUp, 0, []autoscalingv2.HPAScalingPolicy{
			{Type: autoscalingv2.PodsScalingPolicy, Value: 4, PeriodSeconds: 15},
			{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15},
		})
		b.ScaleDown = defaultScalingRules(b.ScaleDown, 300, []autoscalingv2.HPAScalingPolicy{
			{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15},
		})
	}
}

func defaultScalingRules(r *autoscalingv2.HPAScalingRules, window int32, policies []autoscalingv2.HPAScalingPolicy) *autoscalingv2.HPAScalingRules {
	if r == nil {
		r = &autoscalingv2.HPAScalingRules{}
	}
	setIfNil(&r.StabilizationWindowSeconds, window)
	setIfNil(&r.SelectPolicy, autoscalingv2.MaxChangePolicySelect)
	if r.Policies == nil {
		r.Policies = policies
	}
	return r
}

// defaultLimitRange fills a container limit's default limit from its max,
// and its default request from its default limit, then from its min.
func defaultLimitRange(l *corev1.LimitRange) {
	for i := range l.Spec.Limits {
		it := &l.Spec.Limits[i]
		if it.Type != corev1.LimitTypeContainer {
			continue
		}
		it.Default = fillMissing(it.Default, it.Max)
		it.DefaultRequest = fillMissing(it.DefaultRequest, it.Default)
		it.DefaultRequest = fillMissing(it.DefaultRequest, it.Min)
	}
}

func fillMissing(dst, from corev1.ResourceList) corev1.ResourceList {
	for name, q := range from {
		if _, ok := dst[name]; ok {
			continue
		}
		if dst == nil {
			dst = corev1.ResourceList{}
		}
		dst[name] = q.DeepCopy()
	}
	return dst
}

// mergeStringData folds a Secret's write-only stringData into data, its
// values winning over data's, and drops it, as Kubernetes does on every
// write: consumers read data, and stringData is never stored or served.
func mergeStringData(s *corev1.Secret) {
	if len(s.StringData) == 0 {
		s.StringData = nil
		return
	}
	if s.Data == nil {
		s.Data = make(map[string][]byte, len(s.StringData))
	}
	for k, v := range s.StringData {
		s.Data[k] = []byte(v)
	}
	s.StringData = nil
}
