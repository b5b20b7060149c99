package printers

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/strom-project/strom/events/objects"
)

func describePod() *corev1.Pod {
	p := fixturePods()[0].(*corev1.Pod).DeepCopy()
	p.Labels = map[string]string{"app": "web", "pod-template-hash": "7d4b9c"}
	p.Annotations = map[string]string{"strom.dev/restartedAt": "2024-05-01T09:00:00Z"}
	p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web-7d4b9c", UID: "uid-web-7d4b9c", Controller: ptr(true)}}
	p.Spec.Priority = ptr(int32(0))
	p.Spec.ServiceAccountName = "default"
	p.Status.HostIP = "192.168.1.10"
	p.Status.StartTime = agoPtr(3 * time.Hour)
	p.Status.QOSClass = corev1.PodQOSBurstable
	web := &p.Spec.Containers[0]
	web.Ports = []corev1.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP}}
	web.Command = []string{"/bin/web", "--listen=:8080"}
	web.Resources = corev1.ResourceRequirements{
		Limits:   corev1.ResourceList{"cpu": resource.MustParse("500m"), "memory": resource.MustParse("256Mi")},
		Requests: corev1.ResourceList{"cpu": resource.MustParse("250m"), "memory": resource.MustParse("128Mi")},
	}
	web.LivenessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt32(8080), Scheme: corev1.URISchemeHTTP}},
		TimeoutSeconds: 1, PeriodSeconds: 10, SuccessThreshold: 1, FailureThreshold: 3}
	web.Env = []corev1.EnvVar{
		{Name: "MODE", Value: "production"},
		{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.name"}}},
		{Name: "DB_PASSWORD", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "db-creds"}, Key: "password"}}},
	}
	web.EnvFrom = []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "settings"}}}}
	web.VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/var/lib/web"}, {Name: "config", MountPath: "/etc/web", ReadOnly: true}}
	p.Spec.Containers[1].Ports = []corev1.ContainerPort{{ContainerPort: 9090, Protocol: corev1.ProtocolTCP}, {ContainerPort: 9091, Protocol: corev1.ProtocolUDP}}
	p.Spec.Volumes = []corev1.Volume{
		{Name: "data", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "settings"}}}},
		{Name: "creds", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "db-creds"}}},
	}
	p.Spec.NodeSelector = map[string]string{"kubernetes.io/os": "linux"}
	p.Spec.Tolerations = []corev1.Toleration{
		{Key: "node.kubernetes.io/not-ready", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr(int64(300))},
		{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "web", Effect: corev1.TaintEffectNoSchedule},
	}
	p.Status.Conditions = []corev1.PodCondition{
		{Type: corev1.PodInitialized, Status: corev1.ConditionTrue},
		{Type: corev1.PodReady, Status: corev1.ConditionTrue},
		{Type: corev1.ContainersReady, Status: corev1.ConditionTrue},
		{Type: corev1.PodScheduled, Status: corev1.ConditionTrue},
	}
	p.Status.ContainerStatuses[0].ContainerID = "containerd://abc123"
	p.Status.ContainerStatuses[0].ImageID = "sha256:feed"
	return p
}

