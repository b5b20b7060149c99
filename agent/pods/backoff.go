package pods

import "time"

// backoff is kubelet's restart back-off for one pod: the first restart of a
// container is immediate, then each further one waits initial, 2×initial, …
// up to max after the previous run finished. A run that lasted at least reset
// starts the sequence again. Failed image pulls use the same schedule.
type backoff struct {
	initial, max, reset time.Duration
	delay               map[string]time.Duration // key -> delay before the next restart
	failedAt            map[string]time.Time     // pull failures: key -> last failure
}

func newBackoff(initial, max, reset time.Duration) *backoff {
	return &backoff{initial: initial, max: max, reset: reset, delay: map[string]time.Duration{}, failedAt: map[string]time.Time{}}
}

// ran tells how long a run lasted; a run that never started lasted 0.
func ran(startedAt, finishedAt time.Time) time.Duration {
	if startedAt.IsZero() || finishedAt.Before(startedAt) {
		return 0
	}
	return finishedAt.Sub(startedAt)
}

// notBefore is when a container whose last run started and finished at the
// given times may be restarted.
func (b *backoff) notBefore(key string, startedAt, finishedAt time.Time) time.Time {
	d, ok := b.delay[key]
	if !ok || ran(startedAt, finishedAt) >= b.reset {
		return finishedAt
	}
	return finishedAt.Add(d)
}

// current is the delay that the last restart decision used (0: none yet).
func (b *backoff) current(key string, startedAt, finishedAt time.Time) time.Duration {
	if ran(startedAt, finishedAt) >= b.reset {
		return 0
	}
	return b.delay[key]
}

// restarted records a restart after the given run and grows the delay.
func (b *backoff) restarted(key string, startedAt, finishedAt time.Time) {
	d, ok := b.delay[key]
	switch {
	case !ok || ran(startedAt, finishedAt) >= b.reset:
		d = b.initial
	default:
		d *= 2
		if d > b.max {
			d = b.max
		}
	}
	b.delay[key] = d
}

// pullNotBefore is when a failed pull of key may be tried again.
func (b *backoff) pullNotBefore(key string) time.Time {
	at, ok := b.failedAt[key]
	if !ok {
		return time.Time{}
	}
	return at.Add(b.delay["pull/"+key])
}

// pullFailed records a failed pull at now and grows its delay.
func (b *backoff) pullFailed(key string, now time.Time) {
	k := "pull/" + key
	d, ok := b.delay[k]
	if !ok {
		d = b.initial
	} else if d *= 2; d > b.max {
		d = b.max
	}
	b.delay[k] = d
	b.failedAt[key] = now
}

// pullSucceeded forgets a pull's failures.
func (b *backoff) pullSucceeded(key string) {
	delete(b.delay, "pull/"+key)
	delete(b.failedAt, key)
}
