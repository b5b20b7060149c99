package job

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

var now = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

type jobOpt func(*batchv1.Job)

func newJob(opts ...jobOpt) *batchv1.Job {
	j := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "pi", UID: "job-uid"},
		Spec: batchv1.JobSpec{
			Completions: ptr(int32(1)), Parallelism: ptr(int32(1)), BackoffLimit: ptr(int32(6)),
			CompletionMode: ptr(batchv1.NonIndexedCompletion), Suspend: ptr(false),
			PodReplacementPolicy: ptr(batchv1.TerminatingOrFailed),
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"batch.kubernetes.io/job-name": "pi"}},
				Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever,
					Containers: []corev1.Container{{Name: "c", Image: "busybox"}}},
			},
		},
	}
	start := metav1.NewTime(now.Add(-time.Hour))
	j.Status.StartTime = &start
	for _, o := range opts {
		o(j)
	}
	return j
}

func completions(n int32) jobOpt { return func(j *batchv1.Job) { j.Spec.Completions = &n } }
func par(n int32) jobOpt         { return func(j *batchv1.Job) { j.Spec.Parallelism = &n } }
func backoffLimit(n int32) jobOpt {
	return func(j *batchv1.Job) { j.Spec.BackoffLimit = &n }
}
func indexed(j *batchv1.Job)   { j.Spec.CompletionMode = ptr(batchv1.IndexedCompletion) }
func workQueue(j *batchv1.Job) { j.Spec.Completions = nil }
func status(f func(*batchv1.JobStatus)) jobOpt {
	return func(j *batchv1.Job) { f(&j.Status) }
}

type podOpt func(*corev1.Pod)

func pod(name string, opts ...podOpt) *corev1.Pod {
	t := true
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, UID: types.UID("uid-" + name),
		Finalizers:        []string{batchv1.JobTrackingFinalizer},
		CreationTimestamp: metav1.NewTime(now.Add(-30 * time.Minute)),
		OwnerReferences:   []metav1.OwnerReference{{APIVersion: "batch/v1", Kind: "Job", Name: "pi", UID: "job-uid", Controller: &t}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning}}
	for _, o := range opts {
		o(p)
	}
	return p
}

func succeededAt(at time.Time) podOpt {
	return func(p *corev1.Pod) { exited(p, corev1.PodSucceeded, 0, at) }
}
func failedAt(at time.Time) podOpt { return failedWith(1, at) }
func failedWith(code int32, at time.Time) podOpt {
	return func(p *corev1.Pod) { exited(p, corev1.PodFailed, code, at) }
}

func exited(p *corev1.Pod, ph corev1.PodPhase, code int32, at time.Time) {
	p.Status.Phase = ph
	p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "c", State: corev1.ContainerState{
		Terminated: &corev1.ContainerStateTerminated{ExitCode: code, FinishedAt: metav1.NewTime(at)}}}}
}

func counted(p *corev1.Pod) { p.Finalizers = nil }
func isReady(p *corev1.Pod) {
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
}
func deleting(p *corev1.Pod) { ts := metav1.NewTime(now); p.DeletionTimestamp = &ts }
func index(i string) podOpt {
	return func(p *corev1.Pod) {
		p.Annotations = map[string]string{batchv1.JobCompletionIndexAnnotation: i}
	}
}
func failures(n string) podOpt {
	return func(p *corev1.Pod) { p.Annotations[batchv1.JobIndexFailureCountAnnotation] = n }
}
func withCondition(t corev1.PodConditionType) podOpt {
	return func(p *corev1.Pod) {
		p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: t, Status: corev1.ConditionTrue})
	}
}

func planner() Planner { return Planner{Rand: rand.New(rand.NewPCG(1, 2))} }

func names(pods []*corev1.Pod) string {
	out := make([]string, len(pods))
	for i, p := range pods {
		out[i] = p.Name
	}
	return strings.Join(out, ",")
}

// conds renders True conditions as "Type:Reason".
func conds(st batchv1.JobStatus) string {
	var out []string
	for _, c := range st.Conditions {
		out = append(out, string(c.Type)+"="+string(c.Status)+":"+c.Reason)
	}
	return strings.Join(out, ",")
}