func describeDeployment() (*appsv1.Deployment, []*appsv1.ReplicaSet) {
	d := fixtureWorkloads()["deployment"][0].(*appsv1.Deployment).DeepCopy()
	d.Labels = map[string]string{"app": "web"}
	d.Annotations = map[string]string{"deployment.kubernetes.io/revision": "2", lastApplied: `{"kind":"Deployment"}`}
	d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType,
		RollingUpdate: &appsv1.RollingUpdateDeployment{MaxUnavailable: ptr(intstr.FromString("25%")), MaxSurge: ptr(intstr.FromString("25%"))}}
	d.Status.Conditions = []appsv1.DeploymentCondition{
		{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionFalse, Reason: "MinimumReplicasUnavailable"},
		{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "NewReplicaSetAvailable"},
	}
	owner := []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: "web", UID: d.UID, Controller: ptr(true)}}
	newTpl := d.Spec.Template.DeepCopy()
	newTpl.Labels["pod-template-hash"] = "7d4b9c"
	oldTpl := newTpl.DeepCopy()
	oldTpl.Spec.Containers[0].Image = "web:0.9"
	oldTpl.Labels["pod-template-hash"] = "5f6a7b"
	newRS := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web-7d4b9c", UID: "uid-rs-new", OwnerReferences: owner, CreationTimestamp: ago(time.Hour)},
		Spec: appsv1.ReplicaSetSpec{Replicas: ptr(int32(3)), Template: *newTpl}, Status: appsv1.ReplicaSetStatus{Replicas: 3}}
	oldRS := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web-5f6a7b", UID: "uid-rs-old", OwnerReferences: owner, CreationTimestamp: ago(49 * time.Hour)},
		Spec: appsv1.ReplicaSetSpec{Replicas: ptr(int32(1)), Template: *oldTpl}, Status: appsv1.ReplicaSetStatus{Replicas: 1}}
	drained := oldRS.DeepCopy()
	drained.Name, drained.UID, drained.Spec.Replicas, drained.Status.Replicas = "web-0000", "uid-rs-drained", ptr(int32(0)), 0
	stranger := newRS.DeepCopy()
	stranger.Name, stranger.UID, stranger.OwnerReferences = "other-7d4b9c", "uid-rs-other", nil
	return d, []*appsv1.ReplicaSet{newRS, oldRS, drained, stranger}
}

func describeToString(t *testing.T, obj objects.Object, rel Related) string {
	t.Helper()
	var buf bytes.Buffer
	if err := DescribeRelated(&buf, obj, rel, now); err != nil {
		t.Fatalf("describing %s: %v", obj.GetName(), err)
	}
	return buf.String()
}

func mustContain(t *testing.T, out string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

func TestDescribePod(t *testing.T) {
	out := describeToString(t, describePod(), Related{Events: fixtureEvents()})
	golden(t, "describe_pod", []byte(out))
	mustContain(t, out,
		"Controlled By:  ReplicaSet/web-7d4b9c\n",
		"Node:             node-1/192.168.1.10\n",
		"POD_NAME:     web-7d4b9c-abcde (v1:metadata.name)",
		"DB_PASSWORD:  <set to the key 'password' in secret 'db-creds'>  Optional: false",
		"/etc/web from config (ro)\n      /var/lib/web from data (rw)",
		"  Normal   Scheduled  3h                  strom-scheduler  Successfully assigned",
		"  Warning  BackOff    30s (x14 over 20m)  kubelet          Back-off restarting")
}

func TestDescribePodNoStatusNoEvents(t *testing.T) {
	p := fixturePods()[1].(*corev1.Pod)
	out := describeToString(t, p, Related{})
	golden(t, "describe_pod_pending", []byte(out))
	mustContain(t, out, "Node:         <none>\n", "IPs:          <none>\n", "Events:           <none>\n", "QoS Class:        BestEffort\n")
	if strings.Contains(out, "Container ID:") {
		t.Errorf("a container without status shows a container ID:\n%s", out)
	}
	if out := describeToString(t, p, Related{HideEvents: true}); strings.Contains(out, "Events") {
		t.Errorf("events shown despite HideEvents:\n%s", out)
	}
}

func TestDescribeDeployment(t *testing.T) {
	d, rss := describeDeployment()
	out := describeToString(t, d, Related{Events: fixtureEvents()[:1], ReplicaSets: rss})
	golden(t, "describe_deployment", []byte(out))
	mustContain(t, out,
		"Replicas:               3 desired | 3 updated | 3 total | 2 available | 1 unavailable\n",
		"RollingUpdateStrategy:  25% max unavailable, 25% max surge\n",
		"OldReplicaSets:  web-0000 (0/0 replicas created), web-5f6a7b (1/1 replicas created)\n",
		"NewReplicaSet:   web-7d4b9c (3/3 replicas created)\n")
	for _, absent := range []string{"other-7d4b9c", lastApplied} {
		if strings.Contains(out, absent) {
			t.Errorf("output should not mention %q:\n%s", absent, out)
		}
	}
	// Without replica sets the two lines are left out, as kubectl does when
	// it cannot list them.
	if out := describeToString(t, d, Related{}); strings.Contains(out, "NewReplicaSet:") {
		t.Errorf("NewReplicaSet shown without replica sets:\n%s", out)
	}
}

func TestDescribeReplicaSet(t *testing.T) {
	rs := fixtureWorkloads()["replicaset"][0].(*appsv1.ReplicaSet)
	owner := []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs.Name, UID: rs.UID, Controller: ptr(true)}}
	pods := []*corev1.Pod{}
	for _, o := range fixturePods() {
		p := o.(*corev1.Pod).DeepCopy()
		p.Labels = map[string]string{"app": "web"}
		p.OwnerReferences = owner
		pods = append(pods, p)
	}
	pods[1].Namespace = "other"   // a Pending pod elsewhere
	pods[2].OwnerReferences = nil // a Pending pod nobody controls
	pods[3].Labels = nil          // a Running pod the selector misses
	out := describeToString(t, rs, Related{Pods: pods})
	golden(t, "describe_replicaset", []byte(out))
	// The ten fixture pods are Running x3, Pending x5, Succeeded x1 and
	// Failed x1; one Running and two Pending ones do not count.
	mustContain(t, out, "Pods Status:  2 Running / 3 Waiting / 1 Succeeded / 1 Failed\n")
}

