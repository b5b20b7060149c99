package jobctl_test

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/objects"
	"github.com/strom-project/strom/projections"
	"github.com/strom-project/strom/reconcilers/ctlutil"
	"github.com/strom-project/strom/reconcilers/ctlutil/ctltest"
	"github.com/strom-project/strom/reconcilers/jobctl"
	"github.com/strom-project/strom/reconcilers/manager"
)

func jobJSON(name, spec string) string {
	return fmt.Sprintf(`{"apiVersion":"batch/v1","kind":"Job","metadata":{"name":%q},"spec":{%s"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"busybox"}]}}}}`, name, spec)
}

// pods returns the job's pods by name.
func pods(t *testing.T, e *ctltest.Env, uid string) []*corev1.Pod {
	t.Helper()
	ps, err := ctlutil.List[corev1.Pod](e.Store, projections.Query{Resource: "pods", Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	var out []*corev1.Pod
	for _, p := range ps {
		if ref := metav1.GetControllerOf(p); ref != nil && string(ref.UID) == uid {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Name < out[b].Name })
	return out
}

func running(ps []*corev1.Pod) []*corev1.Pod {
	var out []*corev1.Pod
	for _, p := range ps {
		if p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed && p.DeletionTimestamp == nil {
			out = append(out, p)
		}
	}
	return out
}

// finish writes a pod's terminal status as a node would.
func finish(e *ctltest.Env, p *corev1.Pod, code int32) {
	e.T.Helper()
	next := p.DeepCopy()
	next.Status.Phase = corev1.PodSucceeded
	if code != 0 {
		next.Status.Phase = corev1.PodFailed
	}
	next.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "c", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
		ExitCode: code, FinishedAt: metav1.NewTime(e.Clock.Now())}}}}
	e.Write(next, "status")
}