func TestPlan(t *testing.T) {
	cases := []struct {
		name string
		job  *batchv1.Job
		pods []*corev1.Pod
		// expectations
		create, delete, unfinalize int
		active, succeeded, failed  int32
		uncounted                  string // "s:uid,...;f:uid,..." of the new status
		conds                      string
		completedIx, failedIx      string
		requeue                    time.Duration
		check                      func(t *testing.T, p Plan)
	}{
		{name: "new job starts parallelism pods", job: newJob(completions(5), par(2)),
			create: 2, active: 2},
		{name: "never more than completions left", job: newJob(completions(5), par(4), status(func(s *batchv1.JobStatus) { s.Succeeded = 3 })),
			create: 2, active: 2, succeeded: 3},
		{name: "a finished pod goes to uncounted first, finalizer removed after",
			job:    newJob(completions(2)),
			pods:   []*corev1.Pod{pod("a", succeededAt(now))},
			create: 1, unfinalize: 1, active: 1, uncounted: "s:uid-a;f:"},
		{name: "an uncounted pod without finalizer is counted",
			job: newJob(completions(2), status(func(s *batchv1.JobStatus) {
				s.UncountedTerminatedPods = &batchv1.UncountedTerminatedPods{Succeeded: []types.UID{"uid-a"}}
			})),
			pods:   []*corev1.Pod{pod("a", succeededAt(now), counted), pod("b")},
			active: 1, succeeded: 1, uncounted: "s:;f:"},
		{name: "an uncounted pod that is gone still counts",
			job: newJob(completions(3), status(func(s *batchv1.JobStatus) {
				s.UncountedTerminatedPods = &batchv1.UncountedTerminatedPods{Failed: []types.UID{"uid-x"}}
			})),
			failed: 1, create: 1, active: 1, requeue: 0,
			uncounted: "s:;f:"},
		{name: "counted pods are not counted again", job: newJob(completions(3), status(func(s *batchv1.JobStatus) { s.Succeeded = 1 })),
			pods: []*corev1.Pod{pod("a", succeededAt(now.Add(-time.Minute)), counted)}, succeeded: 1, create: 1, active: 1},
		{name: "success criteria met, then complete",
			job:        newJob(completions(2), status(func(s *batchv1.JobStatus) { s.Succeeded = 1 })),
			pods:       []*corev1.Pod{pod("a", succeededAt(now), counted), pod("b", succeededAt(now))},
			unfinalize: 1, succeeded: 1, uncounted: "s:uid-b;f:", conds: "SuccessCriteriaMet=True:CompletionsReached"},
		{name: "complete once all counted",
			job: newJob(completions(2), status(func(s *batchv1.JobStatus) {
				s.Succeeded = 1
				s.UncountedTerminatedPods = &batchv1.UncountedTerminatedPods{Succeeded: []types.UID{"uid-b"}}
				setCondition(s, batchv1.JobSuccessCriteriaMet, corev1.ConditionTrue, "CompletionsReached", "x", now)
			})),
			pods:      []*corev1.Pod{pod("a", succeededAt(now), counted), pod("b", succeededAt(now), counted)},
			succeeded: 2, uncounted: "s:;f:", conds: "SuccessCriteriaMet=True:CompletionsReached,Complete=True:CompletionsReached",
			check: func(t *testing.T, p Plan) {
				if p.Status.CompletionTime == nil || !p.Status.CompletionTime.Time.Equal(now) {
					t.Errorf("completionTime %v", p.Status.CompletionTime)
				}
			}},
		{name: "first failure backs off 10s", job: newJob(completions(1)),
			pods:       []*corev1.Pod{pod("a", failedAt(now.Add(-3*time.Second)))},
			unfinalize: 1, uncounted: "s:;f:uid-a", requeue: 7 * time.Second},
		{name: "third failure backs off 40s", job: newJob(completions(1), status(func(s *batchv1.JobStatus) { s.Failed = 2 })),
			pods: []*corev1.Pod{pod("a", failedAt(now.Add(-50*time.Second)), counted), pod("b", failedAt(now.Add(-30*time.Second)), counted),
				pod("c", failedAt(now.Add(-10*time.Second)))},
			unfinalize: 1, failed: 2, uncounted: "s:;f:uid-c", requeue: 30 * time.Second},
		{name: "back-off over: retry", job: newJob(completions(1), status(func(s *batchv1.JobStatus) { s.Failed = 1 })),
			pods:   []*corev1.Pod{pod("a", failedAt(now.Add(-11*time.Second)), counted)},
			failed: 1, create: 1, active: 1},
		{name: "back-off capped at 6 minutes", job: newJob(completions(1), backoffLimit(100), status(func(s *batchv1.JobStatus) { s.Failed = 20 })),
			pods:   manyFailed(20),
			failed: 20, requeue: 6*time.Minute - time.Second},
		{name: "a success resets the back-off", job: newJob(completions(3), par(2), status(func(s *batchv1.JobStatus) { s.Failed = 1; s.Succeeded = 1 })),
			pods:   []*corev1.Pod{pod("a", failedAt(now.Add(-2*time.Second)), counted), pod("b", succeededAt(now.Add(-time.Second)), counted)},
			failed: 1, succeeded: 1, create: 2, active: 2},
		{name: "backoffLimit exceeded: failure target, pods deleted",
			job:    newJob(completions(3), par(2), backoffLimit(1), status(func(s *batchv1.JobStatus) { s.Failed = 1 })),
			pods:   []*corev1.Pod{pod("a", failedAt(now), counted), pod("b", failedAt(now)), pod("c", isReady)},
			delete: 1, unfinalize: 1, failed: 1, uncounted: "s:;f:uid-b", conds: "FailureTarget=True:BackoffLimitExceeded",
			check: func(t *testing.T, p Plan) {
				if len(p.Events) != 1 || p.Events[0].Reason != "BackoffLimitExceeded" {
					t.Errorf("events %+v", p.Events)
				}
				if *p.Status.Terminating != 1 || *p.Status.Ready != 0 {
					t.Errorf("terminating %d ready %d", *p.Status.Terminating, *p.Status.Ready)
				}
			}},
		{name: "terminating pod counts as failed; then Failed",
			job: newJob(completions(3), backoffLimit(1), status(func(s *batchv1.JobStatus) {
				s.Failed = 2
				setCondition(s, batchv1.JobFailureTarget, corev1.ConditionTrue, "BackoffLimitExceeded", "m", now)
			})),
			pods:   []*corev1.Pod{pod("a", failedAt(now), counted), pod("b", failedAt(now), counted)},
			failed: 2, uncounted: "s:;f:", conds: "FailureTarget=True:BackoffLimitExceeded,Failed=True:BackoffLimitExceeded"},
		{name: "deleted pod counted failed and replaced", job: newJob(completions(1)),
			pods:       []*corev1.Pod{pod("a", deleting)},
			unfinalize: 1, uncounted: "s:;f:uid-a", requeue: 10 * time.Second,
			check: func(t *testing.T, p Plan) {
				if *p.Status.Terminating != 1 {
					t.Errorf("terminating %d", *p.Status.Terminating)
				}
			}},
		{name: "replacement policy Failed waits for the phase", job: newJob(completions(1), func(j *batchv1.Job) { j.Spec.PodReplacementPolicy = ptr(batchv1.Failed) }),
			pods: []*corev1.Pod{pod("a", deleting)}, create: 1, active: 1},
		{name: "OnFailure restarts count against the limit",
			job: newJob(completions(1), backoffLimit(2), func(j *batchv1.Job) { j.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyOnFailure }),
			pods: []*corev1.Pod{pod("a", func(p *corev1.Pod) {
				p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "c", RestartCount: 3}}
			})},
			delete: 1, conds: "FailureTarget=True:BackoffLimitExceeded"},
		{name: "deadline exceeded", job: newJob(completions(2), func(j *batchv1.Job) { j.Spec.ActiveDeadlineSeconds = ptr(int64(60)) }),
			pods:   []*corev1.Pod{pod("a")},
			delete: 1, conds: "FailureTarget=True:DeadlineExceeded"},
		{name: "deadline ahead: requeue", job: newJob(completions(1), func(j *batchv1.Job) {
			j.Spec.ActiveDeadlineSeconds = ptr(int64(4000))
		}), pods: []*corev1.Pod{pod("a")}, active: 1, requeue: 400 * time.Second},
		{name: "work queue: no new pod once one succeeded", job: newJob(workQueue, par(3)),
			pods:   []*corev1.Pod{pod("a", succeededAt(now)), pod("b"), pod("c")},
			active: 2, unfinalize: 1, uncounted: "s:uid-a;f:"},
		{name: "work queue: complete when all done", job: newJob(workQueue, par(2), status(func(s *batchv1.JobStatus) { s.Succeeded = 1 })),
			pods: []*corev1.Pod{pod("a", succeededAt(now), counted)}, succeeded: 1, conds: "SuccessCriteriaMet=True:CompletionsReached,Complete=True:CompletionsReached"},
		{name: "parallelism lowered: delete not ready first", job: newJob(completions(9), par(1)),
			pods: []*corev1.Pod{pod("a", isReady), pod("b")}, delete: 1, active: 1,
			check: func(t *testing.T, p Plan) {
				if names(p.Delete) != "b" {
					t.Errorf("deleted %s", names(p.Delete))
				}
			}},
		{name: "suspended: delete active, condition", job: newJob(completions(3), func(j *batchv1.Job) { j.Spec.Suspend = ptr(true) }),
			pods: []*corev1.Pod{pod("a")}, delete: 1, conds: "Suspended=True:JobSuspended"},
		{name: "suspended: deleted pod is not a failure", job: newJob(completions(3), func(j *batchv1.Job) { j.Spec.Suspend = ptr(true) }),
			pods: []*corev1.Pod{pod("a", deleting)}, unfinalize: 1, conds: "Suspended=True:JobSuspended", uncounted: "s:;f:"},
		{name: "resumed: start time reset", job: newJob(completions(1), status(func(s *batchv1.JobStatus) {
			setCondition(s, batchv1.JobSuspended, corev1.ConditionTrue, "JobSuspended", "Job suspended", now.Add(-time.Hour))
		})), create: 1, active: 1, conds: "Suspended=False:JobResumed",
			check: func(t *testing.T, p Plan) {
				if !p.Status.StartTime.Time.Equal(now) {
					t.Errorf("startTime %v", p.Status.StartTime)
				}
			}},
		{name: "indexed: lowest pending indexes", job: newJob(indexed, completions(5), par(2), status(func(s *batchv1.JobStatus) { s.CompletedIndexes = "0" })),
			pods: []*corev1.Pod{pod("a", index("1"))}, active: 2, create: 1,
			check: func(t *testing.T, p Plan) {
				c := p.Create[0]
				if c.Annotations[batchv1.JobCompletionIndexAnnotation] != "2" || c.Labels[batchv1.JobCompletionIndexAnnotation] != "2" ||
					c.Spec.Hostname != "pi-2" || !regexp.MustCompile(`^pi-2-[a-z0-9]{5}$`).MatchString(c.Name) ||
					c.Spec.Containers[0].Env[0].Name != IndexEnv || c.Spec.Containers[0].Env[0].Value != "2" {
					t.Errorf("pod %s %v %v %+v", c.Name, c.Annotations, c.Labels, c.Spec.Containers[0].Env)
				}
				if c.Finalizers[0] != batchv1.JobTrackingFinalizer || c.OwnerReferences[0].UID != "job-uid" {
					t.Errorf("finalizers %v owners %v", c.Finalizers, c.OwnerReferences)
				}
			}},
		{name: "indexed: completed indexes compressed", job: newJob(indexed, completions(6), par(1), status(func(s *batchv1.JobStatus) { s.CompletedIndexes = "0,2" })),
			pods:        []*corev1.Pod{pod("a", index("1"), succeededAt(now)), pod("b", index("3"), succeededAt(now))},
			completedIx: "0-3", unfinalize: 2, create: 1, active: 1, uncounted: "s:uid-a,uid-b;f:"},
		{name: "indexed: duplicate index deleted", job: newJob(indexed, completions(2), par(2)),
			pods: []*corev1.Pod{pod("a", index("0")), pod("b", index("0"), isReady)}, delete: 1, create: 1, active: 2,
			check: func(t *testing.T, p Plan) {
				if names(p.Delete) != "a" {
					t.Errorf("deleted %s", names(p.Delete))
				}
			}},
		{name: "indexed: all indexes done", job: newJob(indexed, completions(2), status(func(s *batchv1.JobStatus) { s.CompletedIndexes = "0"; s.Succeeded = 1 })),
			pods:        []*corev1.Pod{pod("a", index("1"), succeededAt(now))},
			completedIx: "0-1", succeeded: 1, unfinalize: 1, uncounted: "s:uid-a;f:", conds: "SuccessCriteriaMet=True:CompletionsReached"},
		{name: "per-index back-off limit fails the index", job: newJob(indexed, completions(3), par(3), perIndex(1, 5)),
			pods:     []*corev1.Pod{pod("a", index("0"), failures("1"), failedAt(now)), pod("b", index("1")), pod("c", index("2"))},
			failedIx: "0", unfinalize: 1, active: 2, uncounted: "s:;f:uid-a"},
		{name: "per-index back-off: the index waits", job: newJob(indexed, completions(2), par(2), perIndex(3, 5)),
			pods:     []*corev1.Pod{pod("a", index("0"), failures("0"), failedAt(now.Add(-time.Second))), pod("b", index("1"))},
			failedIx: "", unfinalize: 1, active: 1, uncounted: "s:;f:uid-a", requeue: 9 * time.Second},
		{name: "per-index: retry annotated with its failures", job: newJob(indexed, completions(1), perIndex(3, 5), status(func(s *batchv1.JobStatus) { s.Failed = 1 })),
			pods:   []*corev1.Pod{pod("a", index("0"), failures("0"), failedAt(now.Add(-time.Minute)), counted)},
			create: 1, active: 1, failed: 1, failedIx: "",
			check: func(t *testing.T, p Plan) {
				if p.Create[0].Annotations[batchv1.JobIndexFailureCountAnnotation] != "1" {
					t.Errorf("annotations %v", p.Create[0].Annotations)
				}
			}},
		{name: "maxFailedIndexes exceeded", job: newJob(indexed, completions(3), par(3), perIndex(0, 0)),
			pods:     []*corev1.Pod{pod("a", index("0"), failedAt(now)), pod("b", index("1")), pod("c", index("2"))},
			failedIx: "0", unfinalize: 1, delete: 2, uncounted: "s:;f:uid-a", conds: "FailureTarget=True:MaxFailedIndexesExceeded"},
		{name: "all indexes finished, some failed", job: newJob(indexed, completions(2), perIndex(0, 5), status(func(s *batchv1.JobStatus) { s.CompletedIndexes = "1" })),
			pods:     []*corev1.Pod{pod("a", index("0"), failedAt(now))},
			failedIx: "0", completedIx: "1", unfinalize: 1, uncounted: "s:;f:uid-a", conds: "FailureTarget=True:FailedIndexes"},
		{name: "pod failure policy FailJob on exit code", job: newJob(completions(2), par(2), policy(batchv1.PodFailurePolicyRule{
			Action: batchv1.PodFailurePolicyActionFailJob, OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{Operator: batchv1.PodFailurePolicyOnExitCodesOpIn, Values: []int32{42}}})),
			pods:   []*corev1.Pod{pod("a", failedWith(42, now)), pod("b")},
			delete: 1, unfinalize: 1, uncounted: "s:;f:uid-a", conds: "FailureTarget=True:PodFailurePolicy",
			check: func(t *testing.T, p Plan) {
				if m := p.Status.Conditions[0].Message; m != "Container c for pod ns/a failed with exit code 42 matching FailJob rule at index 0" {
					t.Errorf("message %q", m)
				}
			}},
		{name: "pod failure policy Ignore on disruption", job: newJob(completions(1), backoffLimit(0), policy(batchv1.PodFailurePolicyRule{
			Action: batchv1.PodFailurePolicyActionIgnore, OnPodConditions: []batchv1.PodFailurePolicyOnPodConditionsPattern{{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue}}})),
			pods:       []*corev1.Pod{pod("a", failedAt(now), withCondition(corev1.DisruptionTarget))},
			unfinalize: 1, create: 1, active: 1},
		{name: "pod failure policy Count with NotIn", job: newJob(completions(1), backoffLimit(0), policy(batchv1.PodFailurePolicyRule{
			Action: batchv1.PodFailurePolicyActionCount, OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{Operator: batchv1.PodFailurePolicyOnExitCodesOpNotIn, Values: []int32{1}}})),
			pods:       []*corev1.Pod{pod("a", failedWith(3, now))},
			unfinalize: 1, uncounted: "s:;f:uid-a", conds: "FailureTarget=True:BackoffLimitExceeded"},
		{name: "pod failure policy FailIndex", job: newJob(indexed, completions(2), perIndex(5, 5), policy(batchv1.PodFailurePolicyRule{
			Action: batchv1.PodFailurePolicyActionFailIndex, OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{Operator: batchv1.PodFailurePolicyOnExitCodesOpIn, Values: []int32{7}}})),
			pods:     []*corev1.Pod{pod("a", index("0"), failedWith(7, now))},
			failedIx: "0", unfinalize: 1, create: 1, active: 1, uncounted: "s:;f:uid-a"},
		{name: "success policy by count", job: newJob(indexed, completions(5), par(5), func(j *batchv1.Job) {
			j.Spec.SuccessPolicy = &batchv1.SuccessPolicy{Rules: []batchv1.SuccessPolicyRule{{SucceededCount: ptr(int32(2))}}}
		}), pods: []*corev1.Pod{pod("a", index("0"), succeededAt(now)), pod("b", index("3"), succeededAt(now)), pod("c", index("1"))},
			completedIx: "0,3", unfinalize: 2, delete: 1, uncounted: "s:uid-a,uid-b;f:", conds: "SuccessCriteriaMet=True:SuccessPolicy"},
		{name: "success policy by indexes", job: newJob(indexed, completions(5), par(1), func(j *batchv1.Job) {
			j.Spec.SuccessPolicy = &batchv1.SuccessPolicy{Rules: []batchv1.SuccessPolicyRule{{SucceededIndexes: ptr("1-2")}}}
		}), pods: []*corev1.Pod{pod("a", index("1"), succeededAt(now)), pod("b", index("2"), succeededAt(now))},
			completedIx: "1-2", unfinalize: 2, uncounted: "s:uid-a,uid-b;f:", conds: "SuccessCriteriaMet=True:SuccessPolicy"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := planner().Plan(c.job, c.pods, now)
			if len(p.Create) != c.create || len(p.Delete) != c.delete || len(p.RemoveFinalizers) != c.unfinalize {
				t.Errorf("create %d delete %d unfinalize %d, want %d %d %d", len(p.Create), len(p.Delete), len(p.RemoveFinalizers), c.create, c.delete, c.unfinalize)
			}
			st := p.Status
			if st.Active != c.active || st.Succeeded != c.succeeded || st.Failed != c.failed {
				t.Errorf("active %d succeeded %d failed %d, want %d %d %d", st.Active, st.Succeeded, st.Failed, c.active, c.succeeded, c.failed)
			}
			if c.uncounted != "" {
				u := st.UncountedTerminatedPods
				got := "s:" + uids(u.Succeeded) + ";f:" + uids(u.Failed)
				if got != c.uncounted {
					t.Errorf("uncounted %s, want %s", got, c.uncounted)
				}
			}
			if got := conds(st); got != c.conds {
				t.Errorf("conditions %q, want %q", got, c.conds)
			}
			if c.completedIx != "" && st.CompletedIndexes != c.completedIx {
				t.Errorf("completedIndexes %q, want %q", st.CompletedIndexes, c.completedIx)
			}
			if c.job.Spec.BackoffLimitPerIndex != nil && *st.FailedIndexes != c.failedIx {
				t.Errorf("failedIndexes %q, want %q", *st.FailedIndexes, c.failedIx)
			}
			if p.RequeueAfter != c.requeue {
				t.Errorf("requeue %v, want %v", p.RequeueAfter, c.requeue)
			}
			for _, r := range p.RemoveFinalizers {
				if hasFinalizer(r) {
					t.Errorf("%s keeps its finalizer", r.Name)
				}
			}
			if c.check != nil {
				c.check(t, p)
			}
		})
	}
}

