package objects

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func decodeDefault[T Object](t *testing.T, doc string) T {
	t.Helper()
	obj, _, err := Decode([]byte(doc))
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	Default(obj)
	out, ok := obj.(T)
	if !ok {
		t.Fatalf("decoded %T", obj)
	}
	return out
}

func check[V comparable](t *testing.T, what string, got, want V) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func checkPtr[V comparable](t *testing.T, what string, got *V, want V) {
	t.Helper()
	if got == nil {
		t.Errorf("%s = nil, want %v", what, want)
		return
	}
	check(t, what, *got, want)
}

func TestPullPolicyFor(t *testing.T) {
	for image, want := range map[string]corev1.PullPolicy{
		"nginx":                           corev1.PullAlways,
		"nginx:latest":                    corev1.PullAlways,
		"nginx:1.27":                      corev1.PullIfNotPresent,
		"registry:5000/app":               corev1.PullAlways,
		"registry:5000/app:v1":            corev1.PullIfNotPresent,
		"registry:5000/team/app:latest":   corev1.PullAlways,
		"app@sha256:0123456789abcdef":     corev1.PullIfNotPresent,
		"app:latest@sha256:0123456789abc": corev1.PullAlways,
		"app:v2@sha256:0123456789abc":     corev1.PullIfNotPresent,
	} {
		check(t, image, pullPolicyFor(image), want)
	}
}

func TestDefaultPod(t *testing.T) {
	p := decodeDefault[*corev1.Pod](t, podDoc(`{containers: [{name: web, image: nginx:1.27,
  ports: [{containerPort: 80}],
  env: [{name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}],
  resources: {limits: {cpu: 500m}, requests: {memory: 64Mi}},
  livenessProbe: {httpGet: {port: 80}},
  readinessProbe: {exec: {command: ['true']}, periodSeconds: 3},
  lifecycle: {preStop: {httpGet: {port: 80, path: /quit}}}}],
 initContainers: [{name: init, image: busybox}],
 volumes: [{name: a}, {name: b, configMap: {name: c}}, {name: s, secret: {secretName: s, defaultMode: 0400}},
  {name: d, downwardAPI: {items: [{path: podname, fieldRef: {fieldPath: metadata.name}}]}}, {name: h, hostPath: {path: /tmp}}]}`))
	s := p.Spec
	check(t, "restartPolicy", s.RestartPolicy, corev1.RestartPolicyAlways)
	check(t, "dnsPolicy", s.DNSPolicy, corev1.DNSClusterFirst)
	checkPtr(t, "terminationGracePeriodSeconds", s.TerminationGracePeriodSeconds, 30)
	check(t, "schedulerName", s.SchedulerName, "default-scheduler")
	checkPtr(t, "enableServiceLinks", s.EnableServiceLinks, true)
	check(t, "serviceAccountName", s.ServiceAccountName, "default")
	check(t, "serviceAccount (deprecated, mirrored)", s.DeprecatedServiceAccount, "default")
	if s.SecurityContext == nil || !equality.Semantic.DeepEqual(*s.SecurityContext, corev1.PodSecurityContext{}) {
		t.Errorf("securityContext = %+v, want empty", s.SecurityContext)
	}
	c := s.Containers[0]
	check(t, "imagePullPolicy", c.ImagePullPolicy, corev1.PullIfNotPresent)
	check(t, "init imagePullPolicy", s.InitContainers[0].ImagePullPolicy, corev1.PullAlways)
	check(t, "init terminationMessagePath", s.InitContainers[0].TerminationMessagePath, "/dev/termination-log")
	check(t, "terminationMessagePath", c.TerminationMessagePath, "/dev/termination-log")
	check(t, "terminationMessagePolicy", c.TerminationMessagePolicy, corev1.TerminationMessageReadFile)
	check(t, "port protocol", c.Ports[0].Protocol, corev1.ProtocolTCP)
	check(t, "hostPort without hostNetwork", c.Ports[0].HostPort, 0)
	check(t, "fieldRef apiVersion", c.Env[0].ValueFrom.FieldRef.APIVersion, "v1")
	if q := c.Resources.Requests[corev1.ResourceCPU]; q.String() != "500m" {
		t.Errorf("cpu request = %s, want the limit 500m", q.String())
	}
	if q := c.Resources.Requests[corev1.ResourceMemory]; q.String() != "64Mi" {
		t.Errorf("memory request = %s, want 64Mi kept", q.String())
	}
	lp := c.LivenessProbe
	check(t, "timeoutSeconds", lp.TimeoutSeconds, 1)
	check(t, "periodSeconds", lp.PeriodSeconds, 10)
	check(t, "successThreshold", lp.SuccessThreshold, 1)
	check(t, "failureThreshold", lp.FailureThreshold, 3)
	check(t, "httpGet scheme", lp.HTTPGet.Scheme, corev1.URISchemeHTTP)
	check(t, "httpGet path", lp.HTTPGet.Path, "/")
	check(t, "readiness periodSeconds kept", c.ReadinessProbe.PeriodSeconds, 3)
	check(t, "preStop path kept", c.Lifecycle.PreStop.HTTPGet.Path, "/quit")
	check(t, "preStop scheme", c.Lifecycle.PreStop.HTTPGet.Scheme, corev1.URISchemeHTTP)
	v := s.Volumes
	if v[0].EmptyDir == nil {
		t.Errorf("volume without source: %+v, want emptyDir", v[0].VolumeSource)
	}
	checkPtr(t, "configMap defaultMode", v[1].ConfigMap.DefaultMode, 0o644)
	checkPtr(t, "secret defaultMode kept", v[2].Secret.DefaultMode, 0o400)
	checkPtr(t, "downwardAPI defaultMode", v[3].DownwardAPI.DefaultMode, 0o644)
	check(t, "downwardAPI fieldRef apiVersion", v[3].DownwardAPI.Items[0].FieldRef.APIVersion, "v1")
	checkPtr(t, "hostPath type", v[4].HostPath.Type, corev1.HostPathUnset)
}

