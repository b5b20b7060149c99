package cronjob

import (
	"fmt"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
)

// t0 is when test CronJobs are created.
var t0 = time.Date(2026, 1, 1, 10, 0, 30, 0, time.UTC)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func cronJob(schedule string, mods ...func(*batchv1.CronJob)) *batchv1.CronJob {
	cj := &batchv1.CronJob{
		ObjectMeta: metav1.ObjectMeta{Name: "cj", Namespace: "default", UID: "cj-uid", CreationTimestamp: metav1.NewTime(t0)},
		Spec: batchv1.CronJobSpec{
			Schedule: schedule, ConcurrencyPolicy: batchv1.AllowConcurrent, Suspend: ptr.To(false),
			SuccessfulJobsHistoryLimit: ptr.To[int32](3), FailedJobsHistoryLimit: ptr.To[int32](1),
			JobTemplate: batchv1.JobTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "x"}, Annotations: map[string]string{"note": "y"}},
				Spec:       batchv1.JobSpec{BackoffLimit: ptr.To[int32](2)},
			},
		},
	}
	for _, m := range mods {
		m(cj)
	}
	return cj
}

func lastSchedule(s string) func(*batchv1.CronJob) {
	return func(cj *batchv1.CronJob) { cj.Status.LastScheduleTime = &metav1.Time{Time: at(s)} }
}

func active(js ...*batchv1.Job) func(*batchv1.CronJob) {
	return func(cj *batchv1.CronJob) {
		for _, j := range js {
			cj.Status.Active = append(cj.Status.Active, jobRef(j))
		}
	}
}

func policy(p batchv1.ConcurrencyPolicy) func(*batchv1.CronJob) {
	return func(cj *batchv1.CronJob) { cj.Spec.ConcurrencyPolicy = p }
}

// job is a Job of cj started at start ("" for never), finished with
// cond ("" for running) an hour later.
func job(name, start string, cond batchv1.JobConditionType) *batchv1.Job {
	j := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", UID: types.UID(name + "-uid")}}
	if start != "" {
		st := metav1.NewTime(at(start))
		j.Status.StartTime = &st
	}
	if cond != "" {
		j.Status.Conditions = []batchv1.JobCondition{{Type: cond, Status: corev1.ConditionTrue}}
		if cond == batchv1.JobComplete {
			ct := metav1.NewTime(j.Status.StartTime.Add(time.Hour))
			j.Status.CompletionTime = &ct
		}
	}
	return j
}

func reasons(p Plan) string {
	var rs []string
	for _, e := range p.Events {
		rs = append(rs, e.Reason)
	}
	return strings.Join(rs, ",")
}

func names(js []*batchv1.Job) string {
	var ns []string
	for _, j := range js {
		ns = append(ns, j.Name)
	}
	return strings.Join(ns, ",")
}

func activeNames(st batchv1.CronJobStatus) string {
	var ns []string
	for _, r := range st.Active {
		ns = append(ns, r.Name)
	}
	return strings.Join(ns, ",")
}

// minutes is JobName's suffix for an RFC 3339 time.
func minutes(s string) string { return fmt.Sprint(at(s).Unix() / 60) }

