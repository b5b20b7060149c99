package objects

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestValidateConfigAndStorage(t *testing.T) {
	cm := func(body string) string { return doc("v1", "ConfigMap", body) }
	sec := func(body string) string { return doc("v1", "Secret", body) }
	pv := func(spec string) string {
		return "apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: pv1}\nspec: " + spec
	}
	pvc := func(spec string) string { return doc("v1", "PersistentVolumeClaim", "spec: "+spec) }
	runBadCases(t, []badCase{
		{name: "configmap key", doc: cm("data: {'bad key': x, good.key: z}"),
			want: []string{"data[bad key]: Invalid value"}},
		{name: "configmap key not '..'", doc: cm("data: {'..': x}"),
			want: []string{"data[..]: Invalid value"}},
		{name: "configmap key in data and binaryData", doc: cm("data: {a: x}\nbinaryData: {a: eA==}"),
			want: []string{"binaryData[a]: Invalid value"}},
		{name: "secret key", doc: sec("data: {'a/b': eA==}"),
			want: []string{"data[a/b]: Invalid value"}},
		{name: "tls secret keys", doc: sec("type: kubernetes.io/tls\ndata: {tls.crt: eA==}"),
			want: []string{"data[tls.key]: Required value"}},
		{name: "tls secret keys from stringData", doc: sec("type: kubernetes.io/tls\nstringData: {tls.crt: x, tls.key: z}")},
		{name: "docker config JSON", doc: sec("type: kubernetes.io/dockerconfigjson\nstringData: {.dockerconfigjson: '{not json'}"),
			want: []string{"data[.dockerconfigjson]: Invalid value"}},
		{name: "basic auth", doc: sec("type: kubernetes.io/basic-auth\nstringData: {token: x}"),
			want: []string{"data[username]: Required value"}},
		{name: "pv required fields", doc: pv("{hostPath: {path: /data}}"),
			want: []string{"spec.accessModes: Required value", "spec.capacity: Required value"}},
		{name: "pv capacity is storage only", doc: pv("{capacity: {storage: 1Gi, cpu: '1'}, accessModes: [ReadWriteOnce], hostPath: {path: /data}}"),
			want: []string{"spec.capacity: Unsupported value"}},
		{name: "pv source required", doc: pv("{capacity: {storage: 1Gi}, accessModes: [ReadWriteOnce]}"),
			want: []string{"spec: Required value"}},
		{name: "pv one source", doc: pv("{capacity: {storage: 1Gi}, accessModes: [ReadWriteOnce], hostPath: {path: /data}, nfs: {server: nfs, path: /x}}"),
			want: []string{"spec.nfs: Forbidden"}},
		{name: "local pv needs node affinity", doc: pv("{capacity: {storage: 1Gi}, accessModes: [ReadWriteOnce], local: {path: /mnt/disk}}"),
			want: []string{"spec.nodeAffinity: Required value"}},
		{name: "pv reclaim policy and access mode", doc: pv("{capacity: {storage: 1Gi}, accessModes: [ReadWriteSometimes], persistentVolumeReclaimPolicy: Keep, hostPath: {path: /d}}"),
			want: []string{"spec.accessModes[0]: Unsupported value", "spec.persistentVolumeReclaimPolicy: Unsupported value"}},
		{name: "pvc storage request", doc: pvc("{accessModes: [ReadWriteOnce]}"),
			want: []string{"spec.resources.requests[storage]: Required value"}},
		{name: "pvc storage positive", doc: pvc("{accessModes: [ReadWriteOnce], resources: {requests: {storage: '0'}}}"),
			want: []string{"spec.resources.requests[storage]: Invalid value"}},
		{name: "pvc modes", doc: pvc("{volumeMode: Raw, resources: {requests: {storage: 1Gi}}}"),
			want: []string{"spec.accessModes: Required value", "spec.volumeMode: Unsupported value"}},
	})
}

