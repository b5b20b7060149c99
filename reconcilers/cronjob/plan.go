package cronjob

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Planner plans CronJobs.
type Planner struct {
	// Local is the zone of schedules that name none; nil means UTC.
	Local *time.Location
}

// Event is a Kubernetes Event the shell records about the CronJob.
type Event struct{ Type, Reason, Message string }

// Plan is what a CronJob needs done, in the order the shell must do it.
type Plan struct {
	// Delete holds Jobs to delete with background propagation: running
	// Jobs replaced (concurrencyPolicy Replace), then finished Jobs
	// beyond the history limits. Record SuccessfulDelete for each.
	Delete []*batchv1.Job
	// Replace is how many of Delete are replaced running Jobs: those go
	// before Create; the finished ones after it and the status, as
	// Kubernetes cleans up history after scheduling, so a minute when
	// many CronJobs are due starts their Jobs first.
	Replace int
	// Create is the Job to start, or nil; Scheduled its schedule time.
	// Once created (or found already there, controlled by the CronJob),
	// Created gives the status to write instead of Status.
	Create    *batchv1.Job
	Scheduled time.Time
	// Status is the CronJob's new status if nothing is created.
	Status batchv1.CronJobStatus
	// Events to record about the CronJob.
	Events []Event
	// RequeueAfter > 0 asks to plan again then: the next schedule time.
	RequeueAfter time.Duration
}

func (p *Plan) event(typ, reason, msg string) {
	p.Events = append(p.Events, Event{Type: typ, Reason: reason, Message: msg})
}

// Created returns the status once j, the Job of Create, exists: j is
// active and Scheduled is the last schedule time.
func (p *Plan) Created(j *batchv1.Job) batchv1.CronJobStatus {
	st := *p.Status.DeepCopy()
	st.Active = append(st.Active, jobRef(j))
	st.LastScheduleTime = &metav1.Time{Time: p.Scheduled}
	return st
}

// state is one Plan's working view of a CronJob.
type state struct {
	cj      *batchv1.CronJob
	now     time.Time
	plan    Plan
	byName  map[string]*batchv1.Job
	deleted map[types.UID]bool
}

// Plan plans cj given the Jobs it controls, at now.
func (pl Planner) Plan(cj *batchv1.CronJob, jobs []*batchv1.Job, now time.Time) Plan {
	s := &state{cj: cj, now: now, byName: make(map[string]*batchv1.Job, len(jobs)), deleted: map[types.UID]bool{}}
	s.plan.Status = *cj.Status.DeepCopy()
	s.track(jobs)
	if cj.DeletionTimestamp != nil {
		return s.plan
	}
	s.schedule(pl.Local)
	s.plan.Replace = len(s.plan.Delete)
	s.cleanup(jobs)
	return s.plan
}

// track updates the active list and lastSuccessfulTime from the Jobs.
func (s *state) track(jobs []*batchv1.Job) {
	st := &s.plan.Status
	owned := make(map[types.UID]bool, len(jobs))
	for _, j := range jobs {
		s.byName[j.Name] = j
		owned[j.UID] = true
		active := s.isActive(j.UID)
		cond, finished := finishedCondition(j)
		switch {
		case !finished && !active:
			// Created by hand (strom create job --from), or by a
			// leader that stopped before writing the status.
			s.plan.event(corev1.EventTypeWarning, "UnexpectedJob",
				"Saw a job that the controller did not create or forgot: "+j.Name)
		case finished && active:
			s.removeActive(j.UID)
			s.plan.event(corev1.EventTypeNormal, "SawCompletedJob",
				fmt.Sprintf("Saw completed job: %s, condition: %v", j.Name, cond))
		}
		if finished && cond == batchv1.JobComplete && j.Status.CompletionTime != nil {
			if st.LastSuccessfulTime == nil || j.Status.CompletionTime.After(st.LastSuccessfulTime.Time) {
				st.LastSuccessfulTime = j.Status.CompletionTime.DeepCopy()
			}
		}
	}
	for _, ref := range append([]corev1.ObjectReference(nil), st.Active...) {
		if !owned[ref.UID] {
			s.removeActive(ref.UID)
			s.plan.event(corev1.EventTypeNormal, "MissingJob", "Active job went missing: "+ref.Name)
		}
	}
}