func TestDefaultPodHostNetworkPorts(t *testing.T) {
	p := decodeDefault[*corev1.Pod](t, podDoc("{hostNetwork: true, containers: [{name: web, image: nginx, ports: [{containerPort: 8080}]}]}"))
	check(t, "hostPort", p.Spec.Containers[0].Ports[0].HostPort, 8080)
}

func TestDefaultDeployment(t *testing.T) {
	d := decodeDefault[*appsv1.Deployment](t, deployDoc("{selector: {matchLabels: {app: web}}, "+tmpl+"}"))
	checkPtr(t, "replicas", d.Spec.Replicas, 1)
	check(t, "strategy", d.Spec.Strategy.Type, appsv1.RollingUpdateDeploymentStrategyType)
	checkPtr(t, "maxSurge", d.Spec.Strategy.RollingUpdate.MaxSurge, intstr.FromString("25%"))
	checkPtr(t, "maxUnavailable", d.Spec.Strategy.RollingUpdate.MaxUnavailable, intstr.FromString("25%"))
	checkPtr(t, "revisionHistoryLimit", d.Spec.RevisionHistoryLimit, 10)
	checkPtr(t, "progressDeadlineSeconds", d.Spec.ProgressDeadlineSeconds, 600)
	check(t, "template restartPolicy", d.Spec.Template.Spec.RestartPolicy, corev1.RestartPolicyAlways)
	check(t, "template imagePullPolicy", d.Spec.Template.Spec.Containers[0].ImagePullPolicy, corev1.PullAlways)
	if d.Spec.Template.Spec.EnableServiceLinks != nil {
		t.Error("enableServiceLinks is a pod default, not a template default")
	}

	d = decodeDefault[*appsv1.Deployment](t, deployDoc("{replicas: 0, strategy: {type: Recreate}, selector: {matchLabels: {app: web}}, "+tmpl+"}"))
	checkPtr(t, "replicas 0 kept", d.Spec.Replicas, 0)
	if d.Spec.Strategy.RollingUpdate != nil {
		t.Error("Recreate got a rollingUpdate")
	}
	d = decodeDefault[*appsv1.Deployment](t, deployDoc("{strategy: {rollingUpdate: {maxSurge: 2}}, selector: {matchLabels: {app: web}}, "+tmpl+"}"))
	checkPtr(t, "maxSurge kept", d.Spec.Strategy.RollingUpdate.MaxSurge, intstr.FromInt32(2))
	checkPtr(t, "maxUnavailable filled", d.Spec.Strategy.RollingUpdate.MaxUnavailable, intstr.FromString("25%"))
}

