package main

import (
	"encoding/json"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// kubectl's --grace-period and --force: a pod bound to a node that never
// finishes it (the docs' pod pinned to "foo-node") stays Terminating
// after a plain delete; --force --grace-period=0 removes it at once,
// with kubectl's warning.
func TestDeleteForce(t *testing.T) {
	c := newQuietCluster(t)
	c.mustStrom("apply", "-f", c.file("pod.yaml", `apiVersion: v1
kind: Pod
metadata: {name: nginx}
spec:
  nodeName: foo-node
  containers: [{name: nginx, image: nginx}]
`))
	if out := c.mustStrom("delete", "pod", "nginx", "--grace-period", "5"); out != "pod \"nginx\" deleted\n" {
		t.Fatalf("delete output %q", out)
	}
	var p corev1.Pod
	if err := json.Unmarshal([]byte(c.mustStrom("get", "pod", "nginx", "-o", "json")), &p); err != nil {
		t.Fatal(err)
	}
	if p.DeletionTimestamp == nil || p.DeletionGracePeriodSeconds == nil || *p.DeletionGracePeriodSeconds != 5 {
		t.Fatalf("after --grace-period 5: deletionTimestamp %v, deletionGracePeriodSeconds %v, want 5", p.DeletionTimestamp, p.DeletionGracePeriodSeconds)
	}
	out, errOut, code := c.strom("", "delete", "pod", "nginx", "--force", "--grace-period=0")
	if code != 0 || out != "pod \"nginx\" deleted\n" {
		t.Fatalf("forced delete: exit %d, %q %q", code, out, errOut)
	}
	if !strings.Contains(errOut, "Warning: Immediate deletion does not wait for confirmation that the running resource has been terminated") {
		t.Fatalf("no warning on a forced delete: %q", errOut)
	}
	if _, errOut, code := c.strom("", "get", "pod", "nginx"); code == 0 || !strings.Contains(errOut, `pods "nginx" not found`) {
		t.Fatalf("pod still there after a forced delete: %d %q", code, errOut)
	}

	// Bad flags change nothing.
	seq := c.lastSeq()
	if _, errOut, code := c.strom("", "delete", "pod", "x", "--grace-period=-3"); code == 0 || !strings.Contains(errOut, "--grace-period=-3") {
		t.Fatalf("--grace-period=-3: exit %d, %q", code, errOut)
	}
	if _, errOut, code := c.strom("", "delete", "pod", "x", "--now", "--grace-period=2"); code == 0 || !strings.Contains(errOut, "--now and --grace-period cannot be specified together") {
		t.Fatalf("--now with --grace-period: exit %d, %q", code, errOut)
	}
	if c.lastSeq() != seq {
		t.Fatal("a refused delete wrote to the log")
	}
}

func TestDeleteParams(t *testing.T) {
	for _, tc := range []struct {
		grace int64
		force bool
		want  string
	}{
		{-1, false, "propagation=background"},
		{0, false, "grace=1 propagation=background"}, // kubectl's guard
		{-1, true, "force=true grace=0 propagation=background"},
		{0, true, "force=true grace=0 propagation=background"},
		{7, true, "grace=7 propagation=background"},
		{30, false, "grace=30 propagation=background"},
	} {
		p, err := deleteParams("background", tc.grace, tc.force)
		if err != nil {
			t.Fatal(err)
		}
		var kv []string
		for _, k := range []string{"force", "grace", "propagation"} {
			if v, ok := p[k]; ok {
				kv = append(kv, k+"="+v)
			}
		}
		if got := strings.Join(kv, " "); got != tc.want {
			t.Errorf("grace %d force %v: %s, want %s", tc.grace, tc.force, got, tc.want)
		}
	}
}

// strom image … --node NAME connects before it asks the node (it used to
// dereference a nil client) and names a node that does not exist.
func TestImageNodeFlag(t *testing.T) {
	c := newQuietCluster(t)
	for _, args := range [][]string{{"image", "ls", "--node", "ghost"}, {"image", "rm", "--node", "ghost", "busybox"}} {
		_, errOut, code := c.strom("", args...)
		if code == 0 || !strings.Contains(errOut, `nodes "ghost" not found`) {
			t.Errorf("strom %s: exit %d, %q", strings.Join(args, " "), code, errOut)
		}
	}
	c.mustStrom("apply", "-f", c.file("node.yaml", "apiVersion: v1\nkind: Node\nmetadata: {name: quiet}\n"))
	_, errOut, code := c.strom("", "image", "ls", "--node", "quiet")
	if code == 0 || !strings.Contains(errOut, "node quiet") {
		t.Errorf("image ls on a node without an agent: exit %d, %q", code, errOut)
	}
}
