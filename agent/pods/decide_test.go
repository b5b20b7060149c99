package pods

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/strom-project/strom/agent/runtime"
	corev1 "k8s.io/api/core/v1"
)

var t0 = time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)

func run(restart int, state runtime.State, code int, started, finished time.Duration) instance {
	in := instance{ID: fmt.Sprintf("id%d", restart), Restart: restart, State: state, ExitCode: code}
	if started >= 0 {
		in.StartedAt = t0.Add(started)
	}
	if state == runtime.StateExited {
		in.FinishedAt = t0.Add(finished)
		in.Reason = reasonError
		if code == 0 {
			in.Reason = reasonCompleted
		}
	}
	return in
}

func TestDecide(t *testing.T) {
	app := testPod("p", ctr("a", "img"), ctr("b", "img"))
	withInit := testPod("p", ctr("a", "img"))
	withInit.Spec.InitContainers = []corev1.Container{ctr("i1", "img"), ctr("i2", "img")}
	policy := func(p *corev1.Pod, rp corev1.RestartPolicy) *corev1.Pod {
		q := p.DeepCopy()
		q.Spec.RestartPolicy = rp
		return q
	}
	running := run(0, runtime.StateRunning, 0, 0, 0)
	crashed := run(0, runtime.StateExited, 1, 0, time.Second)
	completed := run(0, runtime.StateExited, 0, 0, time.Second)
	otherRunning := running
	otherRunning.ID = "other"

	tests := []struct {
		name      string
		pod       *corev1.Pod
		state     podState
		delays    map[string]time.Duration // back-off state before
		unhealthy map[string]string
		terminal  bool
		now       time.Duration
		want      []string
		waiting   []string
		initDone  bool
		initFail  bool
	}{
		{name: "fresh pod creates all app containers", pod: app, state: podState{}, want: []string{"create a#0", "create b#0"}, initDone: true},
		{name: "running containers: nothing to do", pod: app, state: podState{"a": {running}, "b": {running}}, initDone: true},
		{name: "created but not started is started", pod: app, state: podState{"a": {run(0, runtime.StateCreated, 0, -1, 0)}, "b": {running}}, want: []string{"start id0"}, initDone: true},
		{name: "first crash restarts at once", pod: app, state: podState{"a": {crashed}, "b": {running}}, now: 2 * time.Second, want: []string{"create a#1"}, initDone: true},
		{name: "second crash waits for back-off", pod: app, state: podState{"a": {crashed}, "b": {running}}, delays: map[string]time.Duration{"a": 10 * time.Second}, now: 5 * time.Second, waiting: []string{"a"}, initDone: true},
		{name: "back-off over: restart", pod: app, state: podState{"a": {crashed}, "b": {running}}, delays: map[string]time.Duration{"a": 10 * time.Second}, now: 11 * time.Second, want: []string{"create a#1"}, initDone: true},
		{name: "long run resets back-off", pod: app, state: podState{"a": {run(3, runtime.StateExited, 1, 0, 11*time.Minute)}, "b": {running}}, delays: map[string]time.Duration{"a": 5 * time.Minute}, now: 11*time.Minute + time.Second, want: []string{"create a#4"}, initDone: true},
		{name: "Never: crashed stays", pod: policy(app, corev1.RestartPolicyNever), state: podState{"a": {crashed}, "b": {running}}, now: time.Minute, initDone: true},
		{name: "OnFailure: completed stays", pod: policy(app, corev1.RestartPolicyOnFailure), state: podState{"a": {completed}, "b": {running}}, now: time.Minute, initDone: true},
		{name: "OnFailure: crashed restarts", pod: policy(app, corev1.RestartPolicyOnFailure), state: podState{"a": {crashed}, "b": {running}}, now: time.Minute, want: []string{"create a#1"}, initDone: true},
		{name: "Always: completed restarts", pod: app, state: podState{"a": {completed}, "b": {running}}, now: time.Minute, want: []string{"create a#1"}, initDone: true},
		{name: "liveness failure kills only that run", pod: app, state: podState{"a": {running}, "b": {otherRunning}}, unhealthy: map[string]string{"id0": "failed liveness probe"}, want: []string{"kill id0"}, initDone: true},
		{name: "init: first init container first", pod: withInit, state: podState{}, want: []string{"create i1#0"}},
		{name: "init: waits for running init", pod: withInit, state: podState{"i1": {running}}},
		{name: "init: next after success", pod: withInit, state: podState{"i1": {completed}}, want: []string{"create i2#0"}},
		{name: "init: all done starts app", pod: withInit, state: podState{"i1": {completed}, "i2": {completed}}, want: []string{"create a#0"}, initDone: true},
		{name: "init: failed init retried under Always", pod: withInit, state: podState{"i1": {crashed}}, now: time.Minute, want: []string{"create i1#1"}},
		{name: "init: failed init under Never fails the pod", pod: policy(withInit, corev1.RestartPolicyNever), state: podState{"i1": {crashed}}, now: time.Minute, initFail: true},
		{name: "init: app already ran skips init", pod: withInit, state: podState{"a": {running}}, initDone: true},
		{name: "terminal pod: nothing", pod: app, state: podState{}, terminal: true, initDone: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := newBackoff(10*time.Second, 5*time.Minute, 10*time.Minute)
			for k, v := range tc.delays {
				b.delay[k] = v
			}
			d := decide(decideInput{Pod: tc.pod, State: tc.state, Backoff: b, Unhealthy: tc.unhealthy, Terminal: tc.terminal, Now: t0.Add(tc.now)})
			var got []string
			for _, a := range d.Actions {
				got = append(got, a.String())
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("actions = %v, want %v", got, tc.want)
			}
			var waiting []string
			for name, w := range d.Waiting {
				if w.Reason != "CrashLoopBackOff" {
					t.Errorf("waiting reason of %s = %q", name, w.Reason)
				}
				waiting = append(waiting, name)
			}
			if !reflect.DeepEqual(waiting, tc.waiting) {
				t.Errorf("waiting = %v, want %v", waiting, tc.waiting)
			}
			if d.InitDone != tc.initDone || d.InitFailed != tc.initFail {
				t.Errorf("initDone=%v initFailed=%v, want %v %v", d.InitDone, d.InitFailed, tc.initDone, tc.initFail)
			}
		})
	}
}

