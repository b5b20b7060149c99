package main

import (
	"regexp"
	"strings"
	"testing"
)

const jobYAML = `apiVersion: batch/v1
kind: Job
metadata: {name: pi}
spec:
  completions: 3
  parallelism: 2
  template:
    metadata:
      annotations: {strom.dev/hollow-run-for: 200ms}
    spec:
      restartPolicy: Never
      containers: [{name: pi, image: busybox}]
`

// strom wait --for=condition=complete on a real Job run by the Job
// controller on a hollow node, then strom get jobs with kubectl's
// columns.
func TestWaitJobComplete(t *testing.T) {
	c := newCluster(t)
	c.hollowNodes("h1")
	c.mustStrom("apply", "-f", c.file("job.yaml", jobYAML))
	if out := c.mustStrom("wait", "--for=condition=complete", "job/pi", "--timeout=60s"); out != "job.batch/pi condition met\n" {
		t.Fatalf("wait complete: %q", out)
	}
	out := c.mustStrom("get", "jobs")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !regexp.MustCompile(`^NAME\s+STATUS\s+COMPLETIONS\s+DURATION\s+AGE$`).MatchString(lines[0]) ||
		!regexp.MustCompile(`^pi\s+Complete\s+3/3\s+\d+s\s+\d+s$`).MatchString(lines[1]) {
		t.Fatalf("get jobs:\n%s", out)
	}
	if _, errOut, code := c.strom("", "wait", "--for=condition=failed", "job/pi", "--timeout=1s"); code == 0 || !strings.Contains(errOut, "timed out") {
		t.Fatalf("wait failed on a complete job: exit %d %q", code, errOut)
	}
}