func TestDescribeService(t *testing.T) {
	svc := fixtureCore()["service"][0].(*corev1.Service).DeepCopy()
	svc.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv4Protocol}
	svc.Spec.IPFamilyPolicy = ptr(corev1.IPFamilyPolicySingleStack)
	svc.Spec.SessionAffinity = corev1.ServiceAffinityNone
	svc.Spec.InternalTrafficPolicy = ptr(corev1.ServiceInternalTrafficPolicyCluster)
	eps := fixtureCore()["endpoints"][0].(*corev1.Endpoints)
	out := describeToString(t, svc, Related{Endpoints: eps})
	golden(t, "describe_service", []byte(out))
	mustContain(t, out,
		"Port:                     http  80/TCP\n",
		"TargetPort:               8080/TCP\n",
		"Endpoints:                10.244.1.5:8080,10.244.1.6:8080,10.244.2.7:8080 + 2 more...\n",
		"TargetPort:               dns/UDP\n",
		"Session Affinity:         None\n")

	np := fixtureCore()["service"][1].(*corev1.Service)
	out = describeToString(t, np, Related{})
	golden(t, "describe_service_nodeport", []byte(out))
	mustContain(t, out, "Port:              <unset>  80/TCP\n", "NodePort:          <unset>  30080/TCP\n", "Endpoints:         <none>\n")
}

func TestDescribeNode(t *testing.T) {
	n := fixtureNodes()[0].(*corev1.Node).DeepCopy()
	n.Spec.Taints = []corev1.Taint{{Key: "node-role.kubernetes.io/control-plane", Effect: corev1.TaintEffectNoSchedule}}
	n.Spec.PodCIDR, n.Spec.PodCIDRs = "10.244.1.0/24", []string{"10.244.1.0/24"}
	pod := describePod()
	other := pod.DeepCopy()
	other.Name, other.Spec.NodeName = "elsewhere", "node-2"
	done := fixturePods()[6].(*corev1.Pod)
	out := describeToString(t, n, Related{Pods: []*corev1.Pod{pod, other, done}})
	golden(t, "describe_node", []byte(out))
	mustContain(t, out,
		"Roles:              control-plane\n",
		"Taints:             node-role.kubernetes.io/control-plane:NoSchedule\n",
		"  Ready   True    ",
		"Non-terminated Pods:          (1 in total)\n",
		"  cpu                250m (12%)  500m (25%)\n",
		"  memory             128Mi (0%)  256Mi (1%)\n")
}

