package daemonset

import (
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/strom-project/strom/reconcilers/history"
)

func TestPlacement(t *testing.T) {
	tolerate := func(key string, effect corev1.TaintEffect) dsOpt {
		return func(ds *appsv1.DaemonSet) {
			ds.Spec.Template.Spec.Tolerations = append(ds.Spec.Template.Spec.Tolerations,
				corev1.Toleration{Key: key, Operator: corev1.TolerationOpExists, Effect: effect})
		}
	}
	nodeSelector := func(k, v string) dsOpt {
		return func(ds *appsv1.DaemonSet) { ds.Spec.Template.Spec.NodeSelector = map[string]string{k: v} }
	}
	affinity := func(key string, op corev1.NodeSelectorOperator, values ...string) dsOpt {
		return func(ds *appsv1.DaemonSet) {
			ds.Spec.Template.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
				RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{
					{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: key, Operator: op, Values: values}}}}},
				PreferredDuringSchedulingIgnoredDuringExecution: []corev1.PreferredSchedulingTerm{{Weight: 1,
					Preference: corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "zone", Operator: corev1.NodeSelectorOpExists}}}}},
			}}
		}
	}
	hostNetwork := func(ds *appsv1.DaemonSet) { ds.Spec.Template.Spec.HostNetwork = true }
	for _, tc := range []struct {
		name  string
		ds    []dsOpt
		nodes []*corev1.Node
		want  []string // nodes that get a pod
	}{
		{name: "one pod per node", nodes: nodes("n1", "n2"), want: []string{"n1", "n2"}},
		{name: "untolerated NoSchedule taint", nodes: []*corev1.Node{mkNode("n1"), mkNode("n2", taint("dedicated", corev1.TaintEffectNoSchedule))}, want: []string{"n1"}},
		{name: "tolerated NoSchedule taint", ds: []dsOpt{tolerate("dedicated", corev1.TaintEffectNoSchedule)},
			nodes: []*corev1.Node{mkNode("n1"), mkNode("n2", taint("dedicated", corev1.TaintEffectNoSchedule))}, want: []string{"n1", "n2"}},
		{name: "untolerated NoExecute taint", nodes: []*corev1.Node{mkNode("n1", taint("gpu", corev1.TaintEffectNoExecute)), mkNode("n2")}, want: []string{"n2"}},
		{name: "PreferNoSchedule is no obstacle", nodes: []*corev1.Node{mkNode("n1", taint("soft", corev1.TaintEffectPreferNoSchedule))}, want: []string{"n1"}},
		{name: "cordoned node still gets its daemon", nodes: []*corev1.Node{mkNode("n1", cordoned), mkNode("n2", taint(corev1.TaintNodeUnschedulable, corev1.TaintEffectNoSchedule))}, want: []string{"n1", "n2"}},
		{name: "pressure taints tolerated", nodes: []*corev1.Node{mkNode("n1", taint(corev1.TaintNodeDiskPressure, corev1.TaintEffectNoSchedule),
			taint(corev1.TaintNodeMemoryPressure, corev1.TaintEffectNoSchedule), taint(corev1.TaintNodePIDPressure, corev1.TaintEffectNoSchedule))}, want: []string{"n1"}},
		{name: "not-ready and unreachable NoExecute tolerated", nodes: []*corev1.Node{mkNode("n1", taint(corev1.TaintNodeUnreachable, corev1.TaintEffectNoExecute),
			taint(corev1.TaintNodeNotReady, corev1.TaintEffectNoExecute))}, want: []string{"n1"}},
		{name: "a node not yet ready waits", nodes: []*corev1.Node{mkNode("n1", notReady), mkNode("n2")}, want: []string{"n2"}},
		{name: "network-unavailable only for hostNetwork", nodes: []*corev1.Node{mkNode("n1", taint(corev1.TaintNodeNetworkUnavailable, corev1.TaintEffectNoSchedule))}, want: []string{}},
		{name: "network-unavailable tolerated by hostNetwork pods", ds: []dsOpt{hostNetwork},
			nodes: []*corev1.Node{mkNode("n1", taint(corev1.TaintNodeNetworkUnavailable, corev1.TaintEffectNoSchedule))}, want: []string{"n1"}},
		{name: "nodeSelector", ds: []dsOpt{nodeSelector("role", "edge")},
			nodes: []*corev1.Node{mkNode("n1", label("role", "edge")), mkNode("n2"), mkNode("n3", label("role", "core"))}, want: []string{"n1"}},
		{name: "required node affinity", ds: []dsOpt{affinity("disk", corev1.NodeSelectorOpIn, "ssd")},
			nodes: []*corev1.Node{mkNode("n1", label("disk", "hdd")), mkNode("n2", label("disk", "ssd"))}, want: []string{"n2"}},
		{name: "template nodeName", ds: []dsOpt{func(ds *appsv1.DaemonSet) { ds.Spec.Template.Spec.NodeName = "n2" }}, nodes: nodes("n1", "n2"), want: []string{"n2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ds := mkDS(tc.ds...)
			p := plan(Input{DaemonSet: ds, Nodes: tc.nodes})
			if got := targets(p.Create); !slices.Equal(got, tc.want) {
				t.Fatalf("pods for %v, want %v", got, tc.want)
			}
			if len(p.Delete) != 0 {
				t.Fatalf("deletes %v", names(p.Delete))
			}
			if int(p.Status.DesiredNumberScheduled) != len(tc.want) || p.Status.CurrentNumberScheduled != 0 || p.Status.NumberUnavailable != int32(len(tc.want)) {
				t.Fatalf("status %+v", p.Status)
			}
			for _, pod := range p.Create {
				checkNewPod(t, ds, pod)
			}
		})
	}
}

