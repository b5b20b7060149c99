package schedulerctl_test

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/objects"
	"github.com/strom-project/strom/reconcilers/ctlutil/ctltest"
	"github.com/strom-project/strom/reconcilers/schedulerctl"
)

func node(name, cpu string, extra string) string {
	return `{"apiVersion":"v1","kind":"Node","metadata":{"name":"` + name + `"},` + extra +
		`"status":{"allocatable":{"cpu":"` + cpu + `","memory":"8Gi","pods":"110"},"capacity":{"cpu":"` + cpu + `","memory":"8Gi","pods":"110"},` +
		`"conditions":[{"type":"Ready","status":"True"}]}}`
}

func pod(name, cpu string, extra string) string {
	return `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"` + name + `","namespace":"default"},"spec":{` + extra +
		`"containers":[{"name":"c","image":"x","resources":{"requests":{"cpu":"` + cpu + `"}}}]}}`
}

func reconcileAll(t *testing.T, r *schedulerctl.Reconciler, keys []string) {
	t.Helper()
	for _, k := range keys {
		if _, err := r.Reconcile(context.Background(), k); err != nil {
			t.Fatalf("reconcile %s: %v", k, err)
		}
	}
}

// Decisions see earlier, not yet visible bindings: two pods that only fit
// one at a time on a node go to different nodes.
func TestBindsAndAccountsAssumedPods(t *testing.T) {
	e := ctltest.Start(t)
	e.Create(node("a", "1", ""))
	e.Create(node("b", "1", ""))
	e.Create(node("cordoned", "64", `"spec":{"unschedulable":true},`))
	e.Create(pod("p1", "600m", ""))
	e.Create(pod("p2", "600m", ""))
	e.Create(pod("other", "1m", `"schedulerName":"someone-else",`))
	r := schedulerctl.New(e.Env, schedulerctl.Options{})
	keys := r.Keys()
	sort.Strings(keys)
	if strings.Join(keys, ",") != "default/other,default/p1,default/p2" {
		t.Fatalf("pending keys %v", keys)
	}
	reconcileAll(t, r, keys)
	e.Sync()
	var p1, p2, other corev1.Pod
	e.Get("pods", "default", "p1", &p1)
	e.Get("pods", "default", "p2", &p2)
	e.Get("pods", "default", "other", &other)
	if p1.Spec.NodeName == "" || p2.Spec.NodeName == "" || p1.Spec.NodeName == p2.Spec.NodeName || p1.Spec.NodeName == "cordoned" || p2.Spec.NodeName == "cordoned" {
		t.Fatalf("p1 on %q, p2 on %q: want a and b", p1.Spec.NodeName, p2.Spec.NodeName)
	}
	if other.Spec.NodeName != "" {
		t.Fatalf("pod for another scheduler bound to %s", other.Spec.NodeName)
	}
}

// A pod that fits nowhere gets PodScheduled=False with kube-scheduler's
// message, and a node change re-queues it.
func TestUnschedulableRequeuedOnNodeChange(t *testing.T) {
	e := ctltest.Start(t)
	e.Create(node("a", "1", ""))
	e.Create(node("b", "2", ""))
	e.Create(pod("big", "4", ""))
	r := schedulerctl.New(e.Env, schedulerctl.Options{})
	res, err := r.Reconcile(context.Background(), r.Keys()[0])
	if err != nil || res.RequeueAfter == 0 {
		t.Fatalf("reconcile: %v %v", res, err)
	}
	e.Sync()
	var p corev1.Pod
	e.Get("pods", "default", "big", &p)
	want := "0/2 nodes are available: 2 Insufficient cpu."
	var cond *corev1.PodCondition
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == corev1.PodScheduled {
			cond = &p.Status.Conditions[i]
		}
	}
	if p.Spec.NodeName != "" || cond == nil || cond.Status != corev1.ConditionFalse || cond.Reason != "Unschedulable" || cond.Message != want {
		t.Fatalf("pod on %q, PodScheduled %+v; want unbound with %q", p.Spec.NodeName, cond, want)
	}
	// A node event (here: a bigger node) hands the pod back.
	big := e.Create(node("c", "8", ""))
	data, _ := json.Marshal(big)
	keys := r.OnNode(&events.Event{Type: events.TypeCreated, Resource: "nodes", Name: "c", Seq: 1 << 40, Object: data})
	if len(keys) != 1 || keys[0] != "default/big" {
		t.Fatalf("node change re-queued %v, want default/big", keys)
	}
	reconcileAll(t, r, keys)
	e.Sync()
	e.Get("pods", "default", "big", &p)
	if p.Spec.NodeName != "c" {
		t.Fatalf("pod on %q, want c", p.Spec.NodeName)
	}
}

// Terminating pods are not scheduled.
func TestSkipsTerminatingPods(t *testing.T) {
	e := ctltest.Start(t)
	e.Create(node("a", "1", ""))
	e.Create(pod("p", "1m", ""))
	obj := e.Create(pod("q", "1m", ""))
	if _, err := e.Writer.MarkDeleting(context.Background(), objects.ByKind("Pod"), "default", obj.GetName(), nil, events.WriteOptions{Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	e.Sync()
	r := schedulerctl.New(e.Env, schedulerctl.Options{})
	reconcileAll(t, r, r.Keys())
	e.Sync()
	var p, q corev1.Pod
	e.Get("pods", "default", "p", &p)
	e.Get("pods", "default", "q", &q)
	if p.Spec.NodeName != "a" || q.Spec.NodeName != "" {
		t.Fatalf("p on %q (want a), terminating q on %q (want none)", p.Spec.NodeName, q.Spec.NodeName)
	}
}
