package probes

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// RunHook runs a lifecycle handler (postStart or preStop) and returns an
// error describing its failure. ctx bounds it.
func RunHook(ctx context.Context, h *corev1.LifecycleHandler, t Target) error {
	switch {
	case h == nil:
		return nil
	case h.Exec != nil:
		if t.Exec == nil {
			return fmt.Errorf("exec hook: no exec available")
		}
		code, out, err := t.Exec(ctx, h.Exec.Command)
		if err != nil {
			return fmt.Errorf("exec hook %q: %w", h.Exec.Command, err)
		}
		if code != 0 {
			return fmt.Errorf("exec hook %q exited with %d: %s", h.Exec.Command, code, trim(out))
		}
		return nil
	case h.HTTPGet != nil:
		code, body, err := httpGet(ctx, h.HTTPGet, t)
		if err != nil {
			return fmt.Errorf("http hook: %w", err)
		}
		if code < 200 || code >= 400 {
			return fmt.Errorf("http hook answered %d: %s", code, trim(body))
		}
		return nil
	case h.Sleep != nil:
		timer := time.NewTimer(time.Duration(h.Sleep.Seconds) * time.Second)
		defer timer.Stop()
		select {
		case <-timer.C:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	case h.TCPSocket != nil:
		return fmt.Errorf("tcpSocket lifecycle hooks are not supported")
	}
	return fmt.Errorf("lifecycle handler has no action")
}
