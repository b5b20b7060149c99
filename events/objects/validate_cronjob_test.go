package objects

import "testing"

// cronTmpl is a valid job template.
const cronTmpl = "jobTemplate: {spec: {template: {spec: {restartPolicy: Never, containers: [{name: c, image: busybox}]}}}}"

func TestValidateCronJob(t *testing.T) {
	runBadCases(t, []badCase{
		{name: "valid", doc: cronDoc("{schedule: '*/5 * * * *', timeZone: Europe/Berlin, " + cronTmpl + "}")},
		{name: "schedule required", doc: cronDoc("{" + cronTmpl + "}"),
			want: []string{"spec.schedule: Required value"}},
		{name: "schedule out of range", doc: cronDoc("{schedule: '61 * * * *', " + cronTmpl + "}"),
			want: []string{"spec.schedule: Invalid value"}, detail: "above maximum (59)"},
		{name: "schedule fields", doc: cronDoc("{schedule: '* * * *', " + cronTmpl + "}"),
			want: []string{"spec.schedule: Invalid value"}, detail: "expected exactly 5 fields"},
		{name: "TZ in the schedule", doc: cronDoc("{schedule: 'TZ=UTC 0 * * * *', " + cronTmpl + "}"),
			want: []string{"spec.schedule: Invalid value"}, detail: "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"},
		{name: "TZ in the schedule and timeZone", doc: cronDoc("{schedule: 'CRON_TZ=UTC 0 * * * *', timeZone: UTC, " + cronTmpl + "}"),
			want: []string{"spec.schedule: Invalid value"}, detail: "cannot use both timeZone field and TZ or CRON_TZ in schedule"},
		{name: "unknown time zone", doc: cronDoc("{schedule: '@daily', timeZone: Mars/Olympus, " + cronTmpl + "}"),
			want: []string{"spec.timeZone: Invalid value"}, detail: "unknown time zone Mars/Olympus"},
		{name: "time zone syntax", doc: cronDoc("{schedule: '@daily', timeZone: ../etc/passwd, " + cronTmpl + "}"),
			want: []string{"spec.timeZone: Invalid value"}, detail: "unknown time zone"},
		{name: "Local is not a zone", doc: cronDoc("{schedule: '@daily', timeZone: Local, " + cronTmpl + "}"),
			want: []string{"spec.timeZone: Invalid value"}, detail: "explicit time zone"},
		{name: "empty time zone", doc: cronDoc("{schedule: '@daily', timeZone: '', " + cronTmpl + "}"),
			want: []string{"spec.timeZone: Invalid value"}, detail: "must be nil or non-empty"},
		{name: "policy and template", doc: cronDoc("{schedule: '@daily', concurrencyPolicy: Sometimes, jobTemplate: {spec: {template: {spec: {containers: [{name: c, image: busybox}]}}}}}"),
			want: []string{"spec.concurrencyPolicy: Unsupported value", "spec.jobTemplate.spec.template.spec.restartPolicy: Unsupported value"}},
		{name: "history limits and deadline", doc: cronDoc("{schedule: '@daily', successfulJobsHistoryLimit: -1, failedJobsHistoryLimit: -1, startingDeadlineSeconds: -5, " + cronTmpl + "}"),
			want: []string{"spec.failedJobsHistoryLimit: Invalid value", "spec.startingDeadlineSeconds: Invalid value", "spec.successfulJobsHistoryLimit: Invalid value"}},
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
		"* * * * 7", "5-1 * * * *", "a * * * *", "* * * foo *", "@often", "@every", "@every soon", "*/0 * * * *", "-1 * * * *"}
	for _, s := range invalid {
		if err := validateCronSchedule(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}
