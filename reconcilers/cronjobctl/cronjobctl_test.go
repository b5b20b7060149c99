package cronjobctl_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/objects"
	"github.com/strom-project/strom/projections"
	"github.com/strom-project/strom/reconcilers/cronjob"
	"github.com/strom-project/strom/reconcilers/cronjobctl"
	"github.com/strom-project/strom/reconcilers/ctlutil"
	"github.com/strom-project/strom/reconcilers/ctlutil/ctltest"
)

func cronJSON(name, spec string) string {
	return fmt.Sprintf(`{"apiVersion":"batch/v1","kind":"CronJob","metadata":{"name":%q},"spec":{%s"jobTemplate":{"metadata":{"labels":{"app":"tick"}},"spec":{"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"busybox"}]}}}}}}`, name, spec)
}

func reconcile(t *testing.T, r *cronjobctl.Reconciler, key string) time.Duration {
	t.Helper()
	res, err := r.Reconcile(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	return res.RequeueAfter
}

func getCron(e *ctltest.Env, name string) *batchv1.CronJob {
	var cj batchv1.CronJob
	if !e.Get("cronjobs", "default", name, &cj) {
		return nil
	}
	return &cj
}

// jobs returns the Jobs in default, by name.
func jobs(t *testing.T, e *ctltest.Env) []*batchv1.Job {
	t.Helper()
	js, err := ctlutil.List[batchv1.Job](e.Store, projections.Query{Resource: "jobs", Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(js, func(a, b int) bool { return js[a].Name < js[b].Name })
	return js
}

func jobNames(js []*batchv1.Job) []string {
	var out []string
	for _, j := range js {
		out = append(out, j.Name)
	}
	return out
}

// complete writes a Job's finished status as the Job controller would.
func complete(e *ctltest.Env, j *batchv1.Job, cond batchv1.JobConditionType) {
	e.T.Helper()
	next := j.DeepCopy()
	now := metav1.NewTime(e.Clock.Now())
	next.Status.StartTime = &now
	next.Status.Conditions = []batchv1.JobCondition{{Type: cond, Status: corev1.ConditionTrue, LastTransitionTime: now}}
	if cond == batchv1.JobComplete {
		next.Status.CompletionTime = &now
		next.Status.Succeeded = 1
	} else {
		next.Status.Failed = 1
	}
	e.Write(next, "status")
}

// step advances the clock by wait and reconciles, as the manager's
// requeue would.
func step(t *testing.T, e *ctltest.Env, r *cronjobctl.Reconciler, wait time.Duration) time.Duration {
	t.Helper()
	e.Clock.Step(wait)
	w := reconcile(t, r, "default/tick")
	e.Sync()
	return w
}

// Every minute a Job starts, named for its schedule minute, as the
// controller, labelled from the template; a reconcile between schedules
// starts nothing; a finished Job leaves status.active and sets
// lastSuccessfulTime; a new leader (a new Reconciler) with the status
// lost does not start the same schedule again.
func TestScheduleEveryMinute(t *testing.T) {
	e := ctltest.Start(t)
	e.Create(cronJSON("tick", `"schedule":"*/1 * * * *",`))
	r := cronjobctl.New(e.Env)
	wait := reconcile(t, r, "default/tick")
	if len(jobs(t, e)) != 0 || wait <= 0 || wait > time.Minute+time.Second {
		t.Fatalf("jobs %v before the first minute, wait %v", jobNames(jobs(t, e)), wait)
	}
	wait = step(t, e, r, wait)
	js := jobs(t, e)
	sched := e.Clock.Now().Truncate(time.Minute)
	want := cronjob.JobName("tick", sched)
	if len(js) != 1 || js[0].Name != want {
		t.Fatalf("jobs %v, want [%s]", jobNames(js), want)
	}
	j := js[0]
	if ref := metav1.GetControllerOf(j); ref == nil || ref.Kind != "CronJob" || ref.Name != "tick" ||
		j.Labels["app"] != "tick" || j.Annotations[batchv1.CronJobScheduledTimestampAnnotation] != sched.UTC().Format(time.RFC3339) {
		t.Fatalf("job meta %+v", j.ObjectMeta)
	}
	cj := getCron(e, "tick")
	if len(cj.Status.Active) != 1 || cj.Status.Active[0].UID != j.UID || !cj.Status.LastScheduleTime.Time.Equal(sched) {
		t.Fatalf("status %+v", cj.Status)
	}
	if wait <= 0 || wait > time.Minute+time.Second {
		t.Fatalf("wait %v after a run", wait)
	}
	if step(t, e, r, time.Second); len(jobs(t, e)) != 1 {
		t.Fatalf("a reconcile between schedules started %v", jobNames(jobs(t, e)))
	}
	complete(e, j, batchv1.JobComplete)
	reconcile(t, r, "default/tick")
	e.Sync()
	cj = getCron(e, "tick")
	if len(cj.Status.Active) != 0 || cj.Status.LastSuccessfulTime == nil {
		t.Fatalf("status after completion %+v", cj.Status)
	}
	// The status is lost; a new leader sees the Job of the schedule.
	cj.Status = batchv1.CronJobStatus{}
	e.Write(cj, "status")
	reconcile(t, cronjobctl.New(e.Env), "default/tick")
	e.Sync()
	if js := jobs(t, e); len(js) != 1 {
		t.Fatalf("a new leader started the schedule again: %v", jobNames(js))
	}
	for _, ev := range e.Events(0) {
		if ev.Resource == "jobs" && ev.Type == events.TypeCreated && ev.Actor != cronjobctl.Actor {
			t.Errorf("job %s created by %q", ev.Name, ev.Actor)
		}
	}
}

// Forbid skips a schedule while a Job runs and starts the missed one once
// it finishes; Replace deletes the running Job and starts the new one;
// history limits delete the oldest finished Jobs.
func TestConcurrencyAndHistory(t *testing.T) {
	e := ctltest.Start(t)
	e.Create(cronJSON("tick", `"schedule":"* * * * *","concurrencyPolicy":"Forbid","successfulJobsHistoryLimit":1,`))
	r := cronjobctl.New(e.Env)
	wait := reconcile(t, r, "default/tick")
	wait = step(t, e, r, wait)
	first := jobs(t, e)
	if len(first) != 1 {
		t.Fatalf("jobs %v", jobNames(first))
	}
	wait = step(t, e, r, wait)
	if js := jobs(t, e); len(js) != 1 {
		t.Fatalf("forbid: jobs %v while one runs", jobNames(js))
	}
	e.Clock.Step(10 * time.Second)
	complete(e, first[0], batchv1.JobComplete)
	reconcile(t, r, "default/tick")
	e.Sync()
	if js := jobs(t, e); len(js) != 2 {
		t.Fatalf("forbid: the missed schedule did not start once the job finished: %v", jobNames(js))
	}
	// Replace.
	cj := getCron(e, "tick")
	cj.Spec.ConcurrencyPolicy = batchv1.ReplaceConcurrent
	e.Write(cj, "update")
	running := jobs(t, e)[1]
	step(t, e, r, wait)
	js := jobs(t, e)
	if len(js) != 2 || js[0].Name != first[0].Name || js[1].Name == running.Name {
		t.Fatalf("replace: jobs %v, want %s and a new one (not %s)", jobNames(js), first[0].Name, running.Name)
	}
	// History: a second success leaves one.
	complete(e, js[1], batchv1.JobComplete)
	reconcile(t, r, "default/tick")
	e.Sync()
	if got := jobs(t, e); len(got) != 1 || got[0].Name != js[1].Name {
		t.Fatalf("history limit 1: jobs %v, want [%s]", jobNames(got), js[1].Name)
	}
}

// A suspended CronJob starts nothing and asks for no requeue.
func TestSuspend(t *testing.T) {
	e := ctltest.Start(t)
	e.Create(cronJSON("tick", `"schedule":"* * * * *","suspend":true,`))
	r := cronjobctl.New(e.Env)
	if wait := step(t, e, r, 5*time.Minute); wait != 0 || len(jobs(t, e)) != 0 {
		t.Fatalf("suspended: wait %v, jobs %v", wait, jobNames(jobs(t, e)))
	}
}

// The write path refuses an invalid CronJob as Invalid, naming the
// field, and stores nothing.
func TestInvalidCronJobRefused(t *testing.T) {
	e := ctltest.Start(t)
	long := strings.Repeat("a", 53)
	for _, tc := range []struct{ manifest, field string }{
		{cronJSON("bad", `"schedule":"61 * * * *",`), "spec.schedule"},
		{cronJSON("bad", `"schedule":"@daily","timeZone":"Mars/Olympus",`), "spec.timeZone"},
		{cronJSON("bad", `"schedule":"TZ=UTC 0 * * * *","timeZone":"UTC",`), "spec.schedule"},
		{cronJSON(long, `"schedule":"@daily",`), "metadata.name"},
	} {
		obj, _, err := objects.DecodeJSON([]byte(tc.manifest))
		if err != nil {
			t.Fatal(err)
		}
		before := e.Log.LastSeq(t)
		_, err = e.Writer.Create(context.Background(), obj, events.WriteOptions{Actor: "test"})
		if !events.IsInvalid(err) || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: error %v, want Invalid naming %s", tc.field, err, tc.field)
		}
		if e.Log.LastSeq(t) != before || e.Count("cronjobs", "default") != 0 {
			t.Errorf("%s: a refused CronJob was written", tc.field)
		}
	}
}

// A Job of the schedule's name that the CronJob does not control (made
// by hand) is left alone: the create hits AlreadyExists, which is no
// error, and the status does not claim it.
func TestForeignJobOfTheSameName(t *testing.T) {
	e := ctltest.Start(t)
	e.Create(cronJSON("tick", `"schedule":"* * * * *",`))
	r := cronjobctl.New(e.Env)
	wait := reconcile(t, r, "default/tick")
	name := cronjob.JobName("tick", e.Clock.Now().Add(wait).Truncate(time.Minute))
	foreign := e.Create(fmt.Sprintf(`{"apiVersion":"batch/v1","kind":"Job","metadata":{"name":%q},"spec":{"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"busybox"}]}}}}`, name))
	if w := step(t, e, r, wait); w <= 0 {
		t.Fatalf("no requeue after the clash: %v", w)
	}
	js := jobs(t, e)
	if len(js) != 1 || js[0].UID != foreign.GetUID() || metav1.GetControllerOf(js[0]) != nil {
		t.Fatalf("jobs %v", jobNames(js))
	}
	if cj := getCron(e, "tick"); len(cj.Status.Active) != 0 || cj.Status.LastScheduleTime != nil {
		t.Fatalf("status claims the foreign job: %+v", cj.Status)
	}
}
