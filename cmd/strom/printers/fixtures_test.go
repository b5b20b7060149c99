package printers

import (
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/strom-project/strom/events/objects"
)

// now is the fixed "current time" every test uses.
var now = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

func ago(d time.Duration) metav1.Time { return metav1.NewTime(now.Add(-d)) }

func agoPtr(d time.Duration) *metav1.Time { t := ago(d); return &t }

func ptr[T any](v T) *T { return &v }

func meta(ns, name string, created time.Duration) metav1.ObjectMeta {
	return metav1.ObjectMeta{Namespace: ns, Name: name, CreationTimestamp: ago(created), UID: types.UID("uid-" + name)}
}

func running(started time.Duration) corev1.ContainerState {
	return corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: ago(started)}}
}

func waiting(reason string) corev1.ContainerState {
	return corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason}}
}

func terminated(reason string, code int32, finished time.Duration) corev1.ContainerState {
	return corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
		Reason: reason, ExitCode: code, StartedAt: ago(finished + time.Minute), FinishedAt: ago(finished)}}
}

func containers(names ...string) []corev1.Container {
	var cs []corev1.Container
	for _, n := range names {
		cs = append(cs, corev1.Container{Name: n, Image: n + ":1.0"})
	}
	return cs
}

func template(app string, names ...string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": app}},
		Spec:       corev1.PodSpec{Containers: containers(names...)},
	}
}

func selector(app string) *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}}
}

// fixturePods covers the pod statuses kubectl computes.
func fixturePods() []objects.Object {
	runningPod := &corev1.Pod{
		ObjectMeta: meta("default", "web-7d4b9c-abcde", 3*time.Hour),
		Spec:       corev1.PodSpec{NodeName: "node-1", Containers: containers("web", "sidecar")},
		Status: corev1.PodStatus{
			Phase: corev1.PodRunning, PodIP: "10.244.1.5", PodIPs: []corev1.PodIP{{IP: "10.244.1.5"}},
			ContainerStatuses: []corev1.ContainerStatus{
				{Name: "web", Ready: true, State: running(2 * time.Hour), RestartCount: 2,
					LastTerminationState: terminated("Error", 1, 5*time.Minute)},
				{Name: "sidecar", Ready: true, State: running(3 * time.Hour)},
			},
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}},
		},
	}
	pending := &corev1.Pod{
		ObjectMeta: meta("default", "pending", 30*time.Second),
		Spec:       corev1.PodSpec{Containers: containers("app")},
		Status:     corev1.PodStatus{Phase: corev1.PodPending},
	}
	creating := &corev1.Pod{
		ObjectMeta: meta("default", "creating", 90*time.Second),
		Spec:       corev1.PodSpec{NodeName: "node-2", Containers: containers("app")},
		Status: corev1.PodStatus{Phase: corev1.PodPending,
			ContainerStatuses: []corev1.ContainerStatus{{Name: "app", State: waiting("ContainerCreating")}}},
	}
	crash := &corev1.Pod{
		ObjectMeta: meta("default", "crasher", 9*24*time.Hour),
		Spec:       corev1.PodSpec{NodeName: "node-1", Containers: containers("app")},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.244.1.9", PodIPs: []corev1.PodIP{{IP: "10.244.1.9"}},
			ContainerStatuses: []corev1.ContainerStatus{{Name: "app", State: waiting("CrashLoopBackOff"), RestartCount: 112,
				LastTerminationState: terminated("Error", 2, 45*time.Second)}}},
	}
	initPod := &corev1.Pod{
		ObjectMeta: meta("default", "initializing", 5*time.Minute+30*time.Second),
		Spec: corev1.PodSpec{NodeName: "node-2", InitContainers: containers("migrate", "seed"), Containers: containers("app"),
			ReadinessGates: []corev1.PodReadinessGate{{ConditionType: "example.com/lb"}}},
		Status: corev1.PodStatus{Phase: corev1.PodPending,
			InitContainerStatuses: []corev1.ContainerStatus{
				{Name: "migrate", State: terminated("Completed", 0, time.Minute)},
				{Name: "seed", State: running(time.Minute)},
			},
			ContainerStatuses: []corev1.ContainerStatus{{Name: "app", State: waiting("PodInitializing")}}},
	}
	initFail := &corev1.Pod{
		ObjectMeta: meta("default", "init-fails", time.Hour),
		Spec:       corev1.PodSpec{InitContainers: containers("migrate"), Containers: containers("app")},
		Status: corev1.PodStatus{Phase: corev1.PodPending,
			InitContainerStatuses: []corev1.ContainerStatus{{Name: "migrate", State: waiting("CrashLoopBackOff"), RestartCount: 3}}},
	}
	completed := &corev1.Pod{
		ObjectMeta: meta("default", "job-x-9k2lp", 26*time.Hour),
		Spec:       corev1.PodSpec{NodeName: "node-1", Containers: containers("task")},
		Status: corev1.PodStatus{Phase: corev1.PodSucceeded,
			ContainerStatuses: []corev1.ContainerStatus{{Name: "task", State: terminated("Completed", 0, 25*time.Hour)}}},
	}
	errImage := &corev1.Pod{
		ObjectMeta: meta("default", "bad-image", 2*time.Minute),
		Spec:       corev1.PodSpec{NodeName: "node-1", Containers: containers("app")},
		Status: corev1.PodStatus{Phase: corev1.PodPending,
			ContainerStatuses: []corev1.ContainerStatus{{Name: "app", State: waiting("ErrImagePull")}}},
	}
	exited := &corev1.Pod{
		ObjectMeta: meta("default", "exited", 10*time.Minute),
		Spec:       corev1.PodSpec{NodeName: "node-1", Containers: containers("app")},
		Status: corev1.PodStatus{Phase: corev1.PodFailed,
			ContainerStatuses: []corev1.ContainerStatus{{Name: "app", State: terminated("", 137, time.Minute)}}},
	}
	terminating := runningPod.DeepCopy()
	terminating.Name = "web-7d4b9c-zzzzz"
	terminating.DeletionTimestamp = agoPtr(-30 * time.Second)
	terminating.DeletionGracePeriodSeconds = ptr(int64(30))
	return []objects.Object{runningPod, pending, creating, crash, initPod, initFail, completed, errImage, exited, terminating}
}