// TestBackoffSchedule follows a container crashing right after each start:
// restarts come immediately, then after 10s, 20s, 40s, ... capped at 5m, and
// a 10-minute run resets the sequence.
func TestBackoffSchedule(t *testing.T) {
	b := newBackoff(10*time.Second, 5*time.Minute, 10*time.Minute)
	now := t0
	var gaps []time.Duration
	for i := 0; i < 9; i++ {
		started, finished := now, now.Add(time.Second)
		nb := b.notBefore("a", started, finished)
		gaps = append(gaps, nb.Sub(finished))
		b.restarted("a", started, finished)
		now = nb
	}
	want := []time.Duration{0, 10 * time.Second, 20 * time.Second, 40 * time.Second, 80 * time.Second, 160 * time.Second, 5 * time.Minute, 5 * time.Minute, 5 * time.Minute}
	if !reflect.DeepEqual(gaps, want) {
		t.Fatalf("gaps = %v, want %v", gaps, want)
	}
	// A run of 10 minutes resets: immediate restart, then 10s again.
	started, finished := now, now.Add(10*time.Minute)
	if nb := b.notBefore("a", started, finished); !nb.Equal(finished) {
		t.Fatalf("after a long run notBefore = +%v, want immediate", nb.Sub(finished))
	}
	b.restarted("a", started, finished)
	if got := b.delay["a"]; got != 10*time.Second {
		t.Fatalf("delay after reset = %v, want 10s", got)
	}
	// A run that never started (start error) does not count as long.
	if nb := b.notBefore("a", time.Time{}, finished); !nb.Equal(finished.Add(10 * time.Second)) {
		t.Fatalf("start error notBefore = +%v, want 10s", nb.Sub(finished))
	}
}

func TestPullBackoff(t *testing.T) {
	b := newBackoff(10*time.Second, 5*time.Minute, 10*time.Minute)
	if nb := b.pullNotBefore("img"); !nb.IsZero() {
		t.Fatalf("fresh pull back-off = %v", nb)
	}
	b.pullFailed("img", t0)
	if nb := b.pullNotBefore("img"); !nb.Equal(t0.Add(10 * time.Second)) {
		t.Fatalf("after one failure = %v", nb)
	}
	b.pullFailed("img", t0.Add(10*time.Second))
	if nb := b.pullNotBefore("img"); !nb.Equal(t0.Add(30 * time.Second)) {
		t.Fatalf("after two failures = %v", nb)
	}
	b.pullSucceeded("img")
	if nb := b.pullNotBefore("img"); !nb.IsZero() {
		t.Fatalf("after success = %v", nb)
	}
}
