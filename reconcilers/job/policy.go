package job

import (
	"fmt"
	"slices"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

// failureAction is what a failed pod means for its Job.
type failureAction int

const (
	actCount     failureAction = iota // counts towards the back-off limits
	actIgnore                         // not counted; the pod is replaced
	actFailJob                        // the Job fails at once
	actFailIndex                      // the pod's index fails at once
)

// matchFailurePolicy applies a Job's podFailurePolicy to a failed pod:
// the first rule that matches decides; without a match (or a policy) the
// failure counts. msg explains a FailJob match, as Kubernetes words it.
func matchFailurePolicy(p *batchv1.PodFailurePolicy, pod *corev1.Pod) (failureAction, string) {
	if p == nil {
		return actCount, ""
	}
	for i, r := range p.Rules {
		var what string
		switch {
		case r.OnExitCodes != nil:
			c := matchExitCodes(r.OnExitCodes, pod)
			if c == nil {
				continue
			}
			what = fmt.Sprintf("Container %s for pod %s/%s failed with exit code %d matching %s rule at index %d",
				c.Name, pod.Namespace, pod.Name, c.State.Terminated.ExitCode, r.Action, i)
		case len(r.OnPodConditions) > 0:
			t, ok := matchConditions(r.OnPodConditions, pod)
			if !ok {
				continue
			}
			what = fmt.Sprintf("Pod %s/%s has condition %s matching %s rule at index %d", pod.Namespace, pod.Name, t, r.Action, i)
		default:
			continue
		}
		switch r.Action {
		case batchv1.PodFailurePolicyActionIgnore:
			return actIgnore, what
		case batchv1.PodFailurePolicyActionFailJob:
			return actFailJob, what
		case batchv1.PodFailurePolicyActionFailIndex:
			return actFailIndex, what
		}
		return actCount, what
	}
	return actCount, ""
}

// matchExitCodes returns the first terminated container whose exit code
// the requirement matches. NotIn never matches exit code 0 (a container
// that succeeded did not fail the pod).
func matchExitCodes(req *batchv1.PodFailurePolicyOnExitCodesRequirement, pod *corev1.Pod) *corev1.ContainerStatus {
	all := append(append([]corev1.ContainerStatus(nil), pod.Status.InitContainerStatuses...), pod.Status.ContainerStatuses...)
	for i := range all {
		c := &all[i]
		if c.State.Terminated == nil || (req.ContainerName != nil && *req.ContainerName != c.Name) {
			continue
		}
		code := c.State.Terminated.ExitCode
		in := slices.Contains(req.Values, code)
		switch req.Operator {
		case batchv1.PodFailurePolicyOnExitCodesOpIn:
			if in {
				return c
			}
		case batchv1.PodFailurePolicyOnExitCodesOpNotIn:
			if !in && code != 0 {
				return c
			}
		}
	}
	return nil
}

// matchConditions reports the first pod condition a pattern matches.
func matchConditions(pats []batchv1.PodFailurePolicyOnPodConditionsPattern, pod *corev1.Pod) (corev1.PodConditionType, bool) {
	for _, pat := range pats {
		want := pat.Status
		if want == "" {
			want = corev1.ConditionTrue
		}
		for _, c := range pod.Status.Conditions {
			if c.Type == pat.Type && c.Status == want {
				return c.Type, true
			}
		}
	}
	return "", false
}

// matchSuccessPolicy returns the index of the first successPolicy rule the
// succeeded indexes meet, or -1.
func matchSuccessPolicy(p *batchv1.SuccessPolicy, succeeded indexSet, completions int) int {
	if p == nil {
		return -1
	}
	for i, r := range p.Rules {
		n, total := len(succeeded), -1
		if r.SucceededIndexes != nil {
			want := parseIndexes(*r.SucceededIndexes, completions)
			n, total = 0, len(want)
			for ix := range want {
				if succeeded[ix] {
					n++
				}
			}
		}
		switch {
		case r.SucceededCount != nil:
			if n >= int(*r.SucceededCount) {
				return i
			}
		case total >= 0 && n == total:
			return i
		}
	}
	return -1
}
