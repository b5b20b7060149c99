package job

import (
	"fmt"
	"strconv"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// IndexEnv is the environment variable an Indexed Job's pods find their
// completion index in.
const IndexEnv = "JOB_COMPLETION_INDEX"

// Rand is the random source for pod name suffixes (math/rand/v2's *Rand
// fits).
type Rand interface{ IntN(n int) int }

// nameAlphabet is Kubernetes' generateName alphabet.
const nameAlphabet = "bcdfghjklmnpqrstvwxz2456789"

// ControllerRef returns the owner reference a Job's pods carry.
func ControllerRef(j *batchv1.Job) metav1.OwnerReference {
	t := true
	return metav1.OwnerReference{APIVersion: batchv1.SchemeGroupVersion.String(), Kind: "Job", Name: j.Name, UID: j.UID,
		Controller: &t, BlockOwnerDeletion: &t}
}

func hasFinalizer(p *corev1.Pod) bool {
	for _, f := range p.Finalizers {
		if f == batchv1.JobTrackingFinalizer {
			return true
		}
	}
	return false
}

// withoutFinalizer returns a copy of p without the tracking finalizer.
func withoutFinalizer(p *corev1.Pod) *corev1.Pod {
	c := p.DeepCopy()
	fs := c.Finalizers[:0]
	for _, f := range c.Finalizers {
		if f != batchv1.JobTrackingFinalizer {
			fs = append(fs, f)
		}
	}
	if len(fs) == 0 {
		fs = nil
	}
	c.Finalizers = fs
	return c
}

func terminal(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
}

func ready(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// indexOf returns a pod's completion index, or -1.
func indexOf(p *corev1.Pod) int {
	v, ok := p.Annotations[batchv1.JobCompletionIndexAnnotation]
	if !ok {
		v, ok = p.Labels[batchv1.JobCompletionIndexAnnotation]
	}
	if !ok {
		return -1
	}
	i, err := strconv.Atoi(v)
	if err != nil || i < 0 {
		return -1
	}
	return i
}

// indexFailures is the failure count a pod's annotation carries: the
// failures of its index before it.
func indexFailures(p *corev1.Pod) int {
	n, err := strconv.Atoi(p.Annotations[batchv1.JobIndexFailureCountAnnotation])
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// finishTime is when a pod finished: its containers' last termination,
// else the last transition of its Ready condition, else its deletion or
// creation time.
func finishTime(p *corev1.Pod) time.Time {
	var t time.Time
	for _, list := range [2][]corev1.ContainerStatus{p.Status.InitContainerStatuses, p.Status.ContainerStatuses} {
		for i := range list {
			if term := list[i].State.Terminated; term != nil && term.FinishedAt.After(t) {
				t = term.FinishedAt.Time
			}
		}
	}
	if !t.IsZero() {
		return t
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady && !c.LastTransitionTime.IsZero() {
			return c.LastTransitionTime.Time
		}
	}
	if p.DeletionTimestamp != nil {
		return p.DeletionTimestamp.Time
	}
	return p.CreationTimestamp.Time
}

// restarts sums a pod's container restarts (restartPolicy OnFailure
// failures happen in place).
func restarts(p *corev1.Pod) int {
	n := 0
	for _, cs := range p.Status.InitContainerStatuses {
		n += int(cs.RestartCount)
	}
	for _, cs := range p.Status.ContainerStatuses {
		n += int(cs.RestartCount)
	}
	return n
}

// newPod builds a pod from j's template: name <job>-<random> or, for a
// completion index, <job>-<index>-<random> with the index in an
// annotation, a label, the environment and the hostname.
func (p Planner) newPod(j *batchv1.Job, index, failures int, used map[string]bool) *corev1.Pod {
	t := j.Spec.Template.DeepCopy()
	base := j.Name
	if index >= 0 {
		base = fmt.Sprintf("%s-%d", j.Name, index)
	}
	pod := &corev1.Pod{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{
			Name:            p.freshName(base, used),
			Namespace:       j.Namespace,
			Labels:          t.Labels,
			Annotations:     t.Annotations,
			Finalizers:      append(t.Finalizers, batchv1.JobTrackingFinalizer),
			OwnerReferences: []metav1.OwnerReference{ControllerRef(j)},
		},
		Spec: t.Spec,
	}
	if index < 0 {
		return pod
	}
	ix := strconv.Itoa(index)
	if pod.Labels == nil {
		pod.Labels = map[string]string{}
	}
	if pod.Annotations == nil {
		pod.Annotations = map[string]string{}
	}
	pod.Labels[batchv1.JobCompletionIndexAnnotation] = ix
	pod.Annotations[batchv1.JobCompletionIndexAnnotation] = ix
	if j.Spec.BackoffLimitPerIndex != nil {
		pod.Annotations[batchv1.JobIndexFailureCountAnnotation] = strconv.Itoa(failures)
	}
	if pod.Spec.Hostname == "" {
		pod.Spec.Hostname = base
	}
	env := corev1.EnvVar{Name: IndexEnv, Value: ix}
	for i := range pod.Spec.InitContainers {
		pod.Spec.InitContainers[i].Env = append(pod.Spec.InitContainers[i].Env, env)
	}
	for i := range pod.Spec.Containers {
		pod.Spec.Containers[i].Env = append(pod.Spec.Containers[i].Env, env)
	}
	return pod
}

// freshName returns base-xxxxx, not in used, at most 63 characters.
func (p Planner) freshName(base string, used map[string]bool) string {
	const suffix = 5
	if len(base) > 63-suffix-1 {
		base = base[:63-suffix-1]
	}
	for {
		b := make([]byte, suffix)
		for i := range b {
			b[i] = nameAlphabet[p.Rand.IntN(len(nameAlphabet))]
		}
		if name := base + "-" + string(b); !used[name] {
			used[name] = true
			return name
		}
	}
}
