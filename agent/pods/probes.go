package pods

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/strom-project/strom/agent/probes"
	"github.com/strom-project/strom/agent/runtime"
	corev1 "k8s.io/api/core/v1"
)

// probeSet holds the probe workers of one pod's running containers.
type probeSet struct {
	onChange func()
	mu       sync.Mutex
	workers  map[string]*probes.Worker // key: container ID + "/" + kind
}

func newProbeSet(onChange func()) *probeSet {
	return &probeSet{onChange: onChange, workers: map[string]*probes.Worker{}}
}

func probeKey(id string, k probes.Kind) string { return id + "/" + string(k) }

// result returns the probe's thresholded result, or its initial one when
// no worker runs.
func (p *probeSet) result(id string, k probes.Kind) (probes.Result, string) {
	p.mu.Lock()
	w := p.workers[probeKey(id, k)]
	p.mu.Unlock()
	if w == nil {
		return probes.InitialResult(k), ""
	}
	return w.Result()
}

// view answers computeStatus: started per the startup probe, ready per the
// readiness probe.
func (p *probeSet) view(c *corev1.Container, id string) (started, ready bool) {
	started = c.StartupProbe == nil
	if !started {
		r, _ := p.result(id, probes.Startup)
		started = r == probes.Success
	}
	ready = c.ReadinessProbe == nil
	if !ready {
		r, _ := p.result(id, probes.Readiness)
		ready = r == probes.Success
	}
	return started, ready
}

// ensure runs the probes of the app containers' current runs: the startup
// probe first, liveness and readiness once started; workers of other runs
// are stopped.
func (w *worker) ensureProbes(ctx context.Context, pod *corev1.Pod, st podState, target func(*corev1.Container, string) probes.Target) {
	p := w.probes
	keep := map[string]bool{}
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		last := st.latest(c.Name)
		if !last.running() {
			continue
		}
		add := func(k probes.Kind, pr *corev1.Probe) {
			if pr == nil {
				return
			}
			key := probeKey(last.ID, k)
			keep[key] = true
			p.mu.Lock()
			_, ok := p.workers[key]
			p.mu.Unlock()
			if ok {
				return
			}
			pw := probes.NewWorker(k, *pr, target(c, last.ID), func(k probes.Kind, r probes.Result, msg string) {
				if r == probes.Failure {
					w.event(pod, corev1.EventTypeWarning, "Unhealthy", fmt.Sprintf("%s probe failed: %s", k, msg))
				}
				p.onChange()
			})
			p.mu.Lock()
			p.workers[key] = pw
			p.mu.Unlock()
			pw.Start(ctx)
		}
		add(probes.Startup, c.StartupProbe)
		if started, _ := p.view(c, last.ID); started {
			add(probes.Liveness, c.LivenessProbe)
			add(probes.Readiness, c.ReadinessProbe)
		}
	}
	p.mu.Lock()
	var stop []*probes.Worker
	for key, pw := range p.workers {
		if !keep[key] {
			stop = append(stop, pw)
			delete(p.workers, key)
		}
	}
	p.mu.Unlock()
	for _, pw := range stop {
		pw.Stop()
	}
}

// unhealthy lists running containers whose liveness or startup probe
// failed, with the reason for the Killing event.
func (p *probeSet) unhealthy() map[string]string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string]string{}
	for key, pw := range p.workers {
		id, kind, _ := strings.Cut(key, "/")
		if kind != string(probes.Liveness) && kind != string(probes.Startup) {
			continue
		}
		if r, _ := pw.Result(); r == probes.Failure {
			out[id] = "failed " + strings.ToLower(kind) + " probe"
		}
	}
	return out
}

// stopContainer stops the probes of one container run.
func (p *probeSet) stopContainer(id string) {
	p.mu.Lock()
	var stop []*probes.Worker
	for key, pw := range p.workers {
		if strings.HasPrefix(key, id+"/") {
			stop = append(stop, pw)
			delete(p.workers, key)
		}
	}
	p.mu.Unlock()
	for _, pw := range stop {
		pw.Stop()
	}
}

// stopAll stops every probe of the pod.
func (p *probeSet) stopAll() {
	p.mu.Lock()
	stop := p.workers
	p.workers = map[string]*probes.Worker{}
	p.mu.Unlock()
	for _, pw := range stop {
		pw.Stop()
	}
}

// target builds the probe target of a container run in sb.
func (w *worker) target(sb runtime.Sandbox) func(*corev1.Container, string) probes.Target {
	return func(c *corev1.Container, id string) probes.Target {
		return probes.Target{
			PodIP:     sb.IP,
			Container: c,
			Dial:      w.m.cfg.ProbeDial,
			Exec: func(ctx context.Context, cmd []string) (int, string, error) {
				var out syncBuffer
				code, err := w.m.rt.Exec(ctx, id, runtime.ExecConfig{Cmd: cmd, Stdout: &out, Stderr: &out})
				return code, out.String(), err
			},
		}
	}
}

// syncBuffer is a bytes.Buffer safe for the runtime's concurrent stdout
// and stderr copies.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
