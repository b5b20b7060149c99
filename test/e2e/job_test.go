package e2e

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/api"
	"github.com/strom-project/strom/reconcilers/jobctl"
	"github.com/strom-project/strom/test/logtest"
)

// hollowJobYAML is a Job whose pods run for runFor on hollow nodes and
// exit with code.
func hollowJobYAML(name, spec, runFor string, code int) string {
	return fmt.Sprintf(`apiVersion: batch/v1
kind: Job
metadata: {name: %s}
spec:
%s
  template:
    metadata:
      annotations: {strom.dev/hollow-run-for: %q, strom.dev/hollow-exit-code: "%d"}
    spec:
      restartPolicy: Never
      containers: [{name: c, image: busybox}]
`, name, spec, runFor, code)
}

func (c *rcluster) job(name string) *batchv1.Job {
	c.t.Helper()
	var j batchv1.Job
	if err := c.get("jobs", "default", name, &j); err != nil {
		c.t.Fatal(err)
	}
	return &j
}

func jobCond(j *batchv1.Job, t batchv1.JobConditionType) *batchv1.JobCondition {
	for i := range j.Status.Conditions {
		if c := &j.Status.Conditions[i]; c.Type == t && c.Status == corev1.ConditionTrue {
			return c
		}
	}
	return nil
}

// waitJob waits for the Job's condition, calling each (if set) on every
// poll with the Job's pods.
func (c *rcluster) waitJob(name string, t batchv1.JobConditionType, timeout time.Duration, each func([]corev1.Pod)) *batchv1.Job {
	c.t.Helper()
	var j *batchv1.Job
	logtest.Eventually(c.t, timeout, func() error {
		if each != nil {
			each(c.pods("default", "batch.kubernetes.io/job-name="+name))
		}
		j = c.job(name)
		if jobCond(j, t) == nil {
			return fmt.Errorf("job %s not %s: %+v", name, t, j.Status)
		}
		return nil
	})
	return j
}

func activePods(pods []corev1.Pod) int {
	n := 0
	for _, p := range pods {
		if p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed && p.DeletionTimestamp == nil {
			n++
		}
	}
	return n
}

// Five completions, two at a time, on hollow nodes: the Job is Complete,
// at no poll more than two pods run, and the five pods are kept, all
// Succeeded with exit code 0 as a kubelet reports it.
func TestJobCompletesOnHollowNodes(t *testing.T) {
	c := startCluster(t, "n1", "n2")
	c.apply(hollowJobYAML("five", "  completions: 5\n  parallelism: 2", "300ms", 0))
	most := 0
	j := c.waitJob("five", batchv1.JobComplete, 60*time.Second, func(pods []corev1.Pod) {
		most = max(most, activePods(pods))
	})
	if most > 2 {
		t.Errorf("%d pods active at once, parallelism is 2", most)
	}
	if j.Status.Succeeded != 5 || j.Status.Active != 0 || j.Status.CompletionTime == nil || jobCond(j, batchv1.JobSuccessCriteriaMet) == nil {
		t.Fatalf("status %+v", j.Status)
	}
	pods := c.pods("default", "batch.kubernetes.io/job-name=five")
	if len(pods) != 5 {
		t.Fatalf("%d pods kept, want 5", len(pods))
	}
	for _, p := range pods {
		cs := p.Status.ContainerStatuses
		if p.Status.Phase != corev1.PodSucceeded || len(cs) != 1 || cs[0].State.Terminated == nil || cs[0].State.Terminated.ExitCode != 0 || len(p.Finalizers) != 0 {
			t.Errorf("pod %s: phase %s containers %+v finalizers %v", p.Name, p.Status.Phase, cs, p.Finalizers)
		}
	}
	c.wantEvent("Completed", "Job completed")
}

