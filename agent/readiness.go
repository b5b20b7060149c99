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

// setCondition returns a copy of conds with want in place of the
// condition of its type (or appended). The transition time stays when the
// status does not change, and so does the heartbeat time (heartbeats live
// in the lease, not in the log). changed: more than those times differs;
// transitioned: the status differs, or the condition is new.
func setCondition(conds []corev1.NodeCondition, want corev1.NodeCondition) (out []corev1.NodeCondition, changed, transitioned bool) {
	out = append(make([]corev1.NodeCondition, 0, len(conds)+1), conds...)
	i := conditionIndex(out, want.Type)
	if i < 0 {
		return append(out, want), true, true
	}
	old := out[i]
	if old.Status == want.Status {
		want.LastTransitionTime, want.LastHeartbeatTime = old.LastTransitionTime, old.LastHeartbeatTime
	}
	out[i] = want
	return out, old.Status != want.Status || old.Reason != want.Reason || old.Message != want.Message, old.Status != want.Status
}

func conditionIndex(conds []corev1.NodeCondition, typ corev1.NodeConditionType) int {
	for i := range conds {
		if conds[i].Type == typ {
			return i
		}
	}
	return -1
}

// withReady returns the node's conditions with Ready set to c (see
// setCondition); changed is false when nothing but its times would
// change.
func withReady(conds []corev1.NodeCondition, c corev1.NodeCondition) (out []corev1.NodeCondition, changed bool) {
	out, changed, _ = setCondition(conds, c)
	return out, changed
}

// readyChange is the change of a report of the runtime's health: the
// conditions with Ready set, and the NodeReady / NodeNotReady Event when
// Ready flips.
func readyChange(runtimeErr error) conditionChange {
	return func(conds []corev1.NodeCondition, now metav1.Time) ([]corev1.NodeCondition, []string) {
		wasReady := readyIn(conds)
		out, changed := withReady(conds, readyCondition(runtimeErr, now))
		if !changed {
			return nil, nil
		}
		switch isReady := readyIn(out); {
		case isReady == wasReady:
			return out, nil
		case isReady:
			return out, []string{"NodeReady"}
		default:
			return out, []string{"NodeNotReady"}
		}
	}
}

// readiness reports the runtime's health in the node's Ready condition;
// its state is the condition's message.
type readiness = conditionReporter[string]

// newReadiness returns the Ready reporter of a node whose registration
// wrote Ready=True.
func newReadiness(st *Status, node string, log *zap.Logger) *readiness {
	registered := messageReady
	return &readiness{st: st, node: node, log: log, what: "node readiness", reported: &registered}
}

// reportRuntime sets Ready from the runtime's health (err nil: healthy).
func reportRuntime(ctx context.Context, r *readiness, err error) {
	msg := readyCondition(err, metav1.Time{}).Message
	r.report(ctx, msg, readyChange(err), func() {
		if err == nil {
			r.log.Info("node Ready: the container runtime and the pod network answer")
		} else {
			r.log.Warn("node NotReady until it is mended: "+msg, zap.Error(err))
		}
	})
}

// conditionChange computes a node's new conditions from its stored ones
// (nil: nothing to write) and the Events to record.
type conditionChange func(conds []corev1.NodeCondition, now metav1.Time) ([]corev1.NodeCondition, []string)

// conditionReporter writes node conditions computed from a state K when
// the state changes, and checks them against the stored node every
// reverify even when it does not.
type conditionReporter[K comparable] struct {
	st   *Status
	node string
	log  *zap.Logger
	what string // for the log: "node readiness", "node pressure"

	mu       sync.Mutex
	reported *K        // the state last written; nil: not yet
	verified time.Time // when the node was last read to confirm it
}

// reverify is how often an unchanged state is checked against the node
// as stored: someone else may have written its conditions (the node
// lifecycle controller marks a silent node Unknown, then Ready again when
// heartbeats resume, without knowing the runtime's state).
const reverify = time.Minute

// report writes state k with change unless k is what was written less
// than reverify ago; changed, if not nil, is called (to log) when k is
// not what was written. A failed write is logged and retried on the next
// report.
func (r *conditionReporter[K]) report(ctx context.Context, k K, change conditionChange, changed func()) {
	now := r.st.clock.Now()
	r.mu.Lock()
	same := r.reported != nil && *r.reported == k
	fresh := now.Sub(r.verified) < reverify
	r.mu.Unlock()
	if same && fresh {
		return
	}
	if !same && changed != nil {
		changed()
	}
	if err := writeNodeConditions(ctx, r.st, r.node, change); err != nil {
		if ctx.Err() == nil {
			r.log.Warn("reporting "+r.what, zap.Error(err))
		}
		return
	}
	r.mu.Lock()
	r.reported, r.verified = &k, now
	r.mu.Unlock()
}

// writeNodeConditions reads the node, lets change compute its conditions
// (nil: nothing to write) and the Events to record ("NodeReady" …, as
// kubelet's "Node X status is now: Y"), and writes them, retrying a lost
// compare-and-swap.
func writeNodeConditions(ctx context.Context, st *Status, name string, change conditionChange) error {
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
	i := conditionIndex(conds, corev1.NodeReady)
	return i >= 0 && conds[i].Status == corev1.ConditionTrue
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
