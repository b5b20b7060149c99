package pods

import (
	"fmt"
	"time"

	"github.com/strom-project/strom/agent/runtime"
	corev1 "k8s.io/api/core/v1"
)

// actionKind is what the worker does to a container.
type actionKind int

const (
	// actCreate creates and starts a new run of a container.
	actCreate actionKind = iota
	// actStart starts a created run (the agent died between create and start).
	actStart
	// actKill stops a running run (failed liveness or startup probe).
	actKill
)

func (k actionKind) String() string {
	return [...]string{"create", "start", "kill"}[k]
}

// action is one step the worker takes.
type action struct {
	Kind    actionKind
	Name    string // container name
	Init    bool
	Restart int    // actCreate: restart count of the new run
	ID      string // actStart, actKill: the run
	Why     string // actKill: the message for the Killing event
	// Backoff marks a restart that must be recorded in the back-off (it
	// replaces a run that exited).
	Backoff bool
	Prev    *instance // the run being replaced (actCreate) if any
}

func (a action) String() string {
	switch a.Kind {
	case actCreate:
		return fmt.Sprintf("create %s#%d", a.Name, a.Restart)
	default:
		return fmt.Sprintf("%s %s", a.Kind, a.ID)
	}
}

// waitState is why a container is waiting.
type waitState struct {
	Reason  string
	Message string
}

// decision is the outcome of decide.
type decision struct {
	Actions []action
	// Waiting holds containers waiting out a back-off (CrashLoopBackOff).
	Waiting map[string]waitState
	// Wake is the earliest time a back-off ends (zero: none).
	Wake time.Time
	// InitDone: every init container completed (or an app container ran).
	InitDone bool
	// InitFailed: an init container failed and will not be retried.
	InitFailed bool
}

// decideInput is everything decide looks at.
type decideInput struct {
	Pod     *corev1.Pod
	State   podState
	Backoff *backoff
	// Unhealthy maps running containers' IDs to why they must be killed
	// (liveness or startup probe failure).
	Unhealthy map[string]string
	// Terminal: the pod already reached Succeeded or Failed; nothing runs
	// again.
	Terminal bool
	Now      time.Time
}

// shouldRestart applies the pod's restartPolicy to a run that exited.
func shouldRestart(policy corev1.RestartPolicy, exitCode int) bool {
	switch policy {
	case corev1.RestartPolicyNever:
		return false
	case corev1.RestartPolicyOnFailure:
		return exitCode != 0
	}
	return true
}

// decide compares the desired pod with what the runtime has and returns
// the steps to converge. It is pure.
func decide(in decideInput) decision {
	d := decision{Waiting: map[string]waitState{}}
	pod := in.Pod
	policy := pod.Spec.RestartPolicy
	anyApp := false
	for _, c := range pod.Spec.Containers {
		if in.State.latest(c.Name) != nil {
			anyApp = true
		}
	}
	// restartOrWait handles a run that exited and must run again.
	restartOrWait := func(c *corev1.Container, init bool, last *instance) {
		nb := in.Backoff.notBefore(c.Name, last.StartedAt, last.FinishedAt)
		if in.Now.Before(nb) {
			delay := in.Backoff.current(c.Name, last.StartedAt, last.FinishedAt)
			d.Waiting[c.Name] = waitState{
				Reason:  "CrashLoopBackOff",
				Message: fmt.Sprintf("back-off %s restarting failed container=%s pod=%s_%s(%s)", delay, c.Name, pod.Name, pod.Namespace, pod.UID),
			}
			if d.Wake.IsZero() || nb.Before(d.Wake) {
				d.Wake = nb
			}
			return
		}
		d.Actions = append(d.Actions, action{Kind: actCreate, Name: c.Name, Init: init, Restart: last.Restart + 1, Backoff: true, Prev: last})
	}

	// Init containers run one at a time, in order, each to exit 0.
	d.InitDone = true
	if !anyApp {
		for i := range pod.Spec.InitContainers {
			c := &pod.Spec.InitContainers[i]
			last := in.State.latest(c.Name)
			if last.exited() && last.ExitCode == 0 {
				continue
			}
			d.InitDone = false
			if in.Terminal {
				break
			}
			switch {
			case last == nil:
				d.Actions = append(d.Actions, action{Kind: actCreate, Name: c.Name, Init: true})
			case last.State == runtime.StateCreated:
				d.Actions = append(d.Actions, action{Kind: actStart, Name: c.Name, Init: true, ID: last.ID})
			case last.exited():
				// Init containers are retried unless the pod never restarts.
				if policy == corev1.RestartPolicyNever {
					d.InitFailed = true
				} else {
					restartOrWait(c, true, last)
				}
			}
			break
		}
	}
	if !d.InitDone || in.Terminal {
		return d
	}

	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		last := in.State.latest(c.Name)
		switch {
		case last == nil:
			d.Actions = append(d.Actions, action{Kind: actCreate, Name: c.Name})
		case last.State == runtime.StateCreated:
			d.Actions = append(d.Actions, action{Kind: actStart, Name: c.Name, ID: last.ID})
		case last.running():
			if why, ok := in.Unhealthy[last.ID]; ok {
				d.Actions = append(d.Actions, action{Kind: actKill, Name: c.Name, ID: last.ID, Why: why})
			}
		case last.exited():
			if shouldRestart(policy, last.ExitCode) {
				restartOrWait(c, false, last)
			}
		}
	}
	return d
}