func fixtureWorkloads() map[string][]objects.Object {
	dep := &appsv1.Deployment{
		ObjectMeta: meta("default", "web", 49*time.Hour),
		Spec:       appsv1.DeploymentSpec{Replicas: ptr(int32(3)), Selector: selector("web"), Template: template("web", "web", "sidecar")},
		Status:     appsv1.DeploymentStatus{Replicas: 3, ReadyReplicas: 2, UpdatedReplicas: 3, AvailableReplicas: 2, UnavailableReplicas: 1},
	}
	rs := &appsv1.ReplicaSet{
		ObjectMeta: meta("default", "web-7d4b9c", 49*time.Hour),
		Spec:       appsv1.ReplicaSetSpec{Replicas: ptr(int32(3)), Selector: selector("web"), Template: template("web", "web")},
		Status:     appsv1.ReplicaSetStatus{Replicas: 3, ReadyReplicas: 3},
	}
	ds := &appsv1.DaemonSet{
		ObjectMeta: meta("kube-system", "proxy", 400*24*time.Hour),
		Spec: appsv1.DaemonSetSpec{Selector: selector("proxy"), Template: func() corev1.PodTemplateSpec {
			t := template("proxy", "proxy")
			t.Spec.NodeSelector = map[string]string{"kubernetes.io/os": "linux"}
			return t
		}()},
		Status: appsv1.DaemonSetStatus{DesiredNumberScheduled: 3, CurrentNumberScheduled: 3, NumberReady: 2, UpdatedNumberScheduled: 3, NumberAvailable: 2},
	}
	sts := &appsv1.StatefulSet{
		ObjectMeta: meta("default", "db", 7*time.Minute),
		Spec:       appsv1.StatefulSetSpec{Replicas: ptr(int32(3)), Selector: selector("db"), Template: template("db", "postgres")},
		Status:     appsv1.StatefulSetStatus{ReadyReplicas: 1},
	}
	jobDone := &batchv1.Job{
		ObjectMeta: meta("default", "backup", 3*time.Hour),
		Spec: batchv1.JobSpec{Completions: ptr(int32(1)), Parallelism: ptr(int32(1)), Selector: &metav1.LabelSelector{
			MatchLabels: map[string]string{"batch.kubernetes.io/controller-uid": "u1"}}, Template: template("backup", "backup")},
		Status: batchv1.JobStatus{Succeeded: 1, StartTime: agoPtr(3 * time.Hour), CompletionTime: agoPtr(3*time.Hour - 47*time.Second),
			Conditions: []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionTrue}}},
	}
	jobRunning := &batchv1.Job{
		ObjectMeta: meta("default", "crunch", 4*time.Minute),
		Spec:       batchv1.JobSpec{Parallelism: ptr(int32(4)), Template: template("crunch", "crunch")},
		Status:     batchv1.JobStatus{Active: 4, StartTime: agoPtr(4 * time.Minute)},
	}
	jobFailed := &batchv1.Job{
		ObjectMeta: meta("default", "flaky", 20*time.Minute),
		Spec:       batchv1.JobSpec{Completions: ptr(int32(5)), Template: template("flaky", "flaky")},
		Status: batchv1.JobStatus{Succeeded: 2, Failed: 6, StartTime: agoPtr(20 * time.Minute),
			Conditions: []batchv1.JobCondition{{Type: batchv1.JobFailed, Status: corev1.ConditionTrue}}},
	}
	cj := &batchv1.CronJob{
		ObjectMeta: meta("default", "nightly", 10*24*time.Hour),
		Spec: batchv1.CronJobSpec{Schedule: "0 2 * * *", Suspend: ptr(false),
			JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: template("nightly", "backup")}}},
		Status: batchv1.CronJobStatus{LastScheduleTime: agoPtr(10 * time.Hour)},
	}
	cjTZ := &batchv1.CronJob{
		ObjectMeta: meta("default", "hourly", 50*time.Minute),
		Spec: batchv1.CronJobSpec{Schedule: "@hourly", TimeZone: ptr("Europe/Berlin"), Suspend: ptr(true),
			JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: template("hourly", "tick")}}},
		Status: batchv1.CronJobStatus{Active: []corev1.ObjectReference{{Name: "hourly-1"}}},
	}
	return map[string][]objects.Object{
		"deployment": {dep}, "replicaset": {rs}, "daemonset": {ds}, "statefulset": {sts},
		"job": {jobDone, jobRunning, jobFailed}, "cronjob": {cj, cjTZ},
	}
}

