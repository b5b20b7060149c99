package objects

import "testing"

func TestValidateWorkloads(t *testing.T) {
	const sel = "selector: {matchLabels: {app: web}}, "
	runBadCases(t, []badCase{
		{name: "deployment selector required", doc: deployDoc("{" + tmpl + "}"),
			want: []string{"spec.selector: Required value"}},
		{name: "deployment selector matches template", doc: deployDoc("{selector: {matchLabels: {app: api}}, " + tmpl + "}"),
			want: []string{"spec.template.metadata.labels: Invalid value"}, detail: "selector does not match template labels"},
		{name: "selector expressions match too", doc: deployDoc("{selector: {matchExpressions: [{key: app, operator: NotIn, values: [web]}]}, " + tmpl + "}"),
			want: []string{"spec.template.metadata.labels: Invalid value"}},
		{name: "selector syntax", doc: deployDoc("{selector: {matchExpressions: [{key: app, operator: Near, values: [web]}]}, " + tmpl + "}"),
			want: []string{"spec.selector.matchExpressions[0].operator: Invalid value"}},
		{name: "replicas not negative", doc: deployDoc("{replicas: -1, " + sel + tmpl + "}"),
			want: []string{"spec.replicas: Invalid value"}},
		{name: "maxSurge and maxUnavailable not both 0", doc: deployDoc("{strategy: {rollingUpdate: {maxSurge: 0, maxUnavailable: '0%'}}, " + sel + tmpl + "}"),
			want: []string{"spec.strategy.rollingUpdate.maxUnavailable: Invalid value"}, detail: "may not be 0 when `maxSurge` is 0"},
		{name: "maxUnavailable at most 100%", doc: deployDoc("{strategy: {rollingUpdate: {maxUnavailable: '150%'}}, " + sel + tmpl + "}"),
			want: []string{"spec.strategy.rollingUpdate.maxUnavailable: Invalid value"}},
		{name: "maxSurge percentage syntax", doc: deployDoc("{strategy: {rollingUpdate: {maxSurge: 'ten%'}}, " + sel + tmpl + "}"),
			want: []string{"spec.strategy.rollingUpdate.maxSurge: Invalid value"}},
		{name: "negative maxSurge", doc: deployDoc("{strategy: {rollingUpdate: {maxSurge: -1}}, " + sel + tmpl + "}"),
			want: []string{"spec.strategy.rollingUpdate.maxSurge: Invalid value"}},
		{name: "Recreate takes no rollingUpdate", doc: deployDoc("{strategy: {type: Recreate, rollingUpdate: {maxSurge: 1}}, " + sel + tmpl + "}"),
			want: []string{"spec.strategy.rollingUpdate: Forbidden"}},
		{name: "Recreate alone is fine", doc: deployDoc("{strategy: {type: Recreate}, " + sel + tmpl + "}")},
		{name: "strategy type", doc: deployDoc("{strategy: {type: BlueGreen}, " + sel + tmpl + "}"),
			want: []string{"spec.strategy.type: Unsupported value"}},
		{name: "progress deadline over minReadySeconds", doc: deployDoc("{minReadySeconds: 600, " + sel + tmpl + "}"),
			want: []string{"spec.progressDeadlineSeconds: Invalid value"}},
		{name: "deployment pods restart always", doc: deployDoc("{" + sel + "template: {metadata: {labels: {app: web}}, spec: {restartPolicy: Never, containers: [{name: web, image: nginx}]}}}"),
			want: []string{"spec.template.spec.restartPolicy: Unsupported value"}},
		{name: "deployment template errors carry the template path", doc: deployDoc("{" + sel + "template: {metadata: {labels: {app: web}}, spec: {containers: [{name: web}]}}}"),
			want: []string{"spec.template.spec.containers[0].image: Required value"}},
		{name: "replicaset empty selector", doc: "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: r, namespace: default}\nspec: {selector: {}, " + tmpl + "}",
			want: []string{"spec.selector: Invalid value"}},
		{name: "daemonset maxUnavailable 0 with maxSurge 0", doc: "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: ds, namespace: default}\nspec: {updateStrategy: {rollingUpdate: {maxUnavailable: 0}}, " + sel + tmpl + "}",
			want: []string{"spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value"}},
		{name: "daemonset strategy type", doc: "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: ds, namespace: default}\nspec: {updateStrategy: {type: Sometimes}, " + sel + tmpl + "}",
			want: []string{"spec.updateStrategy.type: Unsupported value"}},
		{name: "statefulset policies and claims", doc: "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: ss, namespace: default}\nspec: {podManagementPolicy: Random, " + sel + tmpl +
			", volumeClaimTemplates: [{metadata: {name: data}, spec: {accessModes: [ReadWriteOnce]}}]}",
			want: []string{"spec.podManagementPolicy: Unsupported value", "spec.volumeClaimTemplates[0].spec.resources.requests[storage]: Required value"}},
		{name: "statefulset negative partition", doc: "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: ss, namespace: default}\nspec: {updateStrategy: {rollingUpdate: {partition: -1}}, " + sel + tmpl + "}",
			want: []string{"spec.updateStrategy.rollingUpdate.partition: Invalid value"}},
	})
}
