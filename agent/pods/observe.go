package pods

import (
	"sort"
	"time"

	"github.com/strom-project/strom/agent/runtime"
)

// Termination reasons, as kubelet reports them.
const (
	reasonCompleted          = "Completed"
	reasonError              = "Error"
	reasonOOMKilled          = "OOMKilled"
	reasonContainerCannotRun = "ContainerCannotRun"
)

// instance is one run (one restart count) of a container.
type instance struct {
	ID         string
	Restart    int
	State      runtime.State // Created, Running or Exited
	ExitCode   int
	Reason     string // when Exited
	Message    string // when Exited
	CreatedAt  time.Time
	StartedAt  time.Time
	FinishedAt time.Time
	Image      string
	LogPath    string
}

func (i *instance) running() bool { return i != nil && i.State == runtime.StateRunning }
func (i *instance) exited() bool  { return i != nil && i.State == runtime.StateExited }

// podState is what the runtime has for one pod: the runs of each container,
// oldest first.
type podState map[string][]instance

// latest is the container's newest run, or nil.
func (s podState) latest(name string) *instance {
	runs := s[name]
	if len(runs) == 0 {
		return nil
	}
	return &runs[len(runs)-1]
}

// previous is the run before the newest, or nil.
func (s podState) previous(name string) *instance {
	runs := s[name]
	if len(runs) < 2 {
		return nil
	}
	return &runs[len(runs)-2]
}

// startFailure is a start that failed: the runtime keeps such a container
// as Created, so the worker remembers why.
type startFailure struct {
	Message string
	At      time.Time
}

// buildState groups runtime containers by name and restart count. Created
// containers whose start failed count as exited with 128 and reason
// ContainerCannotRun.
func buildState(ctrs []runtime.ContainerStatus, failed map[string]startFailure) podState {
	s := podState{}
	for _, c := range ctrs {
		in := instance{
			ID: c.ID, Restart: c.RestartCount, State: c.State, ExitCode: c.ExitCode,
			CreatedAt: c.CreatedAt, StartedAt: c.StartedAt, FinishedAt: c.FinishedAt,
			Image: c.Image, LogPath: c.LogPath,
		}
		switch c.State {
		case runtime.StateCreated:
			if f, ok := failed[c.ID]; ok {
				in.State = runtime.StateExited
				in.ExitCode = 128
				in.Reason = reasonContainerCannotRun
				in.Message = f.Message
				in.FinishedAt = f.At
				in.StartedAt = time.Time{}
			}
		case runtime.StateExited:
			switch {
			case c.OOMKilled:
				in.Reason = reasonOOMKilled
			case c.ExitCode == 0:
				in.Reason = reasonCompleted
			default:
				in.Reason = reasonError
			}
			if in.FinishedAt.IsZero() {
				in.FinishedAt = c.StartedAt
			}
		case runtime.StateUnknown:
			// A container whose task state cannot be read: treat it as
			// exited with an unknown code so it is replaced.
			in.State = runtime.StateExited
			in.ExitCode = -1
			in.Reason = reasonError
			in.FinishedAt = c.StartedAt
		}
		s[c.Name] = append(s[c.Name], in)
	}
	for name := range s {
		runs := s[name]
		sort.Slice(runs, func(i, j int) bool { return runs[i].Restart < runs[j].Restart })
	}
	return s
}