// checkNewPod checks what every daemon pod carries.
func checkNewPod(t *testing.T, ds *appsv1.DaemonSet, pod *corev1.Pod) {
	t.Helper()
	if !strings.HasPrefix(pod.Name, ds.Name+"-") || pod.Namespace != ds.Namespace || pod.Spec.NodeName != ds.Spec.Template.Spec.NodeName {
		t.Errorf("pod meta %s/%s nodeName %q", pod.Namespace, pod.Name, pod.Spec.NodeName)
	}
	if ref := metav1.GetControllerOf(pod); ref == nil || ref.Kind != "DaemonSet" || ref.UID != ds.UID {
		t.Errorf("controller %+v", ref)
	}
	if pod.Labels["app"] != "agent" || pod.Labels[history.HashLabel] != hashOf(ds) || pod.Labels[TemplateGenerationLabel] == "" {
		t.Errorf("labels %v", pod.Labels)
	}
	req := pod.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution
	if len(req.NodeSelectorTerms) != 1 || len(req.NodeSelectorTerms[0].MatchExpressions) != 0 || TargetNode(pod) == "" {
		t.Errorf("required affinity %+v", req)
	}
	if a := ds.Spec.Template.Spec.Affinity; a != nil && len(pod.Spec.Affinity.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution) != len(a.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution) {
		t.Errorf("preferred affinity dropped")
	}
	keys := map[string]bool{}
	for _, tol := range pod.Spec.Tolerations {
		if tol.TolerationSeconds != nil {
			t.Errorf("toleration %+v has seconds", tol)
		}
		keys[tol.Key+":"+string(tol.Effect)] = true
	}
	for _, k := range []string{"node.kubernetes.io/not-ready:NoExecute", "node.kubernetes.io/unreachable:NoExecute", "node.kubernetes.io/disk-pressure:NoSchedule",
		"node.kubernetes.io/memory-pressure:NoSchedule", "node.kubernetes.io/pid-pressure:NoSchedule", "node.kubernetes.io/unschedulable:NoSchedule"} {
		if !keys[k] {
			t.Errorf("toleration %s missing: %v", k, pod.Spec.Tolerations)
		}
	}
	if keys["node.kubernetes.io/network-unavailable:NoSchedule"] != ds.Spec.Template.Spec.HostNetwork {
		t.Errorf("network-unavailable toleration %v with hostNetwork %v", keys["node.kubernetes.io/network-unavailable:NoSchedule"], ds.Spec.Template.Spec.HostNetwork)
	}
}

