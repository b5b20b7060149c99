package e2e

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/strom-project/strom/events/api"
	"github.com/strom-project/strom/test/logtest"
)

func busyboxJob(name, spec, script string) string {
	return fmt.Sprintf(`apiVersion: batch/v1
kind: Job
metadata: {name: %s}
spec:
%s
  template:
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 1
      containers:
      - {name: main, image: strom.test/busybox:1, command: [sh, -c, %q]}
`, name, spec, script)
}

func (n *realNode) waitJob(t *testing.T, name string, cond batchv1.JobConditionType, timeout time.Duration, each func(*batchv1.Job)) *batchv1.Job {
	t.Helper()
	var j batchv1.Job
	logtest.Eventually(t, timeout, func() error {
		resp, err := n.admin.Do(t.Context(), api.VerbGet, &api.Request{Resource: "jobs", Namespace: "default", Name: name})
		if err != nil {
			return err
		}
		j = batchv1.Job{}
		if err := json.Unmarshal(resp.Object, &j); err != nil {
			return err
		}
		if each != nil {
			each(&j)
		}
		if jobCond(&j, cond) == nil {
			return fmt.Errorf("job %s not %s: %+v", name, cond, j.Status)
		}
		return nil
	})
	return &j
}

func (n *realNode) jobPods(t *testing.T, name string) []corev1.Pod {
	t.Helper()
	resp, err := n.admin.ListAll(t.Context(), api.Request{Resource: "pods", Namespace: "default", LabelSelector: "batch.kubernetes.io/job-name=" + name})
	if err != nil {
		t.Fatal(err)
	}
	var out []corev1.Pod
	for _, item := range resp.Items {
		var p corev1.Pod
		if err := json.Unmarshal(item, &p); err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

// Real containers on containerd: five completions of `exit 0`, two at a
// time, make the Job Complete, each pod Succeeded with exit code 0; a Job
// of `exit 1` with backoffLimit 1 fails with BackoffLimitExceeded after
// two pods, each Failed with exit code 1 as the agent reports it.
func TestRealJobs(t *testing.T) {
	n := startRealNode(t, nil)
	n.apply(t, busyboxJob("ok", "  completions: 5\n  parallelism: 2", "echo finished; exit 0"))
	n.apply(t, busyboxJob("bad", "  backoffLimit: 1", "exit 1"))
	most := int32(0)
	j := n.waitJob(t, "ok", batchv1.JobComplete, 120*time.Second, func(j *batchv1.Job) { most = max(most, j.Status.Active) })
	if j.Status.Succeeded != 5 || most > 2 {
		t.Fatalf("succeeded %d, most active %d", j.Status.Succeeded, most)
	}
	for _, p := range n.jobPods(t, "ok") {
		cs := p.Status.ContainerStatuses
		if p.Status.Phase != corev1.PodSucceeded || len(cs) != 1 || cs[0].State.Terminated == nil || cs[0].State.Terminated.ExitCode != 0 {
			t.Errorf("pod %s: %s %+v", p.Name, p.Status.Phase, cs)
		}
	}
	// kubectl's logs TYPE/NAME: one of the Job's pods, named on stderr.
	out, err := exec.Command(filepath.Join(binDir, "strom"), "--config", n.config, "logs", "job/ok").Output()
	if err != nil || string(out) != "finished\n" {
		t.Errorf("strom logs job/ok: %q, %v", out, err)
	}
	if ee, ok := err.(*exec.ExitError); ok {
		t.Logf("stderr: %s", ee.Stderr)
	}
	j = n.waitJob(t, "bad", batchv1.JobFailed, 120*time.Second, nil)
	if c := jobCond(j, batchv1.JobFailed); c.Reason != batchv1.JobReasonBackoffLimitExceeded || j.Status.Failed != 2 {
		t.Fatalf("failed %d, condition %+v", j.Status.Failed, c)
	}
	pods := n.jobPods(t, "bad")
	if len(pods) != 2 {
		t.Fatalf("%d pods, want 2", len(pods))
	}
	for _, p := range pods {
		cs := p.Status.ContainerStatuses
		if p.Status.Phase != corev1.PodFailed || len(cs) != 1 || cs[0].State.Terminated == nil || cs[0].State.Terminated.ExitCode != 1 {
			t.Errorf("pod %s: %s %+v", p.Name, p.Status.Phase, cs)
		}
	}
}