func reconcile(t *testing.T, r *jobctl.Reconciler, key string) time.Duration {
	t.Helper()
	res, err := r.Reconcile(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	return res.RequeueAfter
}

func getJob(e *ctltest.Env, name string) *batchv1.Job {
	var j batchv1.Job
	if !e.Get("jobs", "default", name, &j) {
		return nil
	}
	return &j
}

func hasCond(j *batchv1.Job, t batchv1.JobConditionType, reason string) bool {
	for _, c := range j.Status.Conditions {
		if c.Type == t && c.Status == corev1.ConditionTrue && (reason == "" || c.Reason == reason) {
			return true
		}
	}
	return false
}

// completions 5, parallelism 2: never more than 2 pods run, five
// succeed, the Job is Complete, each pod counted once and its finalizer
// removed, and finished pods are kept.
func TestCompletionsAndParallelism(t *testing.T) {
	e := ctltest.Start(t)
	j := e.Create(jobJSON("work", `"completions":5,"parallelism":2,`))
	uid := string(j.GetUID())
	r := jobctl.New(e.Env)
	for round := 0; round < 20; round++ {
		reconcile(t, r, "default/work")
		e.Sync()
		if cur := getJob(e, "work"); hasCond(cur, batchv1.JobComplete, "") {
			break
		}
		run := running(pods(t, e, uid))
		if len(run) > 2 {
			t.Fatalf("%d pods running at once, parallelism is 2", len(run))
		}
		if len(run) > 0 {
			finish(e, run[0], 0)
		}
	}
	cur := getJob(e, "work")
	if !hasCond(cur, batchv1.JobComplete, "CompletionsReached") || !hasCond(cur, batchv1.JobSuccessCriteriaMet, "") {
		t.Fatalf("conditions %+v", cur.Status.Conditions)
	}
	all := pods(t, e, uid)
	if cur.Status.Succeeded != 5 || cur.Status.Active != 0 || len(all) != 5 || cur.Status.CompletionTime == nil {
		t.Fatalf("status %+v with %d pods", cur.Status, len(all))
	}
	for _, p := range all {
		if len(p.Finalizers) != 0 || p.Labels["batch.kubernetes.io/job-name"] != "work" {
			t.Errorf("pod %s: finalizers %v labels %v", p.Name, p.Finalizers, p.Labels)
		}
	}
}

// A Job whose pods always fail retries backoffLimit times with back-off
// (10 s, 20 s on the fake clock), then fails with BackoffLimitExceeded;
// the log says, for each retry, that the controller wrote it.
func TestBackoffLimitExceeded(t *testing.T) {
	e := ctltest.Start(t)
	j := e.Create(jobJSON("crash", `"backoffLimit":2,`))
	uid := string(j.GetUID())
	r := jobctl.New(e.Env)
	var waits []time.Duration
	for round := 0; round < 20; round++ {
		wait := reconcile(t, r, "default/crash")
		e.Sync()
		cur := getJob(e, "crash")
		if hasCond(cur, batchv1.JobFailed, "") {
			break
		}
		if run := running(pods(t, e, uid)); len(run) == 1 {
			e.Clock.Step(time.Second)
			finish(e, run[0], 1)
			continue
		}
		if wait > 0 {
			waits = append(waits, wait)
			e.Clock.Step(wait)
		}
	}
	cur := getJob(e, "crash")
	if !hasCond(cur, batchv1.JobFailed, "BackoffLimitExceeded") || !hasCond(cur, batchv1.JobFailureTarget, "BackoffLimitExceeded") {
		t.Fatalf("conditions %+v", cur.Status.Conditions)
	}
	if n := len(pods(t, e, uid)); n != 3 || cur.Status.Failed != 3 {
		t.Fatalf("%d pods, failed %d; want backoffLimit+1 = 3", n, cur.Status.Failed)
	}
	if fmt.Sprint(waits) != "[10s 20s]" {
		t.Fatalf("back-off waits %v, want [10s 20s]", waits)
	}
	// Every pod of the Job was created by the controller, in its name.
	evs := e.Events(0)
	creates := 0
	for _, ev := range evs {
		if ev.Resource == "pods" && ev.Type == events.TypeCreated {
			if ev.Actor != jobctl.Actor {
				t.Errorf("pod %s created by %q", ev.Name, ev.Actor)
			}
			creates++
		}
	}
	if creates != 3 {
		t.Errorf("%d pod creations in the log", creates)
	}
}

// An Indexed Job runs indexes 0..n-1, each pod with its index.
func TestIndexed(t *testing.T) {
	e := ctltest.Start(t)
	j := e.Create(jobJSON("idx", `"completions":4,"parallelism":4,"completionMode":"Indexed",`))
	uid := string(j.GetUID())
	r := jobctl.New(e.Env)
	reconcile(t, r, "default/idx")
	e.Sync()
	got := map[string]bool{}
	for _, p := range pods(t, e, uid) {
		got[p.Annotations["batch.kubernetes.io/job-completion-index"]] = true
		if p.Spec.Hostname != "idx-"+p.Annotations["batch.kubernetes.io/job-completion-index"] {
			t.Errorf("pod %s hostname %q", p.Name, p.Spec.Hostname)
		}
		finish(e, p, 0)
	}
	if fmt.Sprint(len(got), got["0"], got["1"], got["2"], got["3"]) != "4 true true true true" {
		t.Fatalf("indexes %v", got)
	}
	for i := 0; i < 3; i++ {
		reconcile(t, r, "default/idx")
		e.Sync()
	}
	cur := getJob(e, "idx")
	if cur.Status.CompletedIndexes != "0-3" || !hasCond(cur, batchv1.JobComplete, "") {
		t.Fatalf("status %+v", cur.Status)
	}
}

// Suspending deletes the running pods; resuming starts new ones.
func TestSuspendResume(t *testing.T) {
	e := ctltest.Start(t)
	j := e.Create(jobJSON("s", `"parallelism":2,"completions":2,`))
	uid := string(j.GetUID())
	r := jobctl.New(e.Env)
	reconcile(t, r, "default/s")
	e.Sync()
	cur := getJob(e, "s")
	cur.Spec.Suspend = ptr(true)
	e.Write(cur, "update")
	for i := 0; i < 2; i++ { // deletes the pods, then releases them uncounted (their events re-queue the Job)
		reconcile(t, r, "default/s")
		e.Sync()
	}
	if n := len(pods(t, e, uid)); n != 0 {
		t.Fatalf("%d pods kept while suspended", n)
	}
	if n := len(running(pods(t, e, uid))); n != 0 {
		t.Fatalf("%d pods running while suspended", n)
	}
	if cur = getJob(e, "s"); !hasCond(cur, batchv1.JobSuspended, "JobSuspended") {
		t.Fatalf("conditions %+v", cur.Status.Conditions)
	}
	cur.Spec.Suspend = ptr(false)
	e.Write(cur, "update")
	reconcile(t, r, "default/s")
	e.Sync()
	if n := len(running(pods(t, e, uid))); n != 2 {
		t.Fatalf("%d pods running after resume", n)
	}
	if cur = getJob(e, "s"); cur.Status.Failed != 0 {
		t.Fatalf("suspension counted as failures: %+v", cur.Status)
	}
}

// ttlSecondsAfterFinished deletes the Job once due.
func TestTTLDeletesJob(t *testing.T) {
	e := ctltest.Start(t)
	j := e.Create(jobJSON("ttl", `"ttlSecondsAfterFinished":30,`))
	uid := string(j.GetUID())
	r := jobctl.New(e.Env)
	reconcile(t, r, "default/ttl")
	e.Sync()
	finish(e, pods(t, e, uid)[0], 0)
	var wait time.Duration
	for i := 0; i < 3; i++ {
		wait = reconcile(t, r, "default/ttl")
		e.Sync()
	}
	if !hasCond(getJob(e, "ttl"), batchv1.JobComplete, "") || wait != 30*time.Second {
		t.Fatalf("not complete or requeue %v", wait)
	}
	e.Clock.Step(wait)
	reconcile(t, r, "default/ttl")
	e.Sync()
	if j := getJob(e, "ttl"); j != nil && j.DeletionTimestamp == nil {
		t.Fatal("job not deleted after its TTL")
	}
}

// logEvents reads the whole log.

func ptr[T any](v T) *T { return &v }

var _ manager.Reconciler = (*jobctl.Reconciler)(nil)

// A pod deleted before the Job counted it is held by its tracking
// finalizer: the controller counts it as failed, drops the finalizer,
// the pod goes, and the count stays.
func TestDeletedPodStillCounts(t *testing.T) {
	e := ctltest.Start(t)
	j := e.Create(jobJSON("d", `"completions":1,`))
	uid := string(j.GetUID())
	r := jobctl.New(e.Env)
	reconcile(t, r, "default/d")
	e.Sync()
	p := pods(t, e, uid)[0]
	if _, err := e.Writer.Delete(context.Background(), podKindForTest, "default", p.Name, events.DeleteOptions{Now: true}, events.WriteOptions{Actor: "user"}); err != nil {
		t.Fatal(err)
	}
	e.Sync()
	if e.Get("pods", "default", p.Name, &corev1.Pod{}) == false {
		t.Fatal("tracked pod removed before the Job counted it")
	}
	reconcile(t, r, "default/d")
	e.Sync()
	if e.Get("pods", "default", p.Name, &corev1.Pod{}) {
		t.Fatal("pod kept after its finalizer went")
	}
	reconcile(t, r, "default/d")
	e.Sync()
	cur := getJob(e, "d")
	if cur.Status.Failed != 1 || len(cur.Status.UncountedTerminatedPods.Failed) != 0 {
		t.Fatalf("status %+v", cur.Status)
	}
}

var podKindForTest = objects.ByKind("Pod")

// A Job that is gone releases its pods' tracking finalizers, whether the
// controller saw the Job (its uid cached: the owner index) or not (a new
// leader: a scan of the namespace's owned pods).
func TestOrphansReleased(t *testing.T) {
	for _, seen := range []bool{true, false} {
		e := ctltest.Start(t)
		j := e.Create(jobJSON("gone", `"completions":2,"parallelism":2,`))
		uid := string(j.GetUID())
		r := jobctl.New(e.Env)
		reconcile(t, r, "default/gone")
		e.Sync()
		ps := pods(t, e, uid)
		if len(ps) != 2 || len(ps[0].Finalizers) == 0 {
			t.Fatalf("pods before: %d, finalizers %v", len(ps), ps[0].Finalizers)
		}
		if _, err := e.Writer.Delete(context.Background(), objects.ByKind("Job"), "default", "gone", events.DeleteOptions{Now: true}, events.WriteOptions{Actor: "test"}); err != nil {
			t.Fatal(err)
		}
		e.Sync()
		if !seen {
			r = jobctl.New(e.Env) // knows nothing of the Job
		}
		reconcile(t, r, "default/gone")
		e.Sync()
		for _, p := range pods(t, e, uid) {
			if len(p.Finalizers) != 0 {
				t.Errorf("seen=%v: pod %s keeps %v after its Job went", seen, p.Name, p.Finalizers)
			}
		}
	}
}