// A template's own toleration of an automatic key is replaced, so it
// cannot put a deadline on the daemon's stay.
func TestTolerationsReplaceTemplateSeconds(t *testing.T) {
	secs := int64(30)
	spec := &corev1.PodSpec{Tolerations: []corev1.Toleration{
		{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: &secs},
		{Key: "mine", Operator: corev1.TolerationOpExists}}}
	got := Tolerations(spec)
	if len(got) != 7 || got[0].TolerationSeconds != nil || got[1].Key != "mine" {
		t.Fatalf("tolerations %+v", got)
	}
	if spec.Tolerations[0].TolerationSeconds == nil {
		t.Fatal("template modified")
	}
}

func TestNodeJoinsAndLeaves(t *testing.T) {
	ds := mkDS()
	pods := []*corev1.Pod{podOn(ds, "agent-a", "n1", t0), podOn(ds, "agent-b", "n2", t0)}
	p := plan(Input{DaemonSet: ds, Nodes: nodes("n1", "n2"), Pods: pods})
	if len(p.Create)+len(p.Delete) != 0 {
		t.Fatalf("steady state planned %v / %v", targets(p.Create), names(p.Delete))
	}
	s := p.Status
	if s.DesiredNumberScheduled != 2 || s.CurrentNumberScheduled != 2 || s.NumberReady != 2 || s.NumberAvailable != 2 || s.UpdatedNumberScheduled != 2 || s.NumberUnavailable != 0 || s.ObservedGeneration != 1 {
		t.Fatalf("status %+v", s)
	}
	p = plan(Input{DaemonSet: ds, Nodes: nodes("n1", "n2", "n3"), Pods: pods})
	if got := targets(p.Create); !slices.Equal(got, []string{"n3"}) || len(p.Delete) != 0 {
		t.Fatalf("joined: create %v delete %v", got, names(p.Delete))
	}
	if p.Status.DesiredNumberScheduled != 3 || p.Status.NumberUnavailable != 1 {
		t.Fatalf("joined: status %+v", p.Status)
	}
	p = plan(Input{DaemonSet: ds, Nodes: nodes("n1"), Pods: pods})
	if got := names(p.Delete); !slices.Equal(got, []string{"agent-b"}) || len(p.Create) != 0 {
		t.Fatalf("left: create %v delete %v", targets(p.Create), got)
	}
	if p.Status.DesiredNumberScheduled != 1 || p.Status.NumberMisscheduled != 0 {
		t.Fatalf("left: status %+v", p.Status)
	}
}

// A NoSchedule taint keeps the pod there (misscheduled); a NoExecute taint
// or a node that stops matching the selector removes it.
func TestNodeStopsMatching(t *testing.T) {
	ds := mkDS(func(ds *appsv1.DaemonSet) { ds.Spec.Template.Spec.NodeSelector = map[string]string{"role": "edge"} })
	pods := []*corev1.Pod{podOn(ds, "agent-a", "n1", t0), podOn(ds, "agent-b", "n2", t0), podOn(ds, "agent-c", "n3", t0)}
	ns := []*corev1.Node{
		mkNode("n1", label("role", "edge"), taint("dedicated", corev1.TaintEffectNoSchedule)),
		mkNode("n2", label("role", "edge"), taint("dedicated", corev1.TaintEffectNoExecute)),
		mkNode("n3", label("role", "core")),
		mkNode("n4", label("role", "edge"), notReady),
	}
	p := plan(Input{DaemonSet: ds, Nodes: ns, Pods: pods})
	if got := names(p.Delete); !slices.Equal(got, []string{"agent-b", "agent-c"}) || len(p.Create) != 0 {
		t.Fatalf("create %v delete %v", targets(p.Create), got)
	}
	s := p.Status
	if s.DesiredNumberScheduled != 0 || s.NumberMisscheduled != 3 || s.CurrentNumberScheduled != 0 {
		t.Fatalf("status %+v", s)
	}
}