func TestDefaultOtherWorkloads(t *testing.T) {
	rs := decodeDefault[*appsv1.ReplicaSet](t, "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: r}\nspec: {"+tmpl+"}")
	checkPtr(t, "rs replicas", rs.Spec.Replicas, 1)
	check(t, "rs template dnsPolicy", rs.Spec.Template.Spec.DNSPolicy, corev1.DNSClusterFirst)

	ds := decodeDefault[*appsv1.DaemonSet](t, "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: d}\nspec: {"+tmpl+"}")
	check(t, "ds strategy", ds.Spec.UpdateStrategy.Type, appsv1.RollingUpdateDaemonSetStrategyType)
	checkPtr(t, "ds maxUnavailable", ds.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable, intstr.FromInt32(1))
	checkPtr(t, "ds maxSurge", ds.Spec.UpdateStrategy.RollingUpdate.MaxSurge, intstr.FromInt32(0))
	checkPtr(t, "ds revisionHistoryLimit", ds.Spec.RevisionHistoryLimit, 10)

	ss := decodeDefault[*appsv1.StatefulSet](t, "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: s}\nspec: {"+tmpl+
		", volumeClaimTemplates: [{metadata: {name: data}, spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}}]}")
	checkPtr(t, "ss replicas", ss.Spec.Replicas, 1)
	check(t, "ss podManagementPolicy", ss.Spec.PodManagementPolicy, appsv1.OrderedReadyPodManagement)
	check(t, "ss strategy", ss.Spec.UpdateStrategy.Type, appsv1.RollingUpdateStatefulSetStrategyType)
	checkPtr(t, "ss partition", ss.Spec.UpdateStrategy.RollingUpdate.Partition, 0)
	checkPtr(t, "ss revisionHistoryLimit", ss.Spec.RevisionHistoryLimit, 10)
	check(t, "ss pvc retention", ss.Spec.PersistentVolumeClaimRetentionPolicy.WhenDeleted, appsv1.RetainPersistentVolumeClaimRetentionPolicyType)
	checkPtr(t, "ss claim volumeMode", ss.Spec.VolumeClaimTemplates[0].Spec.VolumeMode, corev1.PersistentVolumeFilesystem)

	const jt = "template: {metadata: {labels: {app: batch}}, spec: {restartPolicy: Never, containers: [{name: c, image: busybox}]}}"
	j := decodeDefault[*batchv1.Job](t, jobDoc("{"+jt+"}"))
	checkPtr(t, "job completions", j.Spec.Completions, 1)
	checkPtr(t, "job parallelism", j.Spec.Parallelism, 1)
	checkPtr(t, "job backoffLimit", j.Spec.BackoffLimit, 6)
	checkPtr(t, "job completionMode", j.Spec.CompletionMode, batchv1.NonIndexedCompletion)
	checkPtr(t, "job suspend", j.Spec.Suspend, false)
	checkPtr(t, "job podReplacementPolicy", j.Spec.PodReplacementPolicy, batchv1.TerminatingOrFailed)
	check(t, "job labels from template", j.Labels["app"], "batch")
	check(t, "job restartPolicy kept", j.Spec.Template.Spec.RestartPolicy, corev1.RestartPolicyNever)

	j = decodeDefault[*batchv1.Job](t, jobDoc("{parallelism: 3, "+jt+"}"))
	if j.Spec.Completions != nil {
		t.Errorf("work-queue job got completions %d", *j.Spec.Completions)
	}
	j = decodeDefault[*batchv1.Job](t, jobDoc("{completions: 5, "+jt+"}"))
	checkPtr(t, "job completions kept", j.Spec.Completions, 5)
	checkPtr(t, "job parallelism with completions", j.Spec.Parallelism, 1)

	cj := decodeDefault[*batchv1.CronJob](t, cronDoc("{schedule: '@daily', jobTemplate: {spec: {template: {spec: {containers: [{name: c, image: busybox}]}}}}}"))
	check(t, "cron concurrencyPolicy", cj.Spec.ConcurrencyPolicy, batchv1.AllowConcurrent)
	checkPtr(t, "cron suspend", cj.Spec.Suspend, false)
	checkPtr(t, "cron successfulJobsHistoryLimit", cj.Spec.SuccessfulJobsHistoryLimit, 3)
	checkPtr(t, "cron failedJobsHistoryLimit", cj.Spec.FailedJobsHistoryLimit, 1)
	check(t, "cron template pod defaults", cj.Spec.JobTemplate.Spec.Template.Spec.SchedulerName, "default-scheduler")
	if cj.Spec.JobTemplate.Spec.BackoffLimit != nil {
		t.Error("job fields of a cron job template are defaulted per Job, not in the template")
	}
}

