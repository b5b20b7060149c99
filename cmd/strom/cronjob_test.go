package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
)

const cronYAML = `apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  schedule: "0 3 * * *"
  timeZone: Europe/Berlin
  jobTemplate:
    metadata:
      labels: {app: nightly}
      annotations: {team: ops}
    spec:
      template:
        metadata:
          annotations: {strom.dev/hollow-run-for: 200ms}
        spec:
          restartPolicy: Never
          containers: [{name: c, image: busybox}]
`

// strom create job --from=cronjob/NAME runs a CronJob's template now, as
// kubectl does (annotation, controller reference); the Job completes on
// a hollow node; strom get cronjobs shows kubectl's columns.
func TestCreateJobFromCronJob(t *testing.T) {
	c := newCluster(t)
	c.hollowNodes("h1")
	c.mustStrom("apply", "-f", c.file("cron.yaml", cronYAML))
	if out := c.mustStrom("create", "job", "manual", "--from=cronjob/nightly"); out != "job.batch/manual created\n" {
		t.Fatalf("create job: %q", out)
	}
	var j batchv1.Job
	if err := json.Unmarshal([]byte(c.mustStrom("get", "job", "manual", "-o", "json")), &j); err != nil {
		t.Fatal(err)
	}
	ref := j.OwnerReferences
	if j.Annotations[instantiateAnnotation] != "manual" || j.Annotations["team"] != "ops" || j.Labels["app"] != "nightly" ||
		len(ref) != 1 || ref[0].Kind != "CronJob" || ref[0].Name != "nightly" || ref[0].UID == "" || ref[0].Controller == nil || !*ref[0].Controller {
		t.Fatalf("job meta %+v", j.ObjectMeta)
	}
	if out := c.mustStrom("wait", "--for=condition=complete", "job/manual", "--timeout=60s"); out != "job.batch/manual condition met\n" {
		t.Fatalf("wait: %q", out)
	}
	out := c.mustStrom("get", "cronjobs")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !regexp.MustCompile(`^NAME\s+SCHEDULE\s+TIMEZONE\s+SUSPEND\s+ACTIVE\s+LAST SCHEDULE\s+AGE$`).MatchString(lines[0]) ||
		!regexp.MustCompile(`^nightly\s+0 3 \* \* \*\s+Europe/Berlin\s+False\s+0\s+<none>\s+\d+s$`).MatchString(lines[1]) {
		t.Fatalf("get cronjobs:\n%s", out)
	}
	if out := c.mustStrom("create", "job", "plain", "--image=busybox", "--", "echo", "hi"); out != "job.batch/plain created\n" {
		t.Fatalf("create job --image: %q", out)
	}
	for _, bad := range [][]string{
		{"create", "job", "x", "--from=deployment/web"},
		{"create", "job", "x"},
		{"create", "job", "x", "--from=cronjob/missing"},
	} {
		if _, errOut, code := c.strom("", bad...); code == 0 || errOut == "" {
			t.Errorf("%v: exit %d %q", bad, code, errOut)
		}
	}
}