// Pods that always fail: backoffLimit 1 allows one retry, 10 s after the
// first failure; the Job is Failed with BackoffLimitExceeded, and the
// history of each pod says the Job controller created it and why (the
// event that caused it).
func TestJobBackoffLimitOnHollowNodes(t *testing.T) {
	c := startCluster(t, "n1")
	c.apply(hollowJobYAML("crash", "  backoffLimit: 1", "100ms", 3))
	j := c.waitJob("crash", batchv1.JobFailed, 60*time.Second, nil)
	if cond := jobCond(j, batchv1.JobFailed); cond.Reason != batchv1.JobReasonBackoffLimitExceeded || j.Status.Failed != 2 {
		t.Fatalf("failed %d, condition %+v", j.Status.Failed, cond)
	}
	pods := c.pods("default", "batch.kubernetes.io/job-name=crash")
	if len(pods) != 2 {
		t.Fatalf("%d pods, want backoffLimit+1 = 2", len(pods))
	}
	sort.Slice(pods, func(a, b int) bool { return pods[a].CreationTimestamp.Before(&pods[b].CreationTimestamp) })
	first := pods[0].Status.ContainerStatuses[0].State.Terminated
	if first == nil || first.ExitCode != 3 || pods[0].Status.Phase != corev1.PodFailed {
		t.Fatalf("first pod %s: %+v", pods[0].Status.Phase, pods[0].Status.ContainerStatuses)
	}
	if gap := pods[1].CreationTimestamp.Sub(first.FinishedAt.Time); gap < 9*time.Second {
		t.Errorf("retry %v after the failure, want the 10 s back-off", gap)
	}
	for _, p := range pods {
		resp, err := c.admin.Do(c.ctx(), api.VerbHistory, &api.Request{Resource: "pods", Namespace: "default", Name: p.Name})
		if err != nil {
			t.Fatal(err)
		}
		created := resp.History[0]
		if created.Type != events.TypeCreated || created.Actor != jobctl.Actor || created.Cause == "" {
			t.Errorf("pod %s created by %q (cause %q), type %s", p.Name, created.Actor, created.Cause, created.Type)
		}
	}
	resp, err := c.admin.Do(c.ctx(), api.VerbHistory, &api.Request{Resource: "jobs", Namespace: "default", Name: "crash", WithObjects: true})
	if err != nil {
		t.Fatal(err)
	}
	var reasons []string
	for _, h := range resp.History {
		if h.Type != events.TypeStatusUpdated {
			continue
		}
		if h.Actor != jobctl.Actor || h.Cause == "" {
			t.Errorf("status write #%d by %q cause %q", h.Seq, h.Actor, h.Cause)
		}
		var hj batchv1.Job
		_ = json.Unmarshal(h.Object, &hj)
		for _, cond := range hj.Status.Conditions {
			reasons = append(reasons, string(cond.Type)+":"+cond.Reason)
		}
	}
	if !strings.Contains(strings.Join(reasons, ","), "FailureTarget:BackoffLimitExceeded") {
		t.Errorf("history conditions %v", reasons)
	}
}

// An Indexed Job runs one pod per index 0..n-1, each told its index.
func TestIndexedJobOnHollowNodes(t *testing.T) {
	c := startCluster(t, "n1")
	c.apply(hollowJobYAML("idx", "  completions: 3\n  parallelism: 3\n  completionMode: Indexed", "100ms", 0))
	j := c.waitJob("idx", batchv1.JobComplete, 60*time.Second, nil)
	if j.Status.CompletedIndexes != "0-2" {
		t.Fatalf("completedIndexes %q", j.Status.CompletedIndexes)
	}
	var got []string
	for _, p := range c.pods("default", "batch.kubernetes.io/job-name=idx") {
		ix := p.Annotations["batch.kubernetes.io/job-completion-index"]
		env := ""
		for _, e := range p.Spec.Containers[0].Env {
			if e.Name == "JOB_COMPLETION_INDEX" {
				env = e.Value
			}
		}
		if env != ix || p.Spec.Hostname != "idx-"+ix || !strings.HasPrefix(p.Name, "idx-"+ix+"-") {
			t.Errorf("pod %s: index %q env %q hostname %q", p.Name, ix, env, p.Spec.Hostname)
		}
		got = append(got, ix)
	}
	sort.Strings(got)
	if strings.Join(got, ",") != "0,1,2" {
		t.Fatalf("indexes %v", got)
	}
}

// ttlSecondsAfterFinished: the finished Job is deleted (foreground), and
// the garbage collector removes its pods first.
func TestJobTTLOnHollowNodes(t *testing.T) {
	c := startCluster(t, "n1")
	c.apply(hollowJobYAML("brief", "  completions: 2\n  ttlSecondsAfterFinished: 1", "50ms", 0))
	logtest.Eventually(t, 60*time.Second, func() error {
		if c.exists("jobs", "default", "brief") {
			return fmt.Errorf("job still there")
		}
		if n := len(c.pods("default", "batch.kubernetes.io/job-name=brief")); n != 0 {
			return fmt.Errorf("%d pods left", n)
		}
		return nil
	})
}