// schedule decides whether a Job starts now and when to plan again.
func (s *state) schedule(local *time.Location) {
	cj := s.cj
	if tz := cj.Spec.TimeZone; tz != nil {
		if _, err := time.LoadLocation(*tz); err != nil {
			s.plan.event(corev1.EventTypeWarning, "UnknownTimeZone", fmt.Sprintf("invalid timeZone: %q: %s", *tz, err))
			return
		}
	}
	if cj.Spec.Suspend != nil && *cj.Spec.Suspend {
		return
	}
	if strings.Contains(cj.Spec.Schedule, "TZ") {
		s.plan.event(corev1.EventTypeWarning, "UnsupportedSchedule", fmt.Sprintf(
			"CRON_TZ or TZ used in schedule %q is not officially supported, see https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more details", cj.Spec.Schedule))
	}
	sched, err := ParseSchedule(cj.Spec.Schedule, cj.Spec.TimeZone, local)
	if err != nil {
		s.plan.event(corev1.EventTypeWarning, "UnparseableSchedule", fmt.Sprintf("unparseable schedule: %q : %s", cj.Spec.Schedule, err))
		return
	}
	t, err := s.due(sched)
	if err != nil {
		s.plan.event(corev1.EventTypeWarning, "InvalidSchedule", fmt.Sprintf("invalid schedule: %s : %s", cj.Spec.Schedule, err))
		return
	}
	defer func() { s.plan.RequeueAfter = s.nextWait(sched) }()
	if t == nil {
		return
	}
	if d := cj.Spec.StartingDeadlineSeconds; d != nil && t.Add(time.Duration(*d)*time.Second).Before(s.now) {
		s.plan.event(corev1.EventTypeWarning, "MissSchedule", "Missed scheduled time to start a job: "+t.UTC().Format(time.RFC1123Z))
		return
	}
	name := JobName(cj.Name, *t)
	st := &s.plan.Status
	if s.activeByName(name) || (st.LastScheduleTime != nil && st.LastScheduleTime.Time.Equal(*t)) {
		return // already started
	}
	if existing := s.byName[name]; existing != nil {
		// Started before the status said so: take it on.
		if _, finished := finishedCondition(existing); !finished {
			st.Active = append(st.Active, jobRef(existing))
			s.dropEvent("UnexpectedJob", existing.Name)
		}
		st.LastScheduleTime = &metav1.Time{Time: *t}
		return
	}
	switch cj.Spec.ConcurrencyPolicy {
	case batchv1.ForbidConcurrent:
		if len(st.Active) > 0 {
			s.plan.event(corev1.EventTypeNormal, "JobAlreadyActive",
				"Not starting job because prior execution is running and concurrency policy is Forbid")
			return
		}
	case batchv1.ReplaceConcurrent:
		for _, ref := range append([]corev1.ObjectReference(nil), st.Active...) {
			if j := s.byName[ref.Name]; j != nil && j.UID == ref.UID {
				s.delete(j)
			}
			s.removeActive(ref.UID)
		}
	}
	s.plan.Create = JobFor(cj, *t)
	s.plan.Scheduled = *t
}

// nextWait is the wait until the next schedule, computed from the status
// as it will be once this plan is written.
func (s *state) nextWait(sched cron.Schedule) time.Duration {
	cj := *s.cj
	cj.Status = s.plan.Status
	if s.plan.Create != nil {
		cj.Status.LastScheduleTime = &metav1.Time{Time: s.plan.Scheduled}
	}
	return nextWait(&cj, s.now, sched)
}

// cleanup deletes the oldest finished Jobs beyond the history limits.
func (s *state) cleanup(jobs []*batchv1.Job) {
	var succeeded, failed []*batchv1.Job
	for _, j := range jobs {
		if j.DeletionTimestamp != nil || s.deleted[j.UID] {
			continue
		}
		switch cond, finished := finishedCondition(j); {
		case finished && cond == batchv1.JobComplete:
			succeeded = append(succeeded, j)
		case finished && cond == batchv1.JobFailed:
			failed = append(failed, j)
		}
	}
	s.trim(succeeded, s.cj.Spec.SuccessfulJobsHistoryLimit)
	s.trim(failed, s.cj.Spec.FailedJobsHistoryLimit)
}

func (s *state) trim(js []*batchv1.Job, limit *int32) {
	if limit == nil || len(js) <= int(*limit) {
		return
	}
	sort.Slice(js, func(a, b int) bool { return olderStart(js[a], js[b]) })
	for _, j := range js[:len(js)-int(*limit)] {
		s.delete(j)
	}
}

// olderStart orders Jobs by start time, Jobs never started last, names
// breaking ties.
func olderStart(a, b *batchv1.Job) bool {
	if b.Status.StartTime == nil {
		return a.Status.StartTime != nil || a.Name < b.Name
	}
	if a.Status.StartTime == nil {
		return false
	}
	if a.Status.StartTime.Equal(b.Status.StartTime) {
		return a.Name < b.Name
	}
	return a.Status.StartTime.Before(b.Status.StartTime)
}

func (s *state) delete(j *batchv1.Job) {
	if !s.deleted[j.UID] {
		s.deleted[j.UID] = true
		s.plan.Delete = append(s.plan.Delete, j)
	}
}

func (s *state) isActive(uid types.UID) bool {
	for _, r := range s.plan.Status.Active {
		if r.UID == uid {
			return true
		}
	}
	return false
}

func (s *state) activeByName(name string) bool {
	for _, r := range s.plan.Status.Active {
		if r.Name == name {
			return true
		}
	}
	return false
}

func (s *state) removeActive(uid types.UID) {
	st := &s.plan.Status
	keep := st.Active[:0:0]
	for _, r := range st.Active {
		if r.UID != uid {
			keep = append(keep, r)
		}
	}
	if len(keep) == 0 {
		keep = nil
	}
	st.Active = keep
}

// dropEvent removes the reason's Event about a Job, once it is explained.
func (s *state) dropEvent(reason, job string) {
	keep := s.plan.Events[:0]
	for _, e := range s.plan.Events {
		if e.Reason != reason || !strings.HasSuffix(e.Message, ": "+job) {
			keep = append(keep, e)
		}
	}
	s.plan.Events = keep
}

// finishedCondition returns Complete or Failed if the Job has finished.
func finishedCondition(j *batchv1.Job) (batchv1.JobConditionType, bool) {
	for _, c := range j.Status.Conditions {
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
			return c.Type, true
		}
	}
	return "", false
}

func jobRef(j *batchv1.Job) corev1.ObjectReference {
	return corev1.ObjectReference{Kind: "Job", APIVersion: batchv1.SchemeGroupVersion.String(),
		Namespace: j.Namespace, Name: j.Name, UID: j.UID, ResourceVersion: j.ResourceVersion}
}
