package e2e

import (
	"fmt"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/api"
	"github.com/strom-project/strom/reconcilers/cronjob"
	"github.com/strom-project/strom/reconcilers/cronjobctl"
	"github.com/strom-project/strom/test/logtest"
)

const everyMinuteYAML = `apiVersion: batch/v1
kind: CronJob
metadata: {name: tick}
spec:
  schedule: "*/1 * * * *"
  jobTemplate:
    metadata:
      labels: {app: tick}
    spec:
      template:
        metadata:
          annotations: {strom.dev/hollow-run-for: 200ms}
        spec:
          restartPolicy: Never
          containers: [{name: c, image: busybox}]
`

// A CronJob every minute, through a real stromd on a hollow node: the
// first schedule (at most a minute away) starts a Job named for its
// minute, written by the CronJob controller with a cause; the Job
// completes and the CronJob records it.
func TestCronJobEveryMinuteOnHollowNodes(t *testing.T) {
	c := startCluster(t, "n1")
	start := time.Now()
	c.apply(everyMinuteYAML)
	var cj batchv1.CronJob
	logtest.Eventually(t, 70*time.Second, func() error {
		if err := c.get("cronjobs", "default", "tick", &cj); err != nil {
			return err
		}
		if cj.Status.LastSuccessfulTime == nil {
			return fmt.Errorf("no successful run yet: %+v", cj.Status)
		}
		return nil
	})
	sched := cj.Status.LastScheduleTime
	if sched == nil || sched.Time.Before(start.Add(-time.Minute)) || sched.Time.After(time.Now()) || sched.Time.Second() != 0 {
		t.Fatalf("lastScheduleTime %v (test started %s)", sched, start)
	}
	name := cronjob.JobName("tick", sched.Time)
	j := c.job(name)
	if jobCond(j, batchv1.JobComplete) == nil || j.Labels["app"] != "tick" ||
		j.Annotations[batchv1.CronJobScheduledTimestampAnnotation] != sched.UTC().Format(time.RFC3339) {
		t.Fatalf("job %s: %+v %+v", name, j.ObjectMeta, j.Status)
	}
	if ref := metav1.GetControllerOf(j); ref == nil || ref.Kind != "CronJob" || ref.UID != cj.UID {
		t.Fatalf("job %s controller %+v", name, ref)
	}
	resp, err := c.admin.Do(c.ctx(), api.VerbHistory, &api.Request{Resource: "jobs", Namespace: "default", Name: name})
	if err != nil {
		t.Fatal(err)
	}
	if created := resp.History[0]; created.Type != events.TypeCreated || created.Actor != cronjobctl.Actor || created.Cause == "" {
		t.Errorf("job %s created by %q (cause %q), type %s", name, created.Actor, created.Cause, created.Type)
	}
	c.wantEvent("SuccessfulCreate", "Created job "+name)
	c.wantEvent("SawCompletedJob", "Saw completed job: "+name)
}
