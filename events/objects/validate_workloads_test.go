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
		{name: "cronjob schedule required", doc: cronDoc("{jobTemplate: {spec: {template: {spec: {restartPolicy: Never, containers: [{name: c, image: busybox}]}}}}}"),
			want: []string{"spec.schedule: Required value"}},
		{name: "cronjob schedule syntax", doc: cronDoc("{schedule: '61 * * * *', jobTemplate: {spec: {template: {spec: {restartPolicy: Never, containers: [{name: c, image: busybox}]}}}}}"),
			want: []string{"spec.schedule: Invalid value"}, detail: "out of range"},
		{name: "cronjob policy and template", doc: cronDoc("{schedule: '@daily', concurrencyPolicy: Sometimes, timeZone: Mars/Olympus, jobTemplate: {spec: {template: {spec: {containers: [{name: c, image: busybox}]}}}}}"),
			want: []string{"spec.concurrencyPolicy: Unsupported value", "spec.timeZone: Invalid value", "spec.jobTemplate.spec.template.spec.restartPolicy: Unsupported value"}},
		{name: "cronjob history limits", doc: cronDoc("{schedule: '@daily', successfulJobsHistoryLimit: -1, jobTemplate: {spec: {template: {spec: {restartPolicy: OnFailure, containers: [{name: c, image: busybox}]}}}}}"),
			want: []string{"spec.successfulJobsHistoryLimit: Invalid value"}},
	})
}

func TestCronSchedule(t *testing.T) {
	valid := []string{"* * * * *", "*/5 * * * *", "0 0 1 1 *", "0 9-17 * * mon-fri", "0,30 8,20 ? JAN,jul SUN",
		"15 10 1-31/2 * 1-5", "0 0 * * 6", "@hourly", "@daily", "@midnight", "@weekly", "@monthly", "@yearly", "@annually", "@every 1h30m"}
	for _, s := range valid {
		if err := validateCronSchedule(s); err != nil {
			t.Errorf("%q rejected: %v", s, err)
		}
	}
	invalid := []string{"", "* * * *", "* * * * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * 32 * *", "* * * 13 *",
		"* * * * 7", "*/0 * * * *", "5-1 * * * *", "a * * * *", "* * * foo *", "@often", "@every", "@every 10ms",
		"TZ=UTC 0 * * * *", "CRON_TZ=UTC 0 * * * *", "1,,2 * * * *", "-1 * * * *"}
	for _, s := range invalid {
		if err := validateCronSchedule(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}
