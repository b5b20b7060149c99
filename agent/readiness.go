package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/api"
)

// The node's Ready condition as kubelet sets it from the container
// runtime's health (k8s.io/kubernetes/pkg/kubelet/nodestatus): True with
// KubeletReady while the runtime answers, False with KubeletNotReady and
// "container runtime is down" while it does not. The node keeps renewing
// its lease meanwhile: it is reachable, so it is NotReady, not Unknown,
// and the scheduler places no new pod on it.
const (
	reasonReady    = "KubeletReady"
	messageReady   = "strom-agent is posting ready status"
	reasonNotReady = "KubeletNotReady"
	// MessageRuntimeDown is the Ready condition's message while the
	// container runtime does not answer.
	MessageRuntimeDown = "container runtime is down"
)

// MessageNetworkNotReady starts the Ready condition's message while the
// pod network cannot be set up (a CNI plugin is missing), as kubelet's
// does.
const MessageNetworkNotReady = "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady"

// notReadyError is why the node is not ready, with the Ready condition's
// message for it.
type notReadyError struct {
	message string
	err     error
}

func (e *notReadyError) Error() string { return e.message + ": " + e.err.Error() }
func (e *notReadyError) Unwrap() error { return e.err }

// networkNotReady marks err as the pod network's.
func networkNotReady(err error) error {
	return &notReadyError{message: MessageNetworkNotReady + " message:" + err.Error(), err: err}
}

// readyCondition is the Ready condition for the runtime's health
// (runtimeErr nil: healthy), as of now. An error of the pod network
// (networkNotReady) has kubelet's network message; any other is the
// runtime being down.
func readyCondition(runtimeErr error, now metav1.Time) corev1.NodeCondition {
	c := corev1.NodeCondition{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: reasonReady,
		Message: messageReady, LastHeartbeatTime: now, LastTransitionTime: now}
	if runtimeErr != nil {
		c.Status, c.Reason, c.Message = corev1.ConditionFalse, reasonNotReady, MessageRuntimeDown
		var nr *notReadyError
		if errors.As(runtimeErr, &nr) {
			c.Message = nr.message
		}
	}
	return c
}

// withReady returns the node's conditions with Ready replaced by c; the
// transition time stays when the status does not change, and so does the
// heartbeat time (heartbeats live in the lease, not in the log). changed
// is false when nothing but those times would change.
func withReady(conds []corev1.NodeCondition, c corev1.NodeCondition) (out []corev1.NodeCondition, changed bool) {
	out = make([]corev1.NodeCondition, 0, len(conds)+1)
	found := false
	for _, old := range conds {
		if old.Type != corev1.NodeReady {
			out = append(out, old)
			continue
		}
		found = true
		if old.Status == c.Status {
			c.LastTransitionTime, c.LastHeartbeatTime = old.LastTransitionTime, old.LastHeartbeatTime
		}
		changed = old.Status != c.Status || old.Reason != c.Reason || old.Message != c.Message
		out = append(out, c)
	}
	if !found {
		out, changed = append(out, c), true
	}
	return out, changed
}

// readiness reports the runtime's health in the node's Ready condition,
// writing only changes, and logs each change once.
type readiness struct {
	st   *Status
	node string
	log  *zap.Logger

	mu       sync.Mutex
	reported *string   // the Ready message last written; nil: not yet
	verified time.Time // when the node was last read to confirm it
}

// reverify is how often an unchanged state is checked against the node
// as stored: someone else may have written its Ready condition (the node
// lifecycle controller marks a silent node Unknown, then Ready again when
// heartbeats resume, without knowing the runtime's state).
const reverify = time.Minute

// report sets Ready from the runtime's health (err nil: healthy). A
// failed write is logged and retried on the next report.
func (r *readiness) report(ctx context.Context, err error) {
	now := r.st.clock.Now()
	msg := readyCondition(err, metav1.Time{}).Message
	r.mu.Lock()
	same := r.reported != nil && *r.reported == msg
	fresh := now.Sub(r.verified) < reverify
	r.mu.Unlock()
	if same && fresh {
		return
	}
	if !same {
		if err == nil {
			r.log.Info("node Ready: the container runtime and the pod network answer")
		} else {
			r.log.Warn("node NotReady until it is mended: "+msg, zap.Error(err))
		}
	}
	if werr := r.write(ctx, err); werr != nil {
		if ctx.Err() == nil {
			r.log.Warn("reporting node readiness", zap.Error(werr))
		}
		return
	}
	r.mu.Lock()
	r.reported, r.verified = &msg, now
	r.mu.Unlock()
}

// write reads the node and writes its Ready condition.
func (r *readiness) write(ctx context.Context, runtimeErr error) error {
	return writeNodeConditions(ctx, r.st, r.node, func(conds []corev1.NodeCondition, now metav1.Time) ([]corev1.NodeCondition, []string) {
		wasReady := readyIn(conds)
		out, changed := withReady(conds, readyCondition(runtimeErr, now))
		if !changed {
			return nil, nil
		}
		var evs []string
		if isReady := readyIn(out); isReady != wasReady {
			evs = append(evs, map[bool]string{true: "NodeReady", false: "NodeNotReady"}[isReady])
		}
		return out, evs
	})
}

// writeNodeConditions reads the node, lets change compute its conditions
// (nil: nothing to write) and the Events to record ("NodeReady" …, as
// kubelet's "Node X status is now: Y"), and writes them, retrying a lost
// compare-and-swap.
func writeNodeConditions(ctx context.Context, st *Status, name string, change func([]corev1.NodeCondition, metav1.Time) ([]corev1.NodeCondition, []string)) error {
	for attempt := 0; ; attempt++ {
		node, err := getNode(ctx, st.client, name)
		if err != nil {
			return fmt.Errorf("reading node %s: %w", name, err)
		}
		now := metav1.NewTime(st.clock.Now().UTC().Truncate(time.Second))
		conds, evs := change(node.Status.Conditions, now)
		if conds == nil {
			return nil
		}
		node.Status.Conditions = conds
		node.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "Node"}
		data, err := json.Marshal(node)
		if err != nil {
			return err
		}
		_, err = st.client.Do(ctx, api.VerbStatus, &api.Request{Object: data})
		if events.IsConflict(err) && attempt < 5 {
			continue
		}
		if err != nil {
			return fmt.Errorf("writing the conditions of node %s: %w", name, err)
		}
		for _, state := range evs {
			st.rec.Record(ctx, node, corev1.EventTypeNormal, state, fmt.Sprintf("Node %s status is now: %s", name, state))
		}
		return nil
	}
}

func readyIn(conds []corev1.NodeCondition) bool {
	for _, c := range conds {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// RuntimeHealth is implemented by pod managers whose runtime can be asked
// whether it answers (RealPods'). The agent asks every
// Config.RuntimeCheck and reports the answer in the node's Ready
// condition.
type RuntimeHealth interface {
	RuntimeHealthy(ctx context.Context) error
}

// watchRuntime reports h's health every interval until ctx ends.
func (a *Agent) watchRuntime(ctx context.Context, h RuntimeHealth, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			a.status.ReportRuntime(ctx, h.RuntimeHealthy(ctx))
		}
	}
}
