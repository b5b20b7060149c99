package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestWaitForConditions(t *testing.T) {
	obj := func(s string) map[string]any {
		var m map[string]any
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	complete := obj(`{"metadata":{"generation":2},"status":{"phase":"Running","succeeded":3,"conditions":[{"type":"Complete","status":"True"},{"type":"Ready","status":"False","observedGeneration":2},{"type":"Stale","status":"True","observedGeneration":1}]}}`)
	for _, tc := range []struct {
		for_ string
		want bool
	}{
		{"condition=complete", true},
		{"condition=Complete=True", true},
		{"condition=Complete=false", false},
		{"condition=Failed", false},
		{"condition=Ready=False", true},
		{"condition=Stale", false}, // about an older generation
		{"jsonpath={.status.phase}=Running", true},
		{"jsonpath='{.status.phase}'=Running", false}, // quotes are the shell's; a literal quote is part of the expression
		{"jsonpath={.status.phase}=Pending", false},
		{"jsonpath={.status.succeeded}=3", true},
		{"jsonpath={.status.succeeded}", true},
		{"jsonpath={.status.missing}", false},
		{"create", true},
	} {
		w, err := parseWaitFor(tc.for_)
		if err != nil {
			if !tc.want {
				continue // an expression that does not parse is not met either
			}
			t.Fatalf("%s: %v", tc.for_, err)
		}
		got, err := w.met(complete)
		if err != nil || got != tc.want {
			t.Errorf("--for=%s: met %v (%v), want %v", tc.for_, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "ready", "condition=", "jsonpath={.status.phase}Running", "jsonpath={.status[}"} {
		if _, err := parseWaitFor(bad); err == nil {
			t.Errorf("--for=%q: no error", bad)
		}
	}
}

// strom wait against a live cluster: a Deployment's Available condition,
// a missing object (an error at once), a deletion, and a timeout that
// names the object.
func TestWait(t *testing.T) {
	c := newCluster(t)
	c.hollowNodes("h1")
	c.mustStrom("apply", "-f", c.file("web.yaml", strings.ReplaceAll(rolloutYAML, "IMAGE", "1")))
	if out := c.mustStrom("wait", "--for=condition=Available", "deployment/web", "--timeout=60s"); out != "deployment.apps/web condition met\n" {
		t.Fatalf("wait available: %q", out)
	}
	if out := c.mustStrom("wait", "--for=jsonpath={.status.readyReplicas}=3", "deploy", "web"); out != "deployment.apps/web condition met\n" {
		t.Fatalf("wait jsonpath: %q", out)
	}
	if out := c.mustStrom("wait", "--for=condition=Ready", "pods", "-l", "app=web", "--timeout=30s"); strings.Count(out, "condition met") != 3 {
		t.Fatalf("wait -l: %q", out)
	}
	if _, errOut, code := c.strom("", "wait", "--for=condition=Available", "deployment/nope"); code == 0 || !strings.Contains(errOut, "not found") {
		t.Fatalf("wait on a missing object: exit %d %q", code, errOut)
	}
	if _, errOut, code := c.strom("", "wait", "--for=condition=Progressing=False", "deployment/web", "--timeout=1s"); code == 0 || !strings.Contains(errOut, "timed out waiting for the condition on deployments/web") {
		t.Fatalf("timeout: exit %d %q", code, errOut)
	}
	c.mustStrom("delete", "deployment", "web")
	if out := c.mustStrom("wait", "--for=delete", "deployment/web", "--timeout=30s"); out != "deployment.apps/web condition met\n" {
		t.Fatalf("wait delete: %q", out)
	}
}