func perIndex(limit, maxFailed int32) jobOpt {
	return func(j *batchv1.Job) {
		j.Spec.BackoffLimitPerIndex = &limit
		j.Spec.MaxFailedIndexes = &maxFailed
		j.Spec.BackoffLimit = ptr(int32(1<<31 - 1))
	}
}

func policy(rules ...batchv1.PodFailurePolicyRule) jobOpt {
	return func(j *batchv1.Job) { j.Spec.PodFailurePolicy = &batchv1.PodFailurePolicy{Rules: rules} }
}

func manyFailed(n int) []*corev1.Pod {
	var out []*corev1.Pod
	for i := 0; i < n; i++ {
		out = append(out, pod(string(rune('a'+i)), failedAt(now.Add(-time.Duration(n-i)*time.Second)), counted))
	}
	return out
}

func uids(u []types.UID) string {
	out := make([]string, len(u))
	for i, x := range u {
		out[i] = string(x)
	}
	return strings.Join(out, ",")
}

// A finished Job deletes itself ttlSecondsAfterFinished after it finished,
// and removes leftover finalizers.
func TestTTLAfterFinished(t *testing.T) {
	j := newJob(func(j *batchv1.Job) { j.Spec.TTLSecondsAfterFinished = ptr(int32(100)) }, status(func(s *batchv1.JobStatus) {
		setCondition(s, batchv1.JobComplete, corev1.ConditionTrue, "CompletionsReached", "", now.Add(-40*time.Second))
	}))
	p := planner().Plan(j, []*corev1.Pod{pod("a", succeededAt(now))}, now)
	if p.DeleteJob || p.RequeueAfter != 60*time.Second || len(p.RemoveFinalizers) != 1 {
		t.Fatalf("delete %v requeue %v unfinalize %d", p.DeleteJob, p.RequeueAfter, len(p.RemoveFinalizers))
	}
	if p = planner().Plan(j, nil, now.Add(60*time.Second)); !p.DeleteJob {
		t.Fatal("not deleted at the TTL")
	}
}