// TestValidateDataSize builds objects over the 1 MiB data limit directly:
// Decode refuses such documents before validation is reached.
func TestValidateDataSize(t *testing.T) {
	big := strings.Repeat("x", 600*1024)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "c", Namespace: "default"},
		Data: map[string]string{"a": big, "b": big}}
	if got := errKeys(Validate(cm)); len(got) != 1 || got[0] != "data: Too long" {
		t.Errorf("configmap over 1 MiB: got %q", got)
	}
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "default"}, Type: corev1.SecretTypeOpaque,
		Data: map[string][]byte{"a": []byte(big)}, StringData: map[string]string{"b": big}}
	if got := errKeys(Validate(sec)); len(got) != 1 || got[0] != "data: Too long" {
		t.Errorf("secret over 1 MiB: got %q", got)
	}
	cm.Data = map[string]string{"a": big}
	if errs := Validate(cm); len(errs) != 0 {
		t.Errorf("configmap under 1 MiB rejected: %v", errs.ToAggregate())
	}
}

func TestValidateRBAC(t *testing.T) {
	role := func(rules string) string { return doc("rbac.authorization.k8s.io/v1", "Role", "rules: "+rules) }
	rb := func(body string) string { return doc("rbac.authorization.k8s.io/v1", "RoleBinding", body) }
	crb := func(body string) string {
		return "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: x}\n" + body
	}
	runBadCases(t, []badCase{
		{name: "verbs required", doc: role("[{apiGroups: [''], resources: [pods]}]"),
			want: []string{"rules[0].verbs: Required value"}},
		{name: "resource rules need groups and resources", doc: role("[{verbs: [get]}]"),
			want: []string{"rules[0].apiGroups: Required value", "rules[0].resources: Required value"}},
		{name: "namespaced rules take no URLs", doc: role("[{verbs: [get], nonResourceURLs: [/healthz]}]"),
			want: []string{"rules[0].nonResourceURLs: Invalid value"}},
		{name: "cluster role with aggregation only", doc: "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: agg}\naggregationRule: {clusterRoleSelectors: [{matchLabels: {rbac.example.com/aggregate: 'true'}}]}\n"},
		{name: "roleRef kind", doc: rb("roleRef: {kind: User, name: r}\nsubjects: [{kind: User, name: jane}]"),
			want: []string{"roleRef.kind: Unsupported value"}},
		{name: "roleRef name and group", doc: rb("roleRef: {apiGroup: example.com, kind: Role}"),
			want: []string{"roleRef.apiGroup: Unsupported value", "roleRef.name: Required value"}},
		{name: "roleRef apiGroup defaults", doc: rb("roleRef: {kind: ClusterRole, name: view}\nsubjects: [{kind: Group, name: devs}]")},
		{name: "subject kind", doc: rb("roleRef: {kind: Role, name: r}\nsubjects: [{kind: Robot, name: r2d2}]"),
			want: []string{"subjects[0].kind: Unsupported value"}},
		{name: "subject name", doc: rb("roleRef: {kind: Role, name: r}\nsubjects: [{kind: ServiceAccount, apiGroup: rbac.authorization.k8s.io}]"),
			want: []string{"subjects[0].name: Required value", "subjects[0].apiGroup: Unsupported value"}},
		{name: "cluster binding service account namespace", doc: crb("roleRef: {kind: ClusterRole, name: view}\nsubjects: [{kind: ServiceAccount, name: robot}]"),
			want: []string{"subjects[0].namespace: Required value"}},
		{name: "cluster binding binds cluster roles", doc: crb("roleRef: {kind: Role, name: view}"),
			want: []string{"roleRef.kind: Unsupported value"}},
	})
}

