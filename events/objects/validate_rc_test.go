package objects

import "testing"

func TestValidateReplicationController(t *testing.T) {
	rc := func(spec string) string {
		return "apiVersion: v1\nkind: ReplicationController\nmetadata: {name: rc, namespace: default}\nspec: " + spec
	}
	runBadCases(t, []badCase{
		{name: "selector defaults from the template", doc: rc("{replicas: 2, template: {metadata: {labels: {app: web}}, spec: {containers: [{name: c, image: x}]}}}")},
		{name: "no selector and no template labels", doc: rc("{template: {spec: {containers: [{name: c, image: x}]}}}"),
			want: []string{"spec.selector: Required value"}},
		{name: "template required", doc: rc("{selector: {app: web}}"),
			want: []string{"spec.template: Required value"}},
		{name: "selector selects the template", doc: rc("{selector: {app: api}, template: {metadata: {labels: {app: web}}, spec: {containers: [{name: c, image: x}]}}}"),
			want: []string{"spec.template.metadata.labels: Invalid value"}, detail: "selector does not match template labels"},
		{name: "pods restart always", doc: rc("{template: {metadata: {labels: {app: web}}, spec: {restartPolicy: OnFailure, containers: [{name: c, image: x}]}}}"),
			want: []string{"spec.template.spec.restartPolicy: Unsupported value"}},
		{name: "replicas not negative", doc: rc("{replicas: -3, template: {metadata: {labels: {app: web}}, spec: {containers: [{name: c, image: x}]}}}"),
			want: []string{"spec.replicas: Invalid value"}},
		{name: "bad selector label", doc: rc("{selector: {'a b': web}, template: {metadata: {labels: {app: web}}, spec: {containers: [{name: c, image: x}]}}}"),
			want: []string{"spec.selector.matchLabels: Invalid value"}},
	})
}