func TestPlan(t *testing.T) {
	running := job("cj-old", "2026-01-01T10:00:00Z", "")
	done := job("cj-done", "2026-01-01T09:00:00Z", batchv1.JobComplete)
	tests := []struct {
		name   string
		cj     *batchv1.CronJob
		jobs   []*batchv1.Job
		now    string
		create string // the Job's name, "" for none
		delete string
		active string // status.active once the plan is written
		events string
		wait   time.Duration
	}{
		{name: "not due yet", cj: cronJob("*/5 * * * *"), now: "2026-01-01T10:02:00Z",
			wait: 3*time.Minute + nextScheduleDelta},
		{name: "due", cj: cronJob("*/5 * * * *"), now: "2026-01-01T10:05:00.1Z",
			create: "cj-" + minutes("2026-01-01T10:05:00Z"), active: "cj-" + minutes("2026-01-01T10:05:00Z"),
			wait: 5 * time.Minute},
		{name: "already started", cj: cronJob("*/5 * * * *", lastSchedule("2026-01-01T10:05:00Z")), now: "2026-01-01T10:06:00Z",
			wait: 4*time.Minute + nextScheduleDelta},
		{name: "allow runs beside an active job", cj: cronJob("@hourly", lastSchedule("2026-01-01T10:00:00Z"), active(running)),
			jobs: []*batchv1.Job{running}, now: "2026-01-01T11:00:01Z",
			create: "cj-" + minutes("2026-01-01T11:00:00Z"), active: "cj-old,cj-" + minutes("2026-01-01T11:00:00Z"),
			wait: time.Hour - time.Second + nextScheduleDelta},
		{name: "forbid waits for the active job", cj: cronJob("@hourly", policy(batchv1.ForbidConcurrent), lastSchedule("2026-01-01T10:00:00Z"), active(running)),
			jobs: []*batchv1.Job{running}, now: "2026-01-01T11:00:01Z", active: "cj-old", events: "JobAlreadyActive",
			wait: time.Hour - time.Second + nextScheduleDelta},
		{name: "forbid runs the missed schedule once the job finished", cj: cronJob("@hourly", policy(batchv1.ForbidConcurrent), lastSchedule("2026-01-01T10:00:00Z"), active(done)),
			jobs: []*batchv1.Job{done}, now: "2026-01-01T11:20:00Z", events: "SawCompletedJob",
			create: "cj-" + minutes("2026-01-01T11:00:00Z"), active: "cj-" + minutes("2026-01-01T11:00:00Z"),
			wait: 40*time.Minute + nextScheduleDelta},
		{name: "replace deletes the active job", cj: cronJob("@hourly", policy(batchv1.ReplaceConcurrent), lastSchedule("2026-01-01T10:00:00Z"), active(running)),
			jobs: []*batchv1.Job{running}, now: "2026-01-01T11:00:01Z", delete: "cj-old",
			create: "cj-" + minutes("2026-01-01T11:00:00Z"), active: "cj-" + minutes("2026-01-01T11:00:00Z"),
			wait: time.Hour - time.Second + nextScheduleDelta},
		{name: "one catch-up run after an outage", cj: cronJob("@hourly", lastSchedule("2026-01-01T10:00:00Z")), now: "2026-01-01T13:30:00Z",
			create: "cj-" + minutes("2026-01-01T13:00:00Z"), active: "cj-" + minutes("2026-01-01T13:00:00Z"),
			wait: 30*time.Minute + nextScheduleDelta},
		{name: "missed by more than startingDeadlineSeconds", cj: cronJob("@hourly", lastSchedule("2026-01-01T10:00:00Z"),
			func(cj *batchv1.CronJob) { cj.Spec.StartingDeadlineSeconds = ptr.To[int64](60) }),
			now: "2026-01-01T11:02:00Z", wait: 58*time.Minute + nextScheduleDelta},
		{name: "within startingDeadlineSeconds", cj: cronJob("@hourly", lastSchedule("2026-01-01T10:00:00Z"),
			func(cj *batchv1.CronJob) { cj.Spec.StartingDeadlineSeconds = ptr.To[int64](300) }),
			now: "2026-01-01T11:02:00Z", create: "cj-" + minutes("2026-01-01T11:00:00Z"), active: "cj-" + minutes("2026-01-01T11:00:00Z"),
			wait: 58*time.Minute + nextScheduleDelta},
		{name: "too many missed still runs the last one", cj: cronJob("* * * * *", lastSchedule("2026-01-01T10:00:00Z")),
			now: "2026-01-02T10:00:30Z", create: "cj-" + minutes("2026-01-02T10:00:00Z"), active: "cj-" + minutes("2026-01-02T10:00:00Z"),
			events: "TooManyMissedTimes", wait: 30*time.Second + nextScheduleDelta},
		{name: "suspended", cj: cronJob("* * * * *", func(cj *batchv1.CronJob) { cj.Spec.Suspend = ptr.To(true) }), now: "2026-01-01T11:00:00Z"},
		{name: "being deleted", cj: cronJob("* * * * *", func(cj *batchv1.CronJob) { cj.DeletionTimestamp = &metav1.Time{Time: t0} }), now: "2026-01-01T11:00:00Z"},
		{name: "completed job leaves the active list", cj: cronJob("@hourly", lastSchedule("2026-01-01T10:00:00Z"), active(done)),
			jobs: []*batchv1.Job{done}, now: "2026-01-01T10:30:00Z", events: "SawCompletedJob", wait: 30*time.Minute + nextScheduleDelta},
		{name: "missing job leaves the active list", cj: cronJob("@hourly", lastSchedule("2026-01-01T10:00:00Z"), active(running)),
			now: "2026-01-01T10:30:00Z", events: "MissingJob", wait: 30*time.Minute + nextScheduleDelta},
		{name: "a hand-made job is unexpected", cj: cronJob("@hourly", lastSchedule("2026-01-01T10:00:00Z")),
			jobs: []*batchv1.Job{running}, now: "2026-01-01T10:30:00Z", events: "UnexpectedJob", wait: 30*time.Minute + nextScheduleDelta},
		{name: "a job created before a crash is taken on", cj: cronJob("@hourly", lastSchedule("2026-01-01T10:00:00Z")),
			jobs: []*batchv1.Job{job("cj-"+minutes("2026-01-01T11:00:00Z"), "", "")}, now: "2026-01-01T11:00:05Z",
			active: "cj-" + minutes("2026-01-01T11:00:00Z"), wait: time.Hour - 5*time.Second + nextScheduleDelta},
		{name: "unknown time zone", cj: cronJob("@hourly", func(cj *batchv1.CronJob) { cj.Spec.TimeZone = ptr.To("Mars/Olympus") }),
			now: "2026-01-01T11:00:00Z", events: "UnknownTimeZone"},
		{name: "never fires", cj: cronJob("0 0 30 2 *"), now: "2026-01-01T11:00:00Z"},
		{name: "history limits delete the oldest", cj: cronJob("@hourly", lastSchedule("2026-01-01T10:00:00Z")),
			jobs: []*batchv1.Job{
				job("s3", "2026-01-01T03:00:00Z", batchv1.JobComplete), job("s1", "2026-01-01T01:00:00Z", batchv1.JobComplete),
				job("s4", "2026-01-01T04:00:00Z", batchv1.JobComplete), job("s2", "2026-01-01T02:00:00Z", batchv1.JobComplete),
				job("s5", "2026-01-01T05:00:00Z", batchv1.JobComplete),
				job("f2", "2026-01-01T02:00:00Z", batchv1.JobFailed), job("f1", "2026-01-01T01:00:00Z", batchv1.JobFailed)},
			now: "2026-01-01T10:30:00Z", delete: "s1,s2,f1", wait: 30*time.Minute + nextScheduleDelta},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := Planner{}.Plan(tc.cj, tc.jobs, at(tc.now))
			st := p.Status
			if p.Create != nil {
				created := p.Create.DeepCopy()
				created.UID = "new-uid"
				st = p.Created(created)
			}
			got := fmt.Sprintf("create=%s delete=%s active=%s events=%s wait=%v", name(p.Create), names(p.Delete), activeNames(st), reasons(p), p.RequeueAfter)
			want := fmt.Sprintf("create=%s delete=%s active=%s events=%s wait=%v", tc.create, tc.delete, tc.active, tc.events, tc.wait)
			if got != want {
				t.Errorf("\n got %s\nwant %s", got, want)
			}
		})
	}
}

