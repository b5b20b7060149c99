package ctlutil

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/kubeevents"
	"github.com/strom-project/strom/events/objects"
	"github.com/strom-project/strom/projections"
	"github.com/strom-project/strom/reconcilers/manager"
)

// Opts are the write options of a controller write: its actor and the
// cause the manager recorded for the key being reconciled.
func Opts(ctx context.Context, actor string) events.WriteOptions {
	return events.WriteOptions{Actor: actor, Cause: manager.Cause(ctx)}
}

// Recorder records Events in the background: a full queue drops the
// Event (Events are diagnostics) instead of slowing the controller.
type Recorder struct {
	rec     *kubeevents.Recorder
	q       chan recordReq
	dropped atomic.Int64
}

type recordReq struct {
	ctx              context.Context
	obj              objects.Object
	typ, reason, msg string
}

// NewRecorder returns a recorder writing as actor for component, with
// workers goroutines started on first use of Record.
func NewRecorder(env manager.Env, actor, component string) *Recorder {
	r := &Recorder{
		rec: kubeevents.New(kubeevents.WriterBackend(env.Writer, actor, manager.Cause), component, "", env.Clock, env.Logger),
		q:   make(chan recordReq, 4096),
	}
	for i := 0; i < 2; i++ {
		go r.loop()
	}
	return r
}

func (r *Recorder) loop() {
	for q := range r.q {
		if q.ctx.Err() == nil {
			r.rec.Record(q.ctx, q.obj, q.typ, q.reason, q.msg)
		}
	}
}

// Record queues an Event about obj. The cause of ctx is kept.
func (r *Recorder) Record(ctx context.Context, obj objects.Object, typ, reason, msg string) {
	select {
	case r.q <- recordReq{ctx: context.WithoutCancel(ctx), obj: obj, typ: typ, reason: reason, msg: msg}:
	default:
		r.dropped.Add(1)
	}
}

// Eventf formats the message.
func (r *Recorder) Eventf(ctx context.Context, obj objects.Object, typ, reason, format string, args ...any) {
	r.Record(ctx, obj, typ, reason, fmt.Sprintf(format, args...))
}

// Sync records an Event synchronously (tests and rare events).
func (r *Recorder) Sync(ctx context.Context, obj objects.Object, typ, reason, msg string) {
	r.rec.Record(ctx, obj, typ, reason, msg)
}

// Dropped counts Events dropped because the queue was full.
func (r *Recorder) Dropped() int64 { return r.dropped.Load() }

// Get reads one object of resource from the store, decoded.
func Get[T any](st *projections.Store, resource, ns, name string) (*T, bool, error) {
	e, ok := st.Get(resource, ns, name)
	if !ok {
		return nil, false, nil
	}
	obj, err := e.Object()
	if err != nil {
		return nil, false, fmt.Errorf("decoding %s %s: %w", resource, e.Key(), err)
	}
	t, ok := any(obj).(*T)
	if !ok {
		return nil, false, fmt.Errorf("%s %s: unexpected type %T", resource, e.Key(), obj)
	}
	return t, true, nil
}

// List decodes the entries a query selects.
func List[T any](st *projections.Store, q projections.Query) ([]*T, error) {
	items, _ := st.List(q)
	out := make([]*T, 0, len(items))
	for _, e := range items {
		obj, err := e.Object()
		if err != nil {
			return nil, fmt.Errorf("decoding %s %s: %w", q.Resource, e.Key(), err)
		}
		t, ok := any(obj).(*T)
		if !ok {
			return nil, fmt.Errorf("%s %s: unexpected type %T", q.Resource, e.Key(), obj)
		}
		out = append(out, t)
	}
	return out, nil
}

// Keys returns the keys of every entry of resource.
func Keys(st *projections.Store, resource string) []string {
	items, _ := st.List(projections.Query{Resource: resource})
	keys := make([]string, len(items))
	for i, e := range items {
		keys[i] = e.Key()
	}
	return keys
}

// DecodePod decodes the pod an event carries.
func DecodePod(ev *events.Event) (*corev1.Pod, error) {
	var p corev1.Pod
	if err := json.Unmarshal(ev.Object, &p); err != nil {
		return nil, fmt.Errorf("decoding pod %s: %w", ev.Key(), err)
	}
	return &p, nil
}

// DecodeMeta decodes only an event's object metadata: a watch's key
// function sees every event of its resource, and the metadata (owners,
// labels, namespace) is all most need, at a fraction of a full decode.
func DecodeMeta(ev *events.Event) (*metav1.ObjectMeta, error) {
	var o struct {
		Metadata metav1.ObjectMeta `json:"metadata"`
	}
	if err := json.Unmarshal(ev.Object, &o); err != nil {
		return nil, fmt.Errorf("decoding the metadata of %s: %w", ev.Key(), err)
	}
	return &o.Metadata, nil
}

// Seqs collects the sequences of writes so a shell can wait for them all.
type Seqs struct{ max uint64 }

// Add notes a write's result.
func (s *Seqs) Add(res *events.Result) {
	if res != nil && res.Seq > s.max {
		s.max = res.Seq
	}
}

// WaitTimeout bounds how long a controller waits for the Store to apply
// its own writes. The projection applies them within milliseconds; the
// bound matters when stromd stops, where the projection stops following
// before the controllers finish draining (a reconcile would otherwise
// wait for the manager's drain timeout).
const WaitTimeout = 5 * time.Second

// Wait blocks until the store has applied every noted write, at most
// WaitTimeout; a timeout is an error (the key is retried).
func (s *Seqs) Wait(ctx context.Context, st *projections.Store) error {
	return WaitFor(ctx, st, s.max)
}

// WaitFor is Store.WaitFor bounded by WaitTimeout.
func WaitFor(ctx context.Context, st *projections.Store, seq uint64) error {
	if seq == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, WaitTimeout)
	defer cancel()
	return st.WaitFor(ctx, seq)
}

// Log returns env's logger named for a controller.
func Log(env manager.Env, name string) *zap.Logger {
	if env.Logger == nil {
		return zap.NewNop()
	}
	return env.Logger.Named(name)
}

// ControllerKeys is a watch's key function mapping an object's event to
// its controller of the given apiVersion and kind, decoding only the
// object's metadata.
func ControllerKeys(apiVersion, kind string) func(ev *events.Event) []string {
	return func(ev *events.Event) []string {
		meta, err := DecodeMeta(ev)
		if err != nil {
			return nil
		}
		if ref := metav1.GetControllerOfNoCopy(meta); ref != nil && ref.Kind == kind && ref.APIVersion == apiVersion {
			return []string{events.ObjectKey(meta.Namespace, ref.Name)}
		}
		return nil
	}
}
