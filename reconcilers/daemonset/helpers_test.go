package daemonset

import (
	"fmt"
	"math/rand/v2"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/strom-project/strom/reconcilers/history"
)

var t0 = time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)

func planner() Planner { return Planner{Rand: rand.New(rand.NewPCG(1, 2))} }

type nodeOpt func(*corev1.Node)

func mkNode(name string, opts ...nodeOpt) *corev1.Node {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"kubernetes.io/hostname": name}},
		Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}}}
	for _, o := range opts {
		o(n)
	}
	return n
}

func taint(key string, effect corev1.TaintEffect) nodeOpt {
	return func(n *corev1.Node) { n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: key, Effect: effect}) }
}

func label(k, v string) nodeOpt { return func(n *corev1.Node) { n.Labels[k] = v } }

func notReady(n *corev1.Node) { n.Status.Conditions[0].Status = corev1.ConditionFalse }

func cordoned(n *corev1.Node) { n.Spec.Unschedulable = true }

func nodes(names ...string) []*corev1.Node {
	out := make([]*corev1.Node, len(names))
	for i, n := range names {
		out[i] = mkNode(n)
	}
	return out
}

type dsOpt func(*appsv1.DaemonSet)

func mkDS(opts ...dsOpt) *appsv1.DaemonSet {
	ds := &appsv1.DaemonSet{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "DaemonSet"},
		ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: "kube-system", UID: "ds-uid", Generation: 1},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "agent"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "agent"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "agent:1"}}},
			},
			UpdateStrategy: appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDaemonSet{MaxUnavailable: ptr(intstr.FromInt32(1)), MaxSurge: ptr(intstr.FromInt32(0))}},
		},
	}
	for _, o := range opts {
		o(ds)
	}
	return ds
}

func ptr[T any](v T) *T { return &v }

func rolling(maxUnavailable, maxSurge intstr.IntOrString) dsOpt {
	return func(ds *appsv1.DaemonSet) {
		ds.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateDaemonSet{MaxUnavailable: &maxUnavailable, MaxSurge: &maxSurge}
	}
}

func onDelete(ds *appsv1.DaemonSet) {
	ds.Spec.UpdateStrategy = appsv1.DaemonSetUpdateStrategy{Type: appsv1.OnDeleteDaemonSetStrategyType}
}

// image changes the template, as a new generation.
func image(img string) dsOpt {
	return func(ds *appsv1.DaemonSet) {
		ds.Spec.Template.Spec.Containers[0].Image = img
		ds.Generation++
	}
}

// hashOf is the revision hash of ds's template.
func hashOf(ds *appsv1.DaemonSet) string {
	data, err := history.TemplatePatch(&ds.Spec.Template)
	if err != nil {
		panic(err)
	}
	return history.Hash(data, nil)
}

// podOn is a running, ready pod of ds (made from its current template)
// bound to node, created at created.
func podOn(ds *appsv1.DaemonSet, name, node string, created time.Time) *corev1.Pod {
	p := newPod(ds, name, node, hashOf(ds))
	p.CreationTimestamp = metav1.NewTime(created)
	p.Spec.NodeName = node
	p.Status.Phase = corev1.PodRunning
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(created)}}
	return p
}

func names(pods []*corev1.Pod) []string {
	out := []string{}
	for _, p := range pods {
		out = append(out, p.Name)
	}
	return out
}

func targets(pods []*corev1.Pod) []string {
	out := []string{}
	for _, p := range pods {
		out = append(out, TargetNode(p))
	}
	return out
}

func plan(in Input) Plan {
	if in.Hash == "" {
		in.Hash = hashOf(in.DaemonSet)
	}
	if in.Now.IsZero() {
		in.Now = t0.Add(time.Hour)
	}
	p, err := planner().Plan(in)
	if err != nil {
		panic(fmt.Sprint("plan: ", err))
	}
	return p
}