func fixtureCore() map[string][]objects.Object {
	svc := &corev1.Service{
		ObjectMeta: meta("default", "web", 49*time.Hour),
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, ClusterIP: "10.96.0.10", ClusterIPs: []string{"10.96.0.10"},
			Selector: map[string]string{"app": "web"},
			Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080), Protocol: corev1.ProtocolTCP},
				{Name: "dns", Port: 53, TargetPort: intstr.FromString("dns"), Protocol: corev1.ProtocolUDP}}},
	}
	np := &corev1.Service{
		ObjectMeta: meta("default", "web-np", time.Hour),
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, ClusterIP: "10.96.3.4", ClusterIPs: []string{"10.96.3.4"},
			Ports: []corev1.ServicePort{{Port: 80, NodePort: 30080, Protocol: corev1.ProtocolTCP}}},
	}
	lb := &corev1.Service{
		ObjectMeta: meta("default", "edge", time.Hour),
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, ClusterIP: "10.96.5.6", ClusterIPs: []string{"10.96.5.6"},
			Ports: []corev1.ServicePort{{Port: 443, NodePort: 31443, Protocol: corev1.ProtocolTCP}}},
	}
	headless := &corev1.Service{
		ObjectMeta: meta("default", "db", time.Hour),
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, ClusterIP: "None", ClusterIPs: []string{"None"}},
	}
	ext := &corev1.Service{
		ObjectMeta: meta("default", "search", time.Hour),
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "search.example.com"},
	}
	eps := &corev1.Endpoints{
		ObjectMeta: meta("default", "web", 49*time.Hour),
		Subsets: []corev1.EndpointSubset{{
			Addresses: []corev1.EndpointAddress{{IP: "10.244.1.5"}, {IP: "10.244.1.6"}, {IP: "10.244.2.7"}, {IP: "10.244.2.8"}, {IP: "10.244.3.9"}},
			Ports:     []corev1.EndpointPort{{Name: "http", Port: 8080}, {Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP}},
		}},
	}
	epsEmpty := &corev1.Endpoints{ObjectMeta: meta("default", "edge", time.Hour)}
	epsOne := &corev1.Endpoints{
		ObjectMeta: meta("default", "db", time.Hour),
		Subsets:    []corev1.EndpointSubset{{Addresses: []corev1.EndpointAddress{{IP: "10.244.1.20"}}}},
	}
	cm := &corev1.ConfigMap{
		ObjectMeta: meta("default", "settings", 2*time.Hour),
		Data:       map[string]string{"a": "1", "b": "2"}, BinaryData: map[string][]byte{"c": {1}},
	}
	secret := &corev1.Secret{
		ObjectMeta: meta("default", "db-creds", 2*time.Hour), Type: corev1.SecretTypeOpaque,
		Data: map[string][]byte{"username": []byte("admin"), "password": []byte("s3cr3t-pw")},
	}
	tls := &corev1.Secret{ObjectMeta: meta("default", "web-tls", 3*time.Minute), Type: corev1.SecretTypeTLS,
		Data: map[string][]byte{"tls.crt": []byte("x"), "tls.key": []byte("y")}}
	sa := &corev1.ServiceAccount{ObjectMeta: meta("default", "default", 400*time.Hour)}
	sa2 := &corev1.ServiceAccount{ObjectMeta: meta("default", "builder", time.Hour), Secrets: []corev1.ObjectReference{{Name: "builder-token"}}}
	ns := &corev1.Namespace{ObjectMeta: meta("", "default", 400*time.Hour), Status: corev1.NamespaceStatus{Phase: corev1.NamespaceActive}}
	nsGone := &corev1.Namespace{ObjectMeta: meta("", "old", time.Hour), Status: corev1.NamespaceStatus{Phase: corev1.NamespaceTerminating}}
	quota := &corev1.ResourceQuota{
		ObjectMeta: meta("default", "compute", time.Hour),
		Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{"requests.cpu": resource.MustParse("4"), "limits.cpu": resource.MustParse("8"),
			"pods": resource.MustParse("10"), "limits.memory": resource.MustParse("16Gi")}},
		Status: corev1.ResourceQuotaStatus{
			Hard: corev1.ResourceList{"requests.cpu": resource.MustParse("4"), "limits.cpu": resource.MustParse("8"),
				"pods": resource.MustParse("10"), "limits.memory": resource.MustParse("16Gi")},
			Used: corev1.ResourceList{"requests.cpu": resource.MustParse("500m"), "pods": resource.MustParse("3")}},
	}
	lr := &corev1.LimitRange{ObjectMeta: meta("default", "defaults", time.Hour)}
	return map[string][]objects.Object{
		"service": {svc, np, lb, headless, ext}, "endpoints": {eps, epsEmpty, epsOne},
		"configmap": {cm}, "secret": {secret, tls}, "serviceaccount": {sa, sa2},
		"namespace": {ns, nsGone}, "resourcequota": {quota}, "limitrange": {lr},
	}
}

