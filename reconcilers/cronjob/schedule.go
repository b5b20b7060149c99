package cronjob

import (
	"errors"
	"fmt"
	"strings"
	"time"

	// The tz database is built in, so spec.timeZone means the same on
	// every host (as in Kubernetes' binaries), /usr/share/zoneinfo or not.
	_ "time/tzdata"

	"github.com/robfig/cron/v3"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

// nextScheduleDelta pads every requeue, so that a clock a little behind
// the one that computed the wait still finds the schedule due.
const nextScheduleDelta = 100 * time.Millisecond

// maxMissed is how many missed schedules Plan tolerates before it warns
// that the clock or startingDeadlineSeconds is wrong.
const maxMissed = 100

// ParseSchedule parses a CronJob's schedule in its time zone: the
// schedule's own TZ= or CRON_TZ= prefix, else spec.timeZone, else local.
func ParseSchedule(schedule string, timeZone *string, local *time.Location) (cron.Schedule, error) {
	if local == nil {
		local = time.UTC
	}
	spec := schedule
	hasTZ := strings.Contains(schedule, "TZ")
	if !hasTZ && timeZone != nil {
		spec = "CRON_TZ=" + *timeZone + " " + schedule
	}
	s, err := cron.ParseStandard(spec)
	if err != nil {
		return nil, err
	}
	if ss, ok := s.(*cron.SpecSchedule); ok && !hasTZ && timeZone == nil {
		ss.Location = local
	}
	return s, nil
}

// missed says how many schedules were missed: none, a few, or too many.
type missed int

const (
	noneMissed missed = iota
	fewMissed
	manyMissed
)

// mostRecent returns the time after which schedules count (the last
// schedule time or the creation time, moved up to now minus
// startingDeadlineSeconds if withDeadline), the most recent schedule time
// in (earliest, now] or nil, and how many were missed. It never walks
// more than a couple of schedules: the number missed is estimated from
// the interval between the first two.
func mostRecent(cj *batchv1.CronJob, now time.Time, sched cron.Schedule, withDeadline bool) (time.Time, *time.Time, missed, error) {
	earliest := cj.CreationTimestamp.Time
	if cj.Status.LastScheduleTime != nil {
		earliest = cj.Status.LastScheduleTime.Time
	}
	if d := cj.Spec.StartingDeadlineSeconds; withDeadline && d != nil {
		if dl := now.Add(-time.Duration(*d) * time.Second); dl.After(earliest) {
			earliest = dl
		}
	}
	t1 := sched.Next(earliest)
	t2 := sched.Next(t1)
	if t1.IsZero() || now.Before(t1) {
		return earliest, nil, noneMissed, nil
	}
	if t2.IsZero() || now.Before(t2) {
		return earliest, &t1, noneMissed, nil
	}
	// A schedule such as "0 0 31 2 *" parses but never fires twice.
	between := int64(t2.Sub(t1).Round(time.Second).Seconds())
	if between < 1 {
		return earliest, nil, noneMissed, errors.New("time difference between two schedules is less than 1 second")
	}
	n := int64(now.Sub(t1).Seconds())/between + 1
	// Start two intervals before the estimate and let the schedule find
	// the exact times: intervals of irregular schedules vary.
	var last time.Time
	from := t1.Add(time.Duration((n-2)*between) * time.Second)
	for t := sched.Next(from); !t.IsZero() && !t.After(now); t = sched.Next(t) {
		last = t
	}
	m := fewMissed
	if n > maxMissed {
		m = manyMissed
	}
	if last.IsZero() {
		return earliest, nil, m, nil
	}
	return earliest, &last, m, nil
}

// nextWait is how long until the schedule after the most recent one
// (ignoring startingDeadlineSeconds), padded by nextScheduleDelta.
func nextWait(cj *batchv1.CronJob, now time.Time, sched cron.Schedule) time.Duration {
	earliest, recent, m, err := mostRecent(cj, now, sched, false)
	from := now
	switch {
	case err != nil:
	case recent != nil:
		from = *recent
	case m == noneMissed:
		from = earliest
	}
	next := sched.Next(from)
	if next.IsZero() {
		return 0 // never again
	}
	return next.Add(nextScheduleDelta).Sub(now)
}

// due returns the schedule time a Job should start for now, or nil.
func (s *state) due(sched cron.Schedule) (*time.Time, error) {
	_, recent, m, err := mostRecent(s.cj, s.now, sched, true)
	if recent == nil || recent.After(s.now) {
		return nil, err
	}
	if m == manyMissed {
		s.plan.event(corev1.EventTypeWarning, "TooManyMissedTimes",
			fmt.Sprintf("too many missed start times (> %d). Set or decrease .spec.startingDeadlineSeconds or check clock skew", maxMissed))
	}
	return recent, err
}