func TestValidateOtherKinds(t *testing.T) {
	hpa := func(spec string) string { return doc("autoscaling/v2", "HorizontalPodAutoscaler", "spec: "+spec) }
	const target = "scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}"
	pdb := func(spec string) string { return doc("policy/v1", "PodDisruptionBudget", "spec: "+spec) }
	runBadCases(t, []badCase{
		{name: "hpa min over max", doc: hpa("{" + target + ", minReplicas: 5, maxReplicas: 2}"),
			want: []string{"spec.maxReplicas: Invalid value"}, detail: "must be greater than or equal to `minReplicas`"},
		{name: "hpa max at least 1", doc: hpa("{" + target + ", maxReplicas: 0}"),
			want: []string{"spec.maxReplicas: Invalid value", "spec.maxReplicas: Invalid value"}},
		{name: "hpa min at least 1", doc: hpa("{" + target + ", minReplicas: 0, maxReplicas: 3}"),
			want: []string{"spec.minReplicas: Invalid value"}},
		{name: "hpa target", doc: hpa("{scaleTargetRef: {kind: Deployment}, maxReplicas: 3}"),
			want: []string{"spec.scaleTargetRef.name: Required value"}},
		{name: "hpa metric target", doc: hpa("{" + target + ", maxReplicas: 3, metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 0}}}]}"),
			want: []string{"spec.metrics[0].resource.target.averageUtilization: Invalid value"}},
		{name: "hpa metric type", doc: hpa("{" + target + ", maxReplicas: 3, metrics: [{type: Pods, resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}}]}"),
			want: []string{"spec.metrics[0].resource: Forbidden"}},
		{name: "hpa behavior", doc: hpa("{" + target + ", maxReplicas: 3, behavior: {scaleUp: {stabilizationWindowSeconds: 7200}}}"),
			want: []string{"spec.behavior.scaleUp.stabilizationWindowSeconds: Invalid value"}},
		{name: "pdb both", doc: pdb("{minAvailable: 1, maxUnavailable: 1}"),
			want: []string{"spec: Invalid value"}},
		{name: "pdb neither", doc: pdb("{selector: {matchLabels: {app: web}}}"),
			want: []string{"spec.minAvailable: Required value"}},
		{name: "pdb percentage", doc: pdb("{maxUnavailable: '150%'}"),
			want: []string{"spec.maxUnavailable: Invalid value"}},
		{name: "quota", doc: doc("v1", "ResourceQuota", "spec: {hard: {pods: '-1'}, scopes: [Sometimes]}"),
			want: []string{"spec.hard[pods]: Invalid value", "spec.scopes[0]: Unsupported value"}},
		{name: "limit range type", doc: doc("v1", "LimitRange", "spec: {limits: [{type: Node, max: {cpu: '1'}}]}"),
			want: []string{"spec.limits[0].type: Unsupported value"}},
		{name: "limit range min over max", doc: doc("v1", "LimitRange", "spec: {limits: [{type: Pod, min: {cpu: '2'}, max: {cpu: '1'}}]}"),
			want: []string{"spec.limits[0].min[cpu]: Invalid value"}},
		{name: "limit range pod has no defaults", doc: doc("v1", "LimitRange", "spec: {limits: [{type: Pod, default: {cpu: '1'}}]}"),
			want: []string{"spec.limits[0].default: Forbidden"}},
		{name: "event involved object", doc: doc("v1", "Event", "reason: X\ntype: Bad"),
			want: []string{"involvedObject.kind: Required value", "involvedObject.name: Required value", "type: Unsupported value"}},
		{name: "event namespace", doc: doc("v1", "Event", "involvedObject: {kind: Pod, name: p, namespace: other}"),
			want: []string{"involvedObject.namespace: Invalid value"}},
		{name: "service account pull secret", doc: doc("v1", "ServiceAccount", "imagePullSecrets: [{}]"),
			want: []string{"imagePullSecrets[0].name: Required value"}},
		{name: "namespace finalizer", doc: "apiVersion: v1\nkind: Namespace\nmetadata: {name: ns}\nspec: {finalizers: ['a b']}\n",
			want: []string{"spec.finalizers[0]: Invalid value"}},
		{name: "node taints and CIDR", doc: "apiVersion: v1\nkind: Node\nmetadata: {name: node-1}\nspec: {podCIDR: 10.0.0.0/33, taints: [{key: gpu}]}\n",
			want: []string{"spec.podCIDR: Invalid value", "spec.taints[0].effect: Required value"}},
	})
}

func TestValidateHPAMetricSource(t *testing.T) {
	runBadCases(t, []badCase{
		{name: "metric source matches type", doc: doc("autoscaling/v2", "HorizontalPodAutoscaler",
			"spec: {scaleTargetRef: {kind: Deployment, name: web}, maxReplicas: 3, metrics: [{type: Resource, pods: {metric: {name: qps}, target: {type: AverageValue, averageValue: '10'}}}]}"),
			want: []string{"spec.metrics[0].pods: Forbidden"}},
		{name: "metric needs one source", doc: doc("autoscaling/v2", "HorizontalPodAutoscaler",
			"spec: {scaleTargetRef: {kind: Deployment, name: web}, maxReplicas: 3, metrics: [{type: Pods}]}"),
			want: []string{"spec.metrics[0]: Invalid value"}},
	})
}
