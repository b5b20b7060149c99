package objects

import (
	"strings"
	"testing"
)

func TestValidateMeta(t *testing.T) {
	long := strings.Repeat("a", 53)
	runBadCases(t, []badCase{
		{name: "name required", doc: "apiVersion: v1\nkind: ConfigMap\nmetadata: {namespace: default}\n",
			want: []string{"metadata.name: Required value"}},
		{name: "generateName stands in for name", doc: "apiVersion: v1\nkind: ConfigMap\nmetadata: {generateName: cfg-, namespace: default}\n"},
		{name: "bad generateName", doc: "apiVersion: v1\nkind: ConfigMap\nmetadata: {generateName: Cfg_, namespace: default}\n",
			want: []string{"metadata.generateName: Invalid value"}},
		{name: "subdomain name", doc: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Bad_Name, namespace: default}\n",
			want: []string{"metadata.name: Invalid value"}, detail: "RFC 1123 subdomain"},
		{name: "namespace name is a label", doc: "apiVersion: v1\nkind: Namespace\nmetadata: {name: a.b}\n",
			want: []string{"metadata.name: Invalid value"}, detail: "must not contain dots"},
		{name: "service name is a DNS-1035 label", doc: "apiVersion: v1\nkind: Service\nmetadata: {name: 1web, namespace: default}\nspec: {ports: [{port: 80}]}\n",
			want: []string{"metadata.name: Invalid value"}, detail: "DNS-1035 label"},
		{name: "statefulset name is a label", doc: "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: web.v1, namespace: default}\nspec: {selector: {matchLabels: {app: web}}, " + tmpl + "}\n",
			want: []string{"metadata.name: Invalid value"}},
		{name: "cronjob name at most 52", doc: "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: " + long + ", namespace: default}\nspec: {schedule: '@hourly', jobTemplate: {spec: {template: {spec: {restartPolicy: Never, containers: [{name: c, image: busybox}]}}}}}\n",
			want: []string{"metadata.name: Invalid value"}, detail: "no more than 52"},
		{name: "rbac names are path segments", doc: "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: 'system:a/b'}\n",
			want: []string{"metadata.name: Invalid value"}},
		{name: "rbac names may hold colons", doc: "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: 'system:reader'}\n"},
		{name: "namespace required", doc: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
			want: []string{"metadata.namespace: Required value"}},
		{name: "namespace is a label", doc: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: Default}\n",
			want: []string{"metadata.namespace: Invalid value"}},
		{name: "cluster-scoped takes no namespace", doc: "apiVersion: v1\nkind: Node\nmetadata: {name: node-1, namespace: default}\n",
			want: []string{"metadata.namespace: Forbidden"}},
		{name: "label value", doc: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: default, labels: {app: 'a b'}}\n",
			want: []string{"metadata.labels: Invalid value"}},
		{name: "label key", doc: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: default, labels: {'-app': a}}\n",
			want: []string{"metadata.labels: Invalid value"}},
		{name: "annotation key", doc: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: default, annotations: {'a b': x}}\n",
			want: []string{"metadata.annotations: Invalid value"}},
		{name: "owner reference fields", doc: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: default, ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet}]}\n",
			want: []string{"metadata.ownerReferences[0].name: Required value", "metadata.ownerReferences[0].uid: Required value"}},
		{name: "finalizer", doc: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: default, finalizers: ['a b']}\n",
			want: []string{"metadata.finalizers: Invalid value"}},
	})
}

func TestValidateMetaAnnotationSize(t *testing.T) {
	big := strings.Repeat("x", 256*1024)
	runBadCases(t, []badCase{{name: "annotations over 256 KiB",
		doc:  "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: default, annotations: {a: " + big + "}}\n",
		want: []string{"metadata.annotations: Too long"}}})
}

// TestErrorText pins the exact text of errors users read most.
func TestErrorText(t *testing.T) {
	for _, tc := range []struct{ doc, want string }{
		{"apiVersion: v1\nkind: ConfigMap\nmetadata: {namespace: default}\n", "metadata.name: Required value"},
		{deployDoc("{selector: {matchLabels: {app: web}}, template: {metadata: {labels: {app: web}}, spec: {containers: [{name: web}]}}}"),
			"spec.template.spec.containers[0].image: Required value"},
		{deployDoc("{selector: {matchLabels: {app: api}}, " + tmpl + "}"),
			`spec.template.metadata.labels: Invalid value: {"app":"web"}: selector does not match template labels`},
		{jobDoc("{template: {spec: {containers: [{name: c, image: busybox}]}}}"),
			`spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"`},
	} {
		obj, _, err := Decode([]byte(tc.doc))
		if err != nil {
			t.Fatal(err)
		}
		Default(obj)
		errs := Validate(obj)
		if len(errs) != 1 || errs[0].Error() != tc.want {
			t.Errorf("got %v, want exactly %q", errs.ToAggregate(), tc.want)
		}
	}
}