func fixtureNodes() []objects.Object {
	ready := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: "node-1", CreationTimestamp: ago(30 * 24 * time.Hour),
			Labels: map[string]string{"node-role.kubernetes.io/control-plane": "", "kubernetes.io/hostname": "node-1"}},
		Status: corev1.NodeStatus{
			Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady",
				Message: "kubelet is posting ready status", LastHeartbeatTime: ago(10 * time.Second), LastTransitionTime: ago(30 * 24 * time.Hour)}},
			Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "192.168.1.10"}, {Type: corev1.NodeHostName, Address: "node-1"}},
			NodeInfo: corev1.NodeSystemInfo{KubeletVersion: "v1.32.0-strom", OSImage: "Debian GNU/Linux 12 (bookworm)",
				KernelVersion: "6.1.0-18-amd64", ContainerRuntimeVersion: "containerd://1.6.20", OperatingSystem: "linux", Architecture: "amd64"},
			Capacity:    corev1.ResourceList{"cpu": resource.MustParse("2"), "memory": resource.MustParse("24Gi"), "pods": resource.MustParse("110")},
			Allocatable: corev1.ResourceList{"cpu": resource.MustParse("2"), "memory": resource.MustParse("23Gi"), "pods": resource.MustParse("110")},
		},
	}
	cordoned := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: "node-2", CreationTimestamp: ago(3 * time.Hour),
			Labels: map[string]string{"node-role.kubernetes.io/worker": "", "kubernetes.io/role": "gpu"}},
		Spec: corev1.NodeSpec{Unschedulable: true},
		Status: corev1.NodeStatus{
			Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}},
			Addresses:  []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "192.168.1.11"}, {Type: corev1.NodeExternalIP, Address: "203.0.113.7"}},
			NodeInfo:   corev1.NodeSystemInfo{KubeletVersion: "v1.32.0-strom"},
		},
	}
	notReady := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: "node-3", CreationTimestamp: ago(3 * time.Hour)},
		Status:     corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionUnknown}}},
	}
	fresh := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-4", CreationTimestamp: ago(5 * time.Second)}}
	return []objects.Object{ready, cordoned, notReady, fresh}
}