func name(j *batchv1.Job) string {
	if j == nil {
		return ""
	}
	return j.Name
}

// The Job of a schedule carries the template and its schedule time.
func TestJobFor(t *testing.T) {
	cj := cronJob("0 9 * * *", func(cj *batchv1.CronJob) { cj.Spec.TimeZone = ptr.To("Europe/Berlin") })
	p := Planner{}.Plan(cj, nil, at("2026-01-02T08:00:01Z"))
	j := p.Create
	if j == nil {
		t.Fatalf("nothing created at 09:00 Berlin; events %v", p.Events)
	}
	if j.Name != "cj-"+minutes("2026-01-02T08:00:00Z") || j.Namespace != "default" {
		t.Errorf("job %s/%s", j.Namespace, j.Name)
	}
	if got := j.Annotations[batchv1.CronJobScheduledTimestampAnnotation]; got != "2026-01-02T09:00:00+01:00" {
		t.Errorf("scheduled timestamp %q", got)
	}
	if j.Labels["app"] != "x" || j.Annotations["note"] != "y" || *j.Spec.BackoffLimit != 2 {
		t.Errorf("template not copied: %v %v %+v", j.Labels, j.Annotations, j.Spec)
	}
	ref := metav1.GetControllerOf(j)
	if ref == nil || ref.Kind != "CronJob" || ref.APIVersion != "batch/v1" || ref.Name != "cj" || ref.UID != "cj-uid" {
		t.Errorf("controller %+v", ref)
	}
	j.Labels["app"] = "changed"
	if cj.Spec.JobTemplate.Labels["app"] != "x" {
		t.Error("the Job shares the template's labels")
	}
	if st := p.Created(j); st.LastScheduleTime == nil || !st.LastScheduleTime.Time.Equal(at("2026-01-02T08:00:00Z")) {
		t.Errorf("lastScheduleTime %v", st.LastScheduleTime)
	}
}