func TestDefaultService(t *testing.T) {
	s := decodeDefault[*corev1.Service](t, svcDoc("{sessionAffinity: ClientIP, ports: [{name: a, port: 80}, {name: b, port: 81, targetPort: http}]}"))
	check(t, "type", s.Spec.Type, corev1.ServiceTypeClusterIP)
	check(t, "protocol", s.Spec.Ports[0].Protocol, corev1.ProtocolTCP)
	check(t, "targetPort", s.Spec.Ports[0].TargetPort, intstr.FromInt32(80))
	check(t, "named targetPort kept", s.Spec.Ports[1].TargetPort, intstr.FromString("http"))
	checkPtr(t, "affinity timeout", s.Spec.SessionAffinityConfig.ClientIP.TimeoutSeconds, 10800)
	checkPtr(t, "internalTrafficPolicy", s.Spec.InternalTrafficPolicy, corev1.ServiceInternalTrafficPolicyCluster)
	checkPtr(t, "ipFamilyPolicy", s.Spec.IPFamilyPolicy, corev1.IPFamilyPolicySingleStack)
	if len(s.Spec.IPFamilies) != 1 || s.Spec.IPFamilies[0] != corev1.IPv4Protocol {
		t.Errorf("ipFamilies = %v, want [IPv4]", s.Spec.IPFamilies)
	}
	check(t, "externalTrafficPolicy on ClusterIP", s.Spec.ExternalTrafficPolicy, "")
	if s.Spec.ClusterIP != "" || s.Spec.Ports[0].NodePort != 0 {
		t.Error("defaulting allocated a cluster IP or node port")
	}

	s = decodeDefault[*corev1.Service](t, svcDoc("{ports: [{port: 80}]}"))
	check(t, "sessionAffinity", s.Spec.SessionAffinity, corev1.ServiceAffinityNone)
	if s.Spec.SessionAffinityConfig != nil {
		t.Error("affinity None got a sessionAffinityConfig")
	}

	s = decodeDefault[*corev1.Service](t, svcDoc("{type: LoadBalancer, ports: [{port: 80}]}"))
	check(t, "LB externalTrafficPolicy", s.Spec.ExternalTrafficPolicy, corev1.ServiceExternalTrafficPolicyCluster)
	checkPtr(t, "LB allocateLoadBalancerNodePorts", s.Spec.AllocateLoadBalancerNodePorts, true)

	s = decodeDefault[*corev1.Service](t, svcDoc("{type: ExternalName, externalName: db.example.com}"))
	if s.Spec.IPFamilyPolicy != nil || s.Spec.IPFamilies != nil || s.Spec.InternalTrafficPolicy != nil {
		t.Error("ExternalName service got IP settings")
	}
}