func fixtureStorage() map[string][]objects.Object {
	fs := corev1.PersistentVolumeFilesystem
	pv := &corev1.PersistentVolume{
		ObjectMeta: meta("", "pv-data", 5*24*time.Hour),
		Spec: corev1.PersistentVolumeSpec{Capacity: corev1.ResourceList{"storage": resource.MustParse("10Gi")},
			AccessModes:                   []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce, corev1.ReadOnlyMany},
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain, StorageClassName: "local",
			ClaimRef: &corev1.ObjectReference{Namespace: "default", Name: "data"}, VolumeMode: &fs},
		Status: corev1.PersistentVolumeStatus{Phase: corev1.VolumeBound},
	}
	pvFree := &corev1.PersistentVolume{
		ObjectMeta: meta("", "pv-free", time.Hour),
		Spec: corev1.PersistentVolumeSpec{Capacity: corev1.ResourceList{"storage": resource.MustParse("1Gi")},
			AccessModes:                   []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany},
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimDelete},
		Status: corev1.PersistentVolumeStatus{Phase: corev1.VolumeAvailable},
	}
	pvc := &corev1.PersistentVolumeClaim{
		ObjectMeta: meta("default", "data", 5*24*time.Hour),
		Spec:       corev1.PersistentVolumeClaimSpec{VolumeName: "pv-data", StorageClassName: ptr("local"), VolumeMode: &fs},
		Status: corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimBound, Capacity: corev1.ResourceList{"storage": resource.MustParse("10Gi")},
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}},
	}
	pvcPending := &corev1.PersistentVolumeClaim{
		ObjectMeta: meta("default", "scratch", time.Minute),
		Status:     corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimPending},
	}
	return map[string][]objects.Object{"pv": {pv, pvFree}, "pvc": {pvc, pvcPending}}
}