// A Job being deleted only releases its pods' finalizers.
func TestDeletingJob(t *testing.T) {
	j := newJob(func(j *batchv1.Job) { ts := metav1.NewTime(now); j.DeletionTimestamp = &ts })
	p := planner().Plan(j, []*corev1.Pod{pod("a"), pod("b", counted)}, now)
	if len(p.RemoveFinalizers) != 1 || len(p.Create)+len(p.Delete) != 0 {
		t.Fatalf("%+v", p)
	}
}

// Pods of other owners are not the Job's.
func TestIgnoresOtherPods(t *testing.T) {
	other := pod("x", func(p *corev1.Pod) { p.OwnerReferences[0].UID = "other" })
	p := planner().Plan(newJob(completions(1)), []*corev1.Pod{other}, now)
	if len(p.Create) != 1 || p.Create[0].Name == "x" {
		t.Fatalf("create %v", names(p.Create))
	}
}

func TestIndexesFormat(t *testing.T) {
	for in, want := range map[string]string{"": "", "0": "0", "1,2": "1-2", "5,1,2,3,9": "1-3,5,9", "0-2,4-6,3": "0-6", "x,1,3-2": "1"} {
		if got := parseIndexes(in, -1).String(); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
	if got := parseIndexes("0-9", 3).String(); got != "0-2" {
		t.Errorf("limited: %q", got)
	}
}