func TestDuplicatesFailedAndTerminating(t *testing.T) {
	ds := mkDS()
	failed := podOn(ds, "agent-f", "n2", t0)
	failed.Status.Phase = corev1.PodFailed
	failed.Status.Conditions[0].Status = corev1.ConditionFalse
	terminating := podOn(ds, "agent-t", "n3", t0)
	terminating.DeletionTimestamp = ptr(metav1.NewTime(t0.Add(time.Minute)))
	pending := newPod(ds, "agent-p", "n4", hashOf(ds)) // not bound yet
	pending.CreationTimestamp = metav1.NewTime(t0)
	pods := []*corev1.Pod{podOn(ds, "agent-new", "n1", t0.Add(time.Minute)), podOn(ds, "agent-old", "n1", t0), failed, terminating, pending}
	p := plan(Input{DaemonSet: ds, Nodes: nodes("n1", "n2", "n3", "n4"), Pods: pods})
	if got := names(p.Delete); !slices.Equal(got, []string{"agent-f", "agent-new"}) {
		t.Fatalf("delete %v", got)
	}
	if len(p.Create) != 0 {
		t.Fatalf("create %v (a failed pod is replaced once gone, a terminating one blocks its node)", targets(p.Create))
	}
	if len(p.Events) != 1 || p.Events[0].Reason != "FailedDaemonPod" || !strings.Contains(p.Events[0].Message, "agent-f") {
		t.Fatalf("events %+v", p.Events)
	}
	s := p.Status
	if s.DesiredNumberScheduled != 4 || s.CurrentNumberScheduled != 4 || s.NumberReady != 2 || s.NumberAvailable != 2 || s.NumberUnavailable != 2 {
		t.Fatalf("status %+v", s) // n1's oldest, n3's terminating pod are ready; n2 failed, n4 pending
	}
}

func TestMinReadySeconds(t *testing.T) {
	ds := mkDS(func(ds *appsv1.DaemonSet) { ds.Spec.MinReadySeconds = 30 })
	now := t0.Add(10 * time.Second)
	pods := []*corev1.Pod{podOn(ds, "agent-a", "n1", t0), podOn(ds, "agent-b", "n2", t0.Add(-time.Minute))}
	p := plan(Input{DaemonSet: ds, Nodes: nodes("n1", "n2"), Pods: pods, Now: now})
	if p.Status.NumberReady != 2 || p.Status.NumberAvailable != 1 || p.Status.NumberUnavailable != 1 {
		t.Fatalf("status %+v", p.Status)
	}
	if p.RequeueAfter != 20*time.Second {
		t.Fatalf("requeue after %v, want 20s", p.RequeueAfter)
	}
}

func TestCollisionCountAndConditionsKept(t *testing.T) {
	ds := mkDS()
	ds.Status.Conditions = []appsv1.DaemonSetCondition{{Type: "Custom", Status: corev1.ConditionTrue}}
	p := plan(Input{DaemonSet: ds, Nodes: nodes("n1"), CollisionCount: ptr(int32(2))})
	if p.Status.CollisionCount == nil || *p.Status.CollisionCount != 2 || len(p.Status.Conditions) != 1 {
		t.Fatalf("status %+v", p.Status)
	}
}

// A failed pod is left in place while its node's back-off lasts; after it
// the plan deletes it and names the node for the next back-off.
func TestFailedPodBackoff(t *testing.T) {
	ds := mkDS()
	failed := podOn(ds, "agent-f", "n2", t0)
	failed.Status.Phase = corev1.PodFailed
	pods := []*corev1.Pod{podOn(ds, "agent-a", "n1", t0), failed}
	now := t0.Add(time.Hour)
	p := plan(Input{DaemonSet: ds, Nodes: nodes("n1", "n2"), Pods: pods, Now: now, FailedBackoff: map[string]time.Time{"n2": now.Add(5 * time.Second)}})
	if len(p.Delete)+len(p.Create) != 0 || len(p.FailedDeleted) != 0 || p.RequeueAfter != 5*time.Second {
		t.Fatalf("in back-off: delete %v create %v failed %v requeue %v", names(p.Delete), targets(p.Create), p.FailedDeleted, p.RequeueAfter)
	}
	p = plan(Input{DaemonSet: ds, Nodes: nodes("n1", "n2"), Pods: pods, Now: now, FailedBackoff: map[string]time.Time{"n2": now}})
	if got := names(p.Delete); !slices.Equal(got, []string{"agent-f"}) || !slices.Equal(p.FailedDeleted, []string{"n2"}) {
		t.Fatalf("after back-off: delete %v failed %v", got, p.FailedDeleted)
	}
}