func TestSchedules(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	tests := []struct {
		schedule string
		tz       *string
		local    *time.Location
		from     string
		next     string
	}{
		{schedule: "@hourly", from: "2026-01-01T10:00:30Z", next: "2026-01-01T11:00:00Z"},
		{schedule: "@daily", from: "2026-01-01T10:00:30Z", next: "2026-01-02T00:00:00Z"},
		{schedule: "@midnight", from: "2026-01-01T10:00:30Z", next: "2026-01-02T00:00:00Z"},
		{schedule: "@weekly", from: "2026-01-01T10:00:30Z", next: "2026-01-04T00:00:00Z"},
		{schedule: "@monthly", from: "2026-01-01T10:00:30Z", next: "2026-02-01T00:00:00Z"},
		{schedule: "@yearly", from: "2026-01-01T10:00:30Z", next: "2027-01-01T00:00:00Z"},
		{schedule: "@annually", from: "2026-01-01T10:00:30Z", next: "2027-01-01T00:00:00Z"},
		{schedule: "@every 90m", from: "2026-01-01T10:00:00Z", next: "2026-01-01T11:30:00Z"},
		{schedule: "30 6-16/4 * * mon-fri", from: "2026-01-02T07:00:00Z", next: "2026-01-02T10:30:00Z"},
		{schedule: "0 9 * * *", tz: ptr.To("Europe/Berlin"), from: "2026-01-01T10:00:00Z", next: "2026-01-02T08:00:00Z"},
		{schedule: "0 9 * * *", tz: ptr.To("Europe/Berlin"), from: "2026-07-01T10:00:00Z", next: "2026-07-02T07:00:00Z"},
		{schedule: "CRON_TZ=America/New_York 0 9 * * *", from: "2026-01-01T10:00:00Z", next: "2026-01-01T14:00:00Z"},
		{schedule: "TZ=Asia/Tokyo 0 9 * * *", from: "2026-01-01T10:00:00Z", next: "2026-01-02T00:00:00Z"},
		{schedule: "0 9 * * *", local: berlin, from: "2026-01-01T10:00:00Z", next: "2026-01-02T08:00:00Z"},
	}
	for _, tc := range tests {
		s, err := ParseSchedule(tc.schedule, tc.tz, tc.local)
		if err != nil {
			t.Errorf("%s: %v", tc.schedule, err)
			continue
		}
		if got := s.Next(at(tc.from)).UTC(); !got.Equal(at(tc.next)) {
			t.Errorf("%s (tz %v) after %s: %s, want %s", tc.schedule, tc.tz, tc.from, got.Format(time.RFC3339), tc.next)
		}
	}
	for _, bad := range []string{"", "61 * * * *", "* * * *", "@fortnightly", "CRON_TZ=Mars/Olympus * * * * *"} {
		if _, err := ParseSchedule(bad, nil, nil); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

// A year of an hourly CronJob, stepping the clock to each requeue: every
// schedule runs exactly once, in order, and the history stays at its
// limits.
func TestYearOfHourly(t *testing.T) {
	cj := cronJob("0 * * * *")
	cj.CreationTimestamp = metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 30, 0, time.UTC))
	now := cj.CreationTimestamp.Time
	end := now.AddDate(1, 0, 0)
	var jobs []*batchv1.Job
	seen := map[string]bool{}
	var last time.Time
	runs := 0
	for now.Before(end) {
		p := Planner{}.Plan(cj, jobs, now)
		for _, d := range p.Delete {
			jobs = remove(jobs, d.UID)
		}
		cj.Status = p.Status
		if j := p.Create; j != nil {
			if seen[j.Name] {
				t.Fatalf("%s started twice", j.Name)
			}
			if !last.IsZero() && p.Scheduled.Sub(last) != time.Hour {
				t.Fatalf("schedule %s after %s", p.Scheduled, last)
			}
			seen[j.Name], last = true, p.Scheduled
			runs++
			j.UID = types.UID(j.Name)
			cj.Status = p.Created(j)
			// The Job runs for a minute; every tenth fails.
			st := metav1.NewTime(now)
			j.Status.StartTime = &st
			cond := batchv1.JobComplete
			if runs%10 == 0 {
				cond = batchv1.JobFailed
			}
			j.Status.Conditions = []batchv1.JobCondition{{Type: cond, Status: corev1.ConditionTrue}}
			ct := metav1.NewTime(now.Add(time.Minute))
			j.Status.CompletionTime = &ct
			jobs = append(jobs, j)
		}
		if p.RequeueAfter <= 0 {
			t.Fatalf("no requeue at %s", now)
		}
		now = now.Add(p.RequeueAfter)
	}
	for _, d := range (Planner{}).Plan(cj, jobs, now).Delete {
		jobs = remove(jobs, d.UID)
	}
	if runs != 365*24 {
		t.Errorf("%d runs in a year, want %d", runs, 365*24)
	}
	if len(jobs) > 4 {
		t.Errorf("%d jobs kept, want at most 3 succeeded + 1 failed", len(jobs))
	}
}