func TestDescribeSecretNeverShowsValues(t *testing.T) {
	s := fixtureCore()["secret"][0].(*corev1.Secret).DeepCopy()
	s.StringData = map[string]string{"api-key": "tok-very-secret"}
	s.Annotations = map[string]string{lastApplied: `{"data":{"password":"` + base64.StdEncoding.EncodeToString(s.Data["password"]) + `"}}`}
	sa := &corev1.Secret{ObjectMeta: meta("default", "sa-token", time.Hour), Type: corev1.SecretTypeServiceAccountToken,
		Data: map[string][]byte{"token": []byte("eyJhbGciOi.secret-jwt"), "ca.crt": []byte("-----BEGIN CERT")}}
	for _, sec := range []*corev1.Secret{s, sa} {
		out := describeToString(t, sec, Related{Events: fixtureEvents()})
		golden(t, "describe_secret_"+sec.Name, []byte(out))
		for k, v := range sec.Data {
			if strings.Contains(out, string(v)) || strings.Contains(out, base64.StdEncoding.EncodeToString(v)) {
				t.Errorf("secret %s: value of %q appears in describe output:\n%s", sec.Name, k, out)
			}
			mustContain(t, out, k+":")
		}
		for k, v := range sec.StringData {
			if strings.Contains(out, v) {
				t.Errorf("secret %s: stringData value of %q appears in describe output:\n%s", sec.Name, k, out)
			}
		}
	}
	out := describeToString(t, s, Related{})
	mustContain(t, out, "password:  9 bytes\n", "username:  5 bytes\n", "api-key:   15 bytes\n", "Type:  Opaque\n")
}

func TestDescribeConfigMapAndNamespace(t *testing.T) {
	cm := fixtureCore()["configmap"][0].(*corev1.ConfigMap).DeepCopy()
	cm.Data["nginx.conf"] = "server {\n\tlisten 80;\n}\n"
	out := describeToString(t, cm, Related{})
	golden(t, "describe_configmap", []byte(out))
	mustContain(t, out, "nginx.conf:\n----\nserver {\n\tlisten 80;\n}\n\n", "c: 1 bytes\n")

	ns := fixtureCore()["namespace"][0].(*corev1.Namespace)
	quota := fixtureCore()["resourcequota"][0].(*corev1.ResourceQuota)
	lr := &corev1.LimitRange{ObjectMeta: meta("default", "defaults", time.Hour), Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{{
		Type: corev1.LimitTypeContainer, Default: corev1.ResourceList{"cpu": resource.MustParse("500m")},
		DefaultRequest: corev1.ResourceList{"cpu": resource.MustParse("100m"), "memory": resource.MustParse("64Mi")}}}}}
	out = describeToString(t, ns, Related{ResourceQuotas: []*corev1.ResourceQuota{quota}, LimitRanges: []*corev1.LimitRange{lr}})
	golden(t, "describe_namespace", []byte(out))
	mustContain(t, out, "Status:       Active\n", "requests.cpu   500m  4\n", " Container  memory    -    -    64Mi")
	out = describeToString(t, ns, Related{})
	mustContain(t, out, "No resource quota.\n", "No LimitRange resource.\n")
}

func TestDescribeGenericFallback(t *testing.T) {
	f := allTableFixtures()
	for _, name := range []string{"rolebinding", "hpa", "pvc", "cronjob", "ingress"} {
		obj := f[name][0]
		out := describeToString(t, obj, Related{})
		golden(t, "describe_generic_"+name, []byte(out))
		k, _ := objects.KindOf(obj)
		mustContain(t, out, "Name:", "Kind:               "+k.Kind+"\n", "Events:")
	}
	out := describeToString(t, f["rolebinding"][0], Related{})
	mustContain(t, out, "Role Ref:\n  apiGroup: rbac.authorization.k8s.io\n  kind: Role\n  name: pod-reader\n", "Subjects:\n  - kind: User\n")
}

// TestDescribeEveryKind describes every fixture object: each kind has a
// page that starts with its name and, except where kubectl shows none,
// its events.
func TestDescribeEveryKind(t *testing.T) {
	for name, objs := range allTableFixtures() {
		for _, o := range objs {
			out := describeToString(t, o, Related{Events: fixtureEvents()[:1]})
			if !strings.HasPrefix(out, "Name:") || !strings.Contains(out, o.GetName()) {
				t.Errorf("%s %s: page does not start with its name:\n%s", name, o.GetName(), out)
			}
			// kubectl shows no events for secrets and namespaces.
			_, isSecret := o.(*corev1.Secret)
			_, isNamespace := o.(*corev1.Namespace)
			if !isSecret && !isNamespace && !strings.Contains(out, "Events:\n  Type    Reason  Age") {
				t.Errorf("%s %s: page lacks its events:\n%s", name, o.GetName(), out)
			}
		}
	}
	var buf bytes.Buffer
	if err := Describe(&buf, &notStored{}, nil, now); err == nil {
		t.Error("want an error for a type that is not a stored kind")
	}
}
