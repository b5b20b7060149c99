package pods

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/strom-project/strom/agent/runtime"
)

// runsOf lists the runs of one container of a pod, found by labels.
func (m *Manager) runsOf(ctx context.Context, ns, pod, container string) ([]runtime.ContainerStatus, error) {
	ctrs, err := m.rt.ListContainers(ctx, map[string]string{
		runtime.LabelPodNamespace:  ns,
		runtime.LabelPodName:       pod,
		runtime.LabelContainerName: container,
	})
	if err != nil {
		return nil, fmt.Errorf("listing containers of %s/%s: %w", ns, pod, err)
	}
	if len(ctrs) == 0 {
		return nil, fmt.Errorf("container %q of pod %s/%s: %w", container, ns, pod, runtime.ErrNotFound)
	}
	// The newest pod of that name wins (a recreated pod has a new UID).
	newest := ctrs[0]
	for _, c := range ctrs {
		if c.CreatedAt.After(newest.CreatedAt) {
			newest = c
		}
	}
	var out []runtime.ContainerStatus
	for _, c := range ctrs {
		if c.PodUID == newest.PodUID {
			out = append(out, c)
		}
	}
	return out, nil
}

// ContainerLogPath returns the log file of a container's current run, or
// with previous of the run before it (restart count - 1). Errors wrap
// runtime.ErrNotFound when there is no such run.
func (m *Manager) ContainerLogPath(ns, pod, container string, previous bool) (string, error) {
	ctx := context.Background()
	runs, err := m.runsOf(ctx, ns, pod, container)
	if err != nil {
		return "", err
	}
	latest := runs[0]
	for _, r := range runs {
		if r.RestartCount > latest.RestartCount {
			latest = r
		}
	}
	if !previous {
		return latest.LogPath, nil
	}
	want := latest.RestartCount - 1
	if want < 0 {
		return "", fmt.Errorf("previous terminated container %q in pod %q: %w", container, pod, runtime.ErrNotFound)
	}
	for _, r := range runs {
		if r.RestartCount == want {
			return r.LogPath, nil
		}
	}
	// The run was removed; its log file may still be there, beside the
	// current one (<container>/<restart>.log).
	p := filepath.Join(filepath.Dir(latest.LogPath), strconv.Itoa(want)+".log")
	if _, err := os.Stat(p); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("previous terminated container %q in pod %q: %w", container, pod, runtime.ErrNotFound)
}

// Exec runs a command in the current run of a container and returns its
// exit code.
func (m *Manager) Exec(ctx context.Context, ns, pod, container string, cfg runtime.ExecConfig) (int, error) {
	runs, err := m.runsOf(ctx, ns, pod, container)
	if err != nil {
		return -1, err
	}
	var cur *runtime.ContainerStatus
	for i := range runs {
		if runs[i].State == runtime.StateRunning && (cur == nil || runs[i].RestartCount > cur.RestartCount) {
			cur = &runs[i]
		}
	}
	if cur == nil {
		return -1, fmt.Errorf("container %q of pod %s/%s is not running: %w", container, ns, pod, runtime.ErrNotRunning)
	}
	return m.rt.Exec(ctx, cur.ID, cfg)
}
