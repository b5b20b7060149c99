package job

import (
	"fmt"
	"sort"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Back-off between retries after failures: BackoffBase after the first,
// doubling, at most BackoffMax.
const (
	BackoffBase = 10 * time.Second
	BackoffMax  = 6 * time.Minute
)

// DefaultBurst caps pod creations in one Plan.
const DefaultBurst = 500

// Planner plans Jobs.
type Planner struct {
	Rand  Rand // random source for pod name suffixes; required
	Burst int  // most pods created in one Plan; 0 means DefaultBurst
}

// Event is a Kubernetes Event the shell records about the Job.
type Event struct{ Type, Reason, Message string }

// Plan is what a Job needs done, in the order the shell must do it.
type Plan struct {
	// Status is the Job's new status; write it first: it records the
	// uids of the pods whose finalizers RemoveFinalizers drops.
	Status batchv1.JobStatus
	// RemoveFinalizers holds copies of pods without the tracking
	// finalizer, to write (as updates) once Status is stored.
	RemoveFinalizers []*corev1.Pod
	// Create holds pods to create; Delete pods to delete gracefully.
	Create []*corev1.Pod
	Delete []*corev1.Pod
	// DeleteJob: the Job finished ttlSecondsAfterFinished ago.
	DeleteJob bool
	// Events to record about the Job.
	Events []Event
	// RequeueAfter > 0 asks to plan again then (back-off, deadline, TTL).
	RequeueAfter time.Duration
}

func (p *Plan) requeue(d time.Duration) {
	if d > 0 && (p.RequeueAfter == 0 || d < p.RequeueAfter) {
		p.RequeueAfter = d
	}
}

func (p *Plan) event(typ, reason, msg string) {
	p.Events = append(p.Events, Event{Type: typ, Reason: reason, Message: msg})
}

// target is a condition the Job is heading to: FailureTarget (then
// Failed) or SuccessCriteriaMet (then Complete).
type target struct {
	typ           batchv1.JobConditionType
	reason, msg   string
	failed, isNew bool
}

// state is one Plan's working view of a Job.
type state struct {
	j           *batchv1.Job
	st          batchv1.JobStatus
	now         time.Time
	indexed     bool
	completions int // -1: work queue
	uncSucc     map[types.UID]bool
	uncFail     map[types.UID]bool
	succIx      indexSet
	failIx      indexSet
	active      []*corev1.Pod
	terminating int
	failJobMsg  string
	// lastSuccess is the latest pod success; failures the times of the
	// failures that count (for the back-off after the last success).
	lastSuccess time.Time
	failures    []time.Time
	// ixFailures counts each index's failures, with the latest one's time.
	ixFailures map[int]outcome
}

type outcome struct {
	at time.Time
	n  int
}

// Plan computes the actions for j given the pods of its namespace at now.
func (p Planner) Plan(j *batchv1.Job, pods []*corev1.Pod, now time.Time) Plan {
	var plan Plan
	s := &state{j: j, st: *j.Status.DeepCopy(), now: now, completions: -1,
		uncSucc: map[types.UID]bool{}, uncFail: map[types.UID]bool{}, ixFailures: map[int]outcome{}}
	var owned []*corev1.Pod
	for _, pod := range pods {
		if ref := metav1.GetControllerOfNoCopy(pod); ref != nil && ref.UID == j.UID && pod.Namespace == j.Namespace {
			owned = append(owned, pod)
		}
	}
	if j.DeletionTimestamp != nil {
		plan.Status = s.st
		plan.RemoveFinalizers = dropAll(owned)
		return plan
	}
	if done, at := Finished(j); done {
		plan.Status = s.st
		plan.RemoveFinalizers = dropAll(owned)
		if ttl := j.Spec.TTLSecondsAfterFinished; ttl != nil {
			if due := at.Add(time.Duration(*ttl) * time.Second); !now.Before(due) {
				plan.DeleteJob = true
			} else {
				plan.requeue(due.Sub(now))
			}
		}
		return plan
	}
	s.init()
	s.count(owned, &plan)
	suspended := j.Spec.Suspend != nil && *j.Spec.Suspend
	s.suspension(suspended, &plan)
	t := s.target(suspended, &plan)
	deleted := 0
	switch {
	case t != nil || suspended:
		plan.Delete = append(plan.Delete, s.active...)
		deleted = len(s.active)
		if t != nil {
			s.finish(t, deleted, &plan)
		}
	case s.indexed:
		deleted = p.manageIndexed(s, pods, &plan)
	default:
		deleted = p.manageNonIndexed(s, pods, &plan)
	}
	s.writeStatus(deleted, &plan)
	plan.Status = s.st
	return plan
}

func dropAll(pods []*corev1.Pod) []*corev1.Pod {
	var out []*corev1.Pod
	for _, pod := range pods {
		if hasFinalizer(pod) {
			out = append(out, withoutFinalizer(pod))
		}
	}
	return out
}

func (s *state) init() {
	j := s.j
	s.indexed = j.Spec.CompletionMode != nil && *j.Spec.CompletionMode == batchv1.IndexedCompletion
	if j.Spec.Completions != nil {
		s.completions = int(*j.Spec.Completions)
	}
	if u := s.st.UncountedTerminatedPods; u != nil {
		for _, uid := range u.Succeeded {
			s.uncSucc[uid] = true
		}
		for _, uid := range u.Failed {
			s.uncFail[uid] = true
		}
	}
	if s.indexed {
		s.succIx = parseIndexes(s.st.CompletedIndexes, s.completions)
	}
	s.failIx = indexSet{}
	if s.st.FailedIndexes != nil {
		s.failIx = parseIndexes(*s.st.FailedIndexes, s.completions)
	}
}

// count classifies the owned pods: moves uncounted pods whose finalizer
// is gone to the counters, records newly finished pods as uncounted (and
// plans their finalizers' removal), and collects the active ones.
func (s *state) count(owned []*corev1.Pod, plan *Plan) {
	byUID := make(map[types.UID]*corev1.Pod, len(owned))
	for _, pod := range owned {
		byUID[pod.UID] = pod
	}
	for uid := range s.uncSucc {
		if pod := byUID[uid]; pod == nil || !hasFinalizer(pod) {
			s.st.Succeeded++
			delete(s.uncSucc, uid)
		}
	}
	for uid := range s.uncFail {
		if pod := byUID[uid]; pod == nil || !hasFinalizer(pod) {
			s.st.Failed++
			delete(s.uncFail, uid)
		}
	}
	suspended := s.j.Spec.Suspend != nil && *s.j.Spec.Suspend
	onlyFailed := s.j.Spec.PodReplacementPolicy != nil && *s.j.Spec.PodReplacementPolicy == batchv1.Failed
	for _, pod := range owned {
		fin := hasFinalizer(pod)
		pending := fin && !s.uncSucc[pod.UID] && !s.uncFail[pod.UID]
		ix := -1
		if s.indexed {
			if ix = indexOf(pod); ix >= s.completions {
				ix = -1
			}
		}
		switch {
		case pod.Status.Phase == corev1.PodSucceeded:
			if at := finishTime(pod); at.After(s.lastSuccess) {
				s.lastSuccess = at
			}
			if pending {
				s.uncSucc[pod.UID] = true
				if ix >= 0 {
					s.succIx[ix] = true
				}
			}
		case pod.Status.Phase == corev1.PodFailed || (pod.DeletionTimestamp != nil && !onlyFailed):
			if pod.Status.Phase != corev1.PodFailed {
				s.terminating++
			}
			if pod.Status.Phase != corev1.PodFailed && suspended {
				// deleted because the Job is suspended: not a failure
				if fin {
					plan.RemoveFinalizers = append(plan.RemoveFinalizers, withoutFinalizer(pod))
				}
				continue
			}
			act := actCount
			var msg string
			if pod.Status.Phase == corev1.PodFailed {
				act, msg = matchFailurePolicy(s.j.Spec.PodFailurePolicy, pod)
			}
			if act == actIgnore {
				if fin {
					plan.RemoveFinalizers = append(plan.RemoveFinalizers, withoutFinalizer(pod))
				}
				continue
			}
			at := finishTime(pod)
			s.failures = append(s.failures, at)
			if ix >= 0 {
				n := indexFailures(pod) + 1
				if prev := s.ixFailures[ix]; n > prev.n || (n == prev.n && at.After(prev.at)) {
					s.ixFailures[ix] = outcome{at: at, n: n}
				}
			}
			if !pending {
				continue
			}
			s.uncFail[pod.UID] = true
			switch {
			case act == actFailJob && s.failJobMsg == "":
				s.failJobMsg = msg
			case ix >= 0 && s.j.Spec.BackoffLimitPerIndex != nil &&
				(act == actFailIndex || indexFailures(pod)+1 > int(*s.j.Spec.BackoffLimitPerIndex)):
				s.failIx[ix] = true
			}
		case pod.DeletionTimestamp != nil:
			s.terminating++
		default:
			s.active = append(s.active, pod)
		}
	}
	for _, pod := range owned {
		if hasFinalizer(pod) && (s.uncSucc[pod.UID] || s.uncFail[pod.UID]) {
			plan.RemoveFinalizers = append(plan.RemoveFinalizers, withoutFinalizer(pod))
		}
	}
}

// suspension keeps the Suspended condition and startTime: a resumed Job
// starts its clock again (activeDeadlineSeconds counts from the resume).
func (s *state) suspension(suspended bool, plan *Plan) {
	was := isTrue(&s.st, batchv1.JobSuspended)
	now := metav1.NewTime(s.now)
	switch {
	case suspended && !was:
		setCondition(&s.st, batchv1.JobSuspended, corev1.ConditionTrue, "JobSuspended", "Job suspended", s.now)
		plan.event(corev1.EventTypeNormal, "Suspended", "Job suspended")
	case !suspended && was:
		setCondition(&s.st, batchv1.JobSuspended, corev1.ConditionFalse, "JobResumed", "Job resumed", s.now)
		plan.event(corev1.EventTypeNormal, "Resumed", "Job resumed")
		s.st.StartTime = &now
	case !suspended && s.st.StartTime == nil:
		s.st.StartTime = &now
	}
}

func (s *state) succeeded() int { return int(s.st.Succeeded) + len(s.uncSucc) }
func (s *state) failed() int    { return int(s.st.Failed) + len(s.uncFail) }

// target returns the condition the Job is heading to, setting it when it
// is new: an existing FailureTarget or SuccessCriteriaMet, else the first
// failure (pod failure policy, limits, deadline), else success.
func (s *state) target(suspended bool, plan *Plan) *target {
	if c := condition(&s.st, batchv1.JobFailureTarget); c != nil && c.Status == corev1.ConditionTrue {
		return &target{typ: c.Type, reason: c.Reason, msg: c.Message, failed: true}
	}
	if c := condition(&s.st, batchv1.JobSuccessCriteriaMet); c != nil && c.Status == corev1.ConditionTrue {
		return &target{typ: c.Type, reason: c.Reason, msg: c.Message}
	}
	t := s.newTarget(suspended, plan)
	if t == nil {
		return nil
	}
	t.isNew = true
	setCondition(&s.st, t.typ, corev1.ConditionTrue, t.reason, t.msg, s.now)
	return t
}

func (s *state) newTarget(suspended bool, plan *Plan) *target {
	spec := &s.j.Spec
	fail := func(reason, msg string) *target {
		return &target{typ: batchv1.JobFailureTarget, reason: reason, msg: msg, failed: true}
	}
	if s.failJobMsg != "" {
		return fail(batchv1.JobReasonPodFailurePolicy, s.failJobMsg)
	}
	if m := spec.MaxFailedIndexes; m != nil && spec.BackoffLimitPerIndex != nil && len(s.failIx) > int(*m) {
		return fail(batchv1.JobReasonMaxFailedIndexesExceeded, "Job has exceeded the specified maximal number of failed indexes")
	}
	failures := s.failed()
	if spec.Template.Spec.RestartPolicy == corev1.RestartPolicyOnFailure {
		for _, pod := range s.active {
			failures += restarts(pod)
		}
	}
	if limit := spec.BackoffLimit; limit != nil && failures > int(*limit) {
		return fail(batchv1.JobReasonBackoffLimitExceeded, "Job has reached the specified backoff limit")
	}
	if ads := spec.ActiveDeadlineSeconds; ads != nil && !suspended && s.st.StartTime != nil {
		due := s.st.StartTime.Add(time.Duration(*ads) * time.Second)
		if !s.now.Before(due) {
			return fail(batchv1.JobReasonDeadlineExceeded, "Job was active longer than specified deadline")
		}
		plan.requeue(due.Sub(s.now))
	}
	success := func(reason, msg string) *target {
		return &target{typ: batchv1.JobSuccessCriteriaMet, reason: reason, msg: msg}
	}
	const reached = "Reached expected number of succeeded pods"
	switch {
	case s.indexed:
		if i := matchSuccessPolicy(spec.SuccessPolicy, s.succIx, s.completions); i >= 0 {
			return success(batchv1.JobReasonSuccessPolicy, fmt.Sprintf("Matched rules at index %d", i))
		}
		if len(s.succIx) >= s.completions {
			return success(batchv1.JobReasonCompletionsReached, reached)
		}
		if spec.BackoffLimitPerIndex != nil && len(s.failIx) > 0 {
			done := len(s.failIx)
			for ix := range s.succIx {
				if !s.failIx[ix] {
					done++
				}
			}
			if done >= s.completions {
				return fail(batchv1.JobReasonFailedIndexes, "Job has failed indexes")
			}
		}
	case s.completions >= 0:
		if s.succeeded() >= s.completions {
			return success(batchv1.JobReasonCompletionsReached, reached)
		}
	default: // work queue: done once one pod succeeded and none runs
		if s.succeeded() > 0 && len(s.active) == 0 && s.terminating == 0 {
			return success(batchv1.JobReasonCompletionsReached, reached)
		}
	}
	return nil
}

// finish turns a target into the final condition once no pod runs, is
// being deleted or waits to be counted.
func (s *state) finish(t *target, deleting int, plan *Plan) {
	if t.isNew && t.failed {
		plan.event(corev1.EventTypeWarning, t.reason, t.msg)
	}
	if deleting > 0 || s.terminating > 0 || len(s.uncSucc)+len(s.uncFail) > 0 || len(plan.RemoveFinalizers) > 0 {
		return
	}
	if t.failed {
		setCondition(&s.st, batchv1.JobFailed, corev1.ConditionTrue, t.reason, t.msg, s.now)
		return
	}
	setCondition(&s.st, batchv1.JobComplete, corev1.ConditionTrue, t.reason, t.msg, s.now)
	now := metav1.NewTime(s.now)
	s.st.CompletionTime = &now
	plan.event(corev1.EventTypeNormal, "Completed", "Job completed")
}

// backoff returns how long the next retry must wait after n failures,
// the latest at last.
func backoff(n int, last, now time.Time) time.Duration {
	if n <= 0 {
		return 0
	}
	d := BackoffMax
	if n <= 10 {
		d = min(BackoffBase<<(n-1), BackoffMax)
	}
	return max(0, last.Add(d).Sub(now))
}

// globalBackoff is the wait after the failures since the last success.
func (s *state) globalBackoff() time.Duration {
	n := 0
	var last time.Time
	for _, at := range s.failures {
		if at.Before(s.lastSuccess) {
			continue
		}
		n++
		if at.After(last) {
			last = at
		}
	}
	return backoff(n, last, s.now)
}

func (p Planner) burst() int {
	if p.Burst > 0 {
		return p.Burst
	}
	return DefaultBurst
}

func parallelism(j *batchv1.Job) int {
	if j.Spec.Parallelism == nil {
		return 1
	}
	return int(*j.Spec.Parallelism)
}

func usedNames(pods []*corev1.Pod) map[string]bool {
	used := make(map[string]bool, len(pods))
	for _, pod := range pods {
		used[pod.Name] = true
	}
	return used
}

// manageNonIndexed keeps min(parallelism, completions left) pods active
// (a work queue stops adding pods once one succeeded); it returns how
// many active pods it deletes.
func (p Planner) manageNonIndexed(s *state, pods []*corev1.Pod, plan *Plan) int {
	want := parallelism(s.j)
	switch {
	case s.completions >= 0:
		want = max(0, min(want, s.completions-s.succeeded()))
	case s.succeeded() > 0:
		want = len(s.active)
	}
	if n := len(s.active) - want; n > 0 {
		plan.Delete = append(plan.Delete, forRemoval(s.active, n)...)
		return n
	}
	n := min(want-len(s.active), p.burst())
	if n <= 0 {
		return 0
	}
	if d := s.globalBackoff(); d > 0 {
		plan.requeue(d)
		return 0
	}
	used := usedNames(pods)
	for i := 0; i < n; i++ {
		plan.Create = append(plan.Create, p.newPod(s.j, -1, 0, used))
	}
	return 0
}

// forRemoval picks n pods to delete: not ready ones first, then the
// newest.
func forRemoval(active []*corev1.Pod, n int) []*corev1.Pod {
	c := append([]*corev1.Pod(nil), active...)
	sort.SliceStable(c, func(a, b int) bool {
		if ra, rb := ready(c[a]), ready(c[b]); ra != rb {
			return !ra
		}
		return c[a].CreationTimestamp.After(c[b].CreationTimestamp.Time)
	})
	return c[:n]
}

// manageIndexed runs one pod per pending index, lowest first, at most
// parallelism at a time; it deletes duplicates and pods of indexes out of
// range or already done, and returns how many it deletes.
func (p Planner) manageIndexed(s *state, pods []*corev1.Pod, plan *Plan) int {
	byIx := map[int]*corev1.Pod{}
	var del []*corev1.Pod
	for _, pod := range s.active {
		ix := indexOf(pod)
		switch {
		case ix < 0 || ix >= s.completions || s.succIx[ix] || s.failIx[ix]:
			del = append(del, pod)
		case byIx[ix] != nil:
			keep, drop := byIx[ix], pod
			if ready(pod) && !ready(keep) {
				keep, drop = pod, keep
			}
			byIx[ix] = keep
			del = append(del, drop)
		default:
			byIx[ix] = pod
		}
	}
	plan.Delete = append(plan.Delete, del...)
	room := min(parallelism(s.j)-len(byIx), p.burst())
	global := time.Duration(0)
	if s.j.Spec.BackoffLimitPerIndex == nil {
		global = s.globalBackoff()
	}
	used := usedNames(pods)
	for ix := 0; ix < s.completions && room > 0; ix++ {
		if s.succIx[ix] || s.failIx[ix] || byIx[ix] != nil {
			continue
		}
		f := s.ixFailures[ix]
		wait := global
		if s.j.Spec.BackoffLimitPerIndex != nil {
			wait = backoff(f.n, f.at, s.now)
		}
		if wait > 0 {
			plan.requeue(wait)
			continue
		}
		plan.Create = append(plan.Create, p.newPod(s.j, ix, f.n, used))
		room--
	}
	return len(del)
}

// writeStatus fills the counters after the plan's creations and
// deletions.
func (s *state) writeStatus(deleted int, plan *Plan) {
	gone := map[types.UID]bool{}
	for _, pod := range plan.Delete {
		gone[pod.UID] = true
	}
	readyN := 0
	for _, pod := range s.active {
		if !gone[pod.UID] && ready(pod) {
			readyN++
		}
	}
	s.st.Active = int32(len(s.active) - deleted + len(plan.Create))
	s.st.Ready = ptr(int32(readyN))
	s.st.Terminating = ptr(int32(s.terminating + deleted))
	s.st.UncountedTerminatedPods = &batchv1.UncountedTerminatedPods{Succeeded: sortedUIDs(s.uncSucc), Failed: sortedUIDs(s.uncFail)}
	if s.indexed {
		s.st.CompletedIndexes = s.succIx.String()
	}
	if s.j.Spec.BackoffLimitPerIndex != nil {
		s.st.FailedIndexes = ptr(s.failIx.String())
	}
	if isTrue(&s.st, batchv1.JobComplete) || isTrue(&s.st, batchv1.JobFailed) {
		s.st.Ready = ptr(int32(0))
	}
}

func sortedUIDs(m map[types.UID]bool) []types.UID {
	if len(m) == 0 {
		return nil
	}
	out := make([]types.UID, 0, len(m))
	for uid := range m {
		out = append(out, uid)
	}
	sort.Slice(out, func(a, b int) bool { return out[a] < out[b] })
	return out
}

func ptr[T any](v T) *T { return &v }
