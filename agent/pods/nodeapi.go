package pods

import (
	"context"
	"fmt"

	"github.com/strom-project/strom/agent/runtime"
)

// What the node API (agent/nodeapi) asks of the pods besides logs and
// exec: whether a log file's run still runs (a followed log ends with its
// run, as kubelet's does) and where a pod's network namespace is (port
// forwarding).

// LogRunning reports whether the run of the container that writes the log
// file at path is still running; a run that is gone is not.
func (m *Manager) LogRunning(ctx context.Context, ns, pod, container, path string) (bool, error) {
	runs, err := m.runsOf(ctx, ns, pod, container)
	if err != nil {
		return false, err
	}
	for _, r := range runs {
		if r.LogPath == path {
			return r.State == runtime.StateRunning, nil
		}
	}
	return false, nil
}

// PodNetNS returns the network namespace of the pod with that uid on this
// node; errors wrap runtime.ErrNotFound when the pod has no sandbox here.
func (m *Manager) PodNetNS(ctx context.Context, uid string) (string, error) {
	sb, err := m.rt.Sandbox(ctx, uid)
	if err != nil {
		return "", err
	}
	if sb.NetNSPath == "" {
		return "", fmt.Errorf("pod %s has no network namespace: %w", uid, runtime.ErrNotFound)
	}
	return sb.NetNSPath, nil
}