func remove(js []*batchv1.Job, uid types.UID) []*batchv1.Job {
	out := js[:0]
	for _, j := range js {
		if j.UID != uid {
			out = append(out, j)
		}
	}
	return out
}

// A year of an hourly Forbid CronJob whose Jobs run 90 minutes: the
// clock steps to each requeue or Job end, whichever is first; never do
// two Jobs run at once, and a schedule missed while one runs starts when
// it ends.
func TestYearOfForbid(t *testing.T) {
	cj := cronJob("0 * * * *", policy(batchv1.ForbidConcurrent))
	now := cj.CreationTimestamp.Time
	end := now.AddDate(1, 0, 0)
	var jobs []*batchv1.Job
	var running *batchv1.Job
	var finishAt time.Time
	runs := 0
	for now.Before(end) {
		if running != nil && !now.Before(finishAt) {
			ct := metav1.NewTime(finishAt)
			running.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionTrue}}
			running.Status.CompletionTime = &ct
			running = nil
		}
		p := Planner{}.Plan(cj, jobs, now)
		for _, d := range p.Delete {
			jobs = remove(jobs, d.UID)
		}
		cj.Status = p.Status
		if j := p.Create; j != nil {
			if running != nil {
				t.Fatalf("%s started at %s while %s runs", j.Name, now, running.Name)
			}
			runs++
			j.UID = types.UID(j.Name)
			st := metav1.NewTime(now)
			j.Status.StartTime = &st
			cj.Status = p.Created(j)
			jobs = append(jobs, j)
			running, finishAt = j, now.Add(90*time.Minute)
		}
		next := now.Add(p.RequeueAfter)
		if running != nil && finishAt.Before(next) {
			next = finishAt
		}
		if !next.After(now) {
			t.Fatalf("stuck at %s", now)
		}
		now = next
	}
	// Each run takes 90 minutes and the next starts at its end.
	if want := 365 * 24 * 60 / 90; runs < want-1 || runs > want+1 {
		t.Errorf("%d runs, want about %d", runs, want)
	}
}

// A replaced running Job is deleted before the new one starts; finished
// Jobs beyond the history limit after it (Plan.Replace splits Delete).
func TestReplaceBeforeCreateHistoryAfter(t *testing.T) {
	running := job("cj-running", "2026-01-01T10:00:00Z", "")
	failed := []*batchv1.Job{job("cj-f1", "2026-01-01T07:00:00Z", batchv1.JobFailed), job("cj-f2", "2026-01-01T08:00:00Z", batchv1.JobFailed)}
	cj := cronJob("@hourly", policy(batchv1.ReplaceConcurrent), lastSchedule("2026-01-01T10:00:00Z"), active(running))
	p := Planner{}.Plan(cj, append([]*batchv1.Job{running}, failed...), at("2026-01-01T11:00:01Z"))
	if p.Create == nil {
		t.Fatal("nothing created")
	}
	if p.Replace != 1 || len(p.Delete) != 2 || p.Delete[0].Name != "cj-running" || p.Delete[1].Name != "cj-f1" {
		t.Fatalf("Delete %s, Replace %d; want [cj-running cj-f1] with the first before the create", names(p.Delete), p.Replace)
	}
}