func TestDefaultOtherKinds(t *testing.T) {
	sec := decodeDefault[*corev1.Secret](t, doc("v1", "Secret", "data: {a: eA==}"))
	check(t, "secret type", sec.Type, corev1.SecretTypeOpaque)

	pv := decodeDefault[*corev1.PersistentVolume](t, "apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: pv}\nspec: {hostPath: {path: /d}}")
	check(t, "pv reclaim", pv.Spec.PersistentVolumeReclaimPolicy, corev1.PersistentVolumeReclaimRetain)
	checkPtr(t, "pv volumeMode", pv.Spec.VolumeMode, corev1.PersistentVolumeFilesystem)
	pvc := decodeDefault[*corev1.PersistentVolumeClaim](t, doc("v1", "PersistentVolumeClaim", "spec: {}"))
	checkPtr(t, "pvc volumeMode", pvc.Spec.VolumeMode, corev1.PersistentVolumeFilesystem)

	rb := decodeDefault[*rbacv1.RoleBinding](t, doc("rbac.authorization.k8s.io/v1", "RoleBinding",
		"roleRef: {kind: Role, name: r}\nsubjects: [{kind: User, name: u}, {kind: ServiceAccount, name: sa}]"))
	check(t, "roleRef apiGroup", rb.RoleRef.APIGroup, rbacv1.GroupName)
	check(t, "user apiGroup", rb.Subjects[0].APIGroup, rbacv1.GroupName)
	check(t, "service account apiGroup", rb.Subjects[1].APIGroup, "")

	h := decodeDefault[*autoscalingv2.HorizontalPodAutoscaler](t, doc("autoscaling/v2", "HorizontalPodAutoscaler",
		"spec: {scaleTargetRef: {kind: Deployment, name: web}, maxReplicas: 4, behavior: {scaleDown: {selectPolicy: Min}}}"))
	checkPtr(t, "hpa minReplicas", h.Spec.MinReplicas, 1)
	if len(h.Spec.Metrics) != 1 || h.Spec.Metrics[0].Resource == nil || h.Spec.Metrics[0].Resource.Name != corev1.ResourceCPU {
		t.Fatalf("hpa metrics = %+v, want cpu", h.Spec.Metrics)
	}
	checkPtr(t, "hpa cpu target", h.Spec.Metrics[0].Resource.Target.AverageUtilization, 80)
	checkPtr(t, "hpa scaleDown selectPolicy kept", h.Spec.Behavior.ScaleDown.SelectPolicy, autoscalingv2.MinChangePolicySelect)
	checkPtr(t, "hpa scaleDown window", h.Spec.Behavior.ScaleDown.StabilizationWindowSeconds, 300)
	checkPtr(t, "hpa scaleUp window", h.Spec.Behavior.ScaleUp.StabilizationWindowSeconds, 0)
	check(t, "hpa scaleUp policies", len(h.Spec.Behavior.ScaleUp.Policies), 2)

	lr := decodeDefault[*corev1.LimitRange](t, doc("v1", "LimitRange", "spec: {limits: [{type: Container, max: {cpu: '2'}, min: {memory: 64Mi}}]}"))
	it := lr.Spec.Limits[0]
	if q := it.Default[corev1.ResourceCPU]; q.String() != "2" {
		t.Errorf("default cpu = %s, want max 2", q.String())
	}
	if q := it.DefaultRequest[corev1.ResourceCPU]; q.String() != "2" {
		t.Errorf("defaultRequest cpu = %s, want default 2", q.String())
	}
	if q := it.DefaultRequest[corev1.ResourceMemory]; q.String() != "64Mi" {
		t.Errorf("defaultRequest memory = %s, want min 64Mi", q.String())
	}

	ns := decodeDefault[*corev1.Namespace](t, "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n")
	check(t, "namespace name label", ns.Labels["kubernetes.io/metadata.name"], "shop")

	ep := decodeDefault[*corev1.Endpoints](t, doc("v1", "Endpoints", "subsets: [{addresses: [{ip: 10.1.0.1}], ports: [{port: 80}]}]"))
	check(t, "endpoint port protocol", ep.Subsets[0].Ports[0].Protocol, corev1.ProtocolTCP)

	node := decodeDefault[*corev1.Node](t, "apiVersion: v1\nkind: Node\nmetadata: {name: node-1}\nstatus: {capacity: {cpu: '4'}}")
	if q := node.Status.Allocatable[corev1.ResourceCPU]; q.String() != "4" {
		t.Errorf("allocatable cpu = %s, want capacity 4", q.String())
	}
}

func TestDefaultPodServiceAccount(t *testing.T) {
	p := decodeDefault[*corev1.Pod](t, podDoc(`{serviceAccount: old, containers: [{name: c, image: busybox}]}`))
	check(t, "serviceAccountName from the deprecated field", p.Spec.ServiceAccountName, "old")
	p = decodeDefault[*corev1.Pod](t, podDoc(`{serviceAccountName: builder, containers: [{name: c, image: busybox}]}`))
	check(t, "serviceAccountName kept", p.Spec.ServiceAccountName, "builder")
	check(t, "serviceAccount mirrored", p.Spec.DeprecatedServiceAccount, "builder")
}

// A Secret's stringData is merged into data (winning over data's value
// for the same key) and never stored.
func TestDefaultSecretMergesStringData(t *testing.T) {
	s := decodeDefault[*corev1.Secret](t, `{apiVersion: v1, kind: Secret, metadata: {name: s},
  data: {user: YWRtaW4=, password: b2xk}, stringData: {password: new, token: t0k}}`)
	if s.StringData != nil {
		t.Errorf("stringData kept: %v", s.StringData)
	}
	want := map[string]string{"user": "admin", "password": "new", "token": "t0k"}
	if len(s.Data) != len(want) {
		t.Errorf("data = %v, want %v", s.Data, want)
	}
	for k, v := range want {
		if string(s.Data[k]) != v {
			t.Errorf("data[%s] = %q, want %q", k, s.Data[k], v)
		}
	}
}