func fixturePolicy() map[string][]objects.Object {
	ing := &networkingv1.Ingress{
		ObjectMeta: meta("default", "web", time.Hour),
		Spec: networkingv1.IngressSpec{IngressClassName: ptr("nginx"),
			TLS: []networkingv1.IngressTLS{{Hosts: []string{"a.example.com"}}},
			Rules: []networkingv1.IngressRule{{Host: "a.example.com"}, {Host: "b.example.com"}, {Host: "c.example.com"},
				{Host: "d.example.com"}, {Host: "e.example.com"}}},
		Status: networkingv1.IngressStatus{LoadBalancer: networkingv1.IngressLoadBalancerStatus{
			Ingress: []networkingv1.IngressLoadBalancerIngress{{IP: "192.0.2.10"}, {IP: "192.0.2.11"}}}},
	}
	ingAll := &networkingv1.Ingress{ObjectMeta: meta("default", "catch-all", time.Minute),
		Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{}}}}
	role := &rbacv1.Role{ObjectMeta: meta("default", "pod-reader", time.Hour),
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list"}}}}
	crole := &rbacv1.ClusterRole{ObjectMeta: meta("", "admin", 48*time.Hour)}
	subjects := []rbacv1.Subject{{Kind: "User", Name: "jane"}, {Kind: "Group", Name: "devs"},
		{Kind: "ServiceAccount", Namespace: "ci", Name: "builder"}, {Kind: "User", Name: "joe"}}
	rb := &rbacv1.RoleBinding{ObjectMeta: meta("default", "read-pods", time.Hour),
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "pod-reader"}, Subjects: subjects}
	crb := &rbacv1.ClusterRoleBinding{ObjectMeta: meta("", "admins", 48*time.Hour),
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "admin"}, Subjects: subjects[:1]}
	hpa := &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: meta("default", "web", time.Hour),
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{Kind: "Deployment", Name: "web", APIVersion: "apps/v1"},
			MinReplicas:    ptr(int32(2)), MaxReplicas: 10,
			Metrics: []autoscalingv2.MetricSpec{
				{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{Name: "cpu",
					Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr(int32(80))}}},
				{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{Name: "memory",
					Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: ptr(resource.MustParse("500Mi"))}}},
				{Type: autoscalingv2.PodsMetricSourceType, Pods: &autoscalingv2.PodsMetricSource{
					Target: autoscalingv2.MetricTarget{AverageValue: ptr(resource.MustParse("1k"))}}},
			}},
		Status: autoscalingv2.HorizontalPodAutoscalerStatus{CurrentReplicas: 3,
			CurrentMetrics: []autoscalingv2.MetricStatus{{Type: autoscalingv2.ResourceMetricSourceType,
				Resource: &autoscalingv2.ResourceMetricStatus{Name: "cpu", Current: autoscalingv2.MetricValueStatus{AverageUtilization: ptr(int32(42))}}}}},
	}
	hpaNone := &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: meta("default", "idle", time.Minute),
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{Kind: "StatefulSet", Name: "db"}, MaxReplicas: 3}}
	pdb := &policyv1.PodDisruptionBudget{ObjectMeta: meta("default", "web", time.Hour),
		Spec:   policyv1.PodDisruptionBudgetSpec{MinAvailable: ptr(intstr.FromInt32(2))},
		Status: policyv1.PodDisruptionBudgetStatus{DisruptionsAllowed: 1}}
	pdb2 := &policyv1.PodDisruptionBudget{ObjectMeta: meta("default", "db", time.Hour),
		Spec: policyv1.PodDisruptionBudgetSpec{MaxUnavailable: ptr(intstr.FromString("25%"))}}
	return map[string][]objects.Object{
		"ingress": {ing, ingAll}, "role": {role}, "clusterrole": {crole}, "rolebinding": {rb},
		"clusterrolebinding": {crb}, "hpa": {hpa, hpaNone}, "pdb": {pdb, pdb2},
	}
}

func fixtureEvents() []*corev1.Event {
	return []*corev1.Event{
		{ObjectMeta: meta("default", "web-abc.17a1", 2*time.Minute), Type: corev1.EventTypeNormal, Reason: "Pulled",
			Message: "Container image \"web:1.0\" already present on machine", Source: corev1.EventSource{Component: "kubelet", Host: "node-1"},
			InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "web-7d4b9c-abcde", FieldPath: "spec.containers{web}"},
			FirstTimestamp: ago(2 * time.Minute), LastTimestamp: ago(2 * time.Minute), Count: 1},
		{ObjectMeta: meta("default", "web-abc.17a0", 3*time.Hour), Type: corev1.EventTypeNormal, Reason: "Scheduled",
			Message: "Successfully assigned default/web-7d4b9c-abcde to node-1", ReportingController: "strom-scheduler",
			InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "web-7d4b9c-abcde"},
			EventTime:      metav1.NewMicroTime(now.Add(-3 * time.Hour))},
		{ObjectMeta: meta("default", "web-abc.17a2", 20*time.Minute), Type: corev1.EventTypeWarning, Reason: "BackOff",
			Message: "Back-off restarting failed container web in pod web-7d4b9c-abcde\n", Source: corev1.EventSource{Component: "kubelet", Host: "node-1"},
			InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "web-7d4b9c-abcde", FieldPath: "spec.containers{web}"},
			FirstTimestamp: ago(20 * time.Minute), LastTimestamp: ago(30 * time.Second), Count: 14},
	}
}
