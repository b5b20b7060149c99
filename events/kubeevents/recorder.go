package kubeevents

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"time"

	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/api"
	"github.com/strom-project/strom/events/objects"
)

// Backend stores Events.
type Backend interface {
	Get(ctx context.Context, namespace, name string) (*corev1.Event, error) // NotFound when absent
	Create(ctx context.Context, ev *corev1.Event) error
	Update(ctx context.Context, ev *corev1.Event) error // resourceVersion is a precondition
}

// Recorder records Events from one source (a controller or a node).
type Recorder struct {
	b      Backend
	source corev1.EventSource
	clock  clock.PassiveClock
	log    *zap.Logger
}

// New returns a recorder; component is e.g. "deployment-controller" or
// "kubelet", host the node name for agents.
func New(b Backend, component, host string, clk clock.PassiveClock, log *zap.Logger) *Recorder {
	if clk == nil {
		clk = clock.RealClock{}
	}
	if log == nil {
		log = zap.NewNop()
	}
	return &Recorder{b: b, source: corev1.EventSource{Component: component, Host: host}, clock: clk, log: log}
}

// Name is the Event's name for one (object, type, reason, message, source):
// the same occurrence always maps to the same Event.
func (r *Recorder) name(obj objects.Object, eventType, reason, message string) string {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00%s\x00%s", obj.GetUID(), eventType, reason, message, r.source.Component, r.source.Host)
	return fmt.Sprintf("%s.%016x", obj.GetName(), h.Sum64())
}

// Record writes an Event about obj. Failures are logged, never returned:
// Events are diagnostics and must not fail the work they describe.
func (r *Recorder) Record(ctx context.Context, obj objects.Object, eventType, reason, message string) {
	if err := r.record(ctx, obj, eventType, reason, message); err != nil {
		r.log.Warn("recording event", zap.String("object", obj.GetName()), zap.String("reason", reason), zap.Error(err))
	}
}

func (r *Recorder) record(ctx context.Context, obj objects.Object, eventType, reason, message string) error {
	k, err := objects.KindOf(obj)
	if err != nil {
		return err
	}
	ns := obj.GetNamespace()
	if ns == "" {
		ns = metav1.NamespaceDefault
	}
	name := r.name(obj, eventType, reason, message)
	now := metav1.NewTime(r.clock.Now().UTC().Truncate(time.Second))
	for attempt := 0; attempt < 3; attempt++ {
		cur, err := r.b.Get(ctx, ns, name)
		switch {
		case events.IsNotFound(err):
			ev := &corev1.Event{
				ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
				InvolvedObject: corev1.ObjectReference{
					Kind: k.Kind, APIVersion: k.APIVersion(), Namespace: obj.GetNamespace(), Name: obj.GetName(),
					UID: obj.GetUID(), ResourceVersion: obj.GetResourceVersion(),
				},
				Reason: reason, Message: message, Type: eventType, Source: r.source,
				FirstTimestamp: now, LastTimestamp: now, Count: 1,
				ReportingController: r.source.Component, ReportingInstance: r.source.Host,
			}
			err = r.b.Create(ctx, ev)
			if events.IsAlreadyExists(err) || events.IsConflict(err) {
				continue
			}
			return err
		case err != nil:
			return err
		}
		cur.Count++
		cur.LastTimestamp = now
		err = r.b.Update(ctx, cur)
		if events.IsConflict(err) {
			continue
		}
		return err
	}
	return fmt.Errorf("event %s/%s: too many conflicts", ns, name)
}

// WriterBackend stores Events with the write path directly (controllers
// inside stromd).
func WriterBackend(w *events.Writer, actor string, cause func(context.Context) string) Backend {
	return &writerBackend{w: w, actor: actor, cause: cause}
}

type writerBackend struct {
	w     *events.Writer
	actor string
	cause func(context.Context) string
}

func (b *writerBackend) opts(ctx context.Context) events.WriteOptions {
	o := events.WriteOptions{Actor: b.actor}
	if b.cause != nil {
		o.Cause = b.cause(ctx)
	}
	return o
}

func (b *writerBackend) Get(ctx context.Context, ns, name string) (*corev1.Event, error) {
	o, err := b.w.Get(ctx, objects.ByKind("Event"), ns, name)
	if err != nil {
		return nil, err
	}
	return o.(*corev1.Event), nil
}

func (b *writerBackend) Create(ctx context.Context, ev *corev1.Event) error {
	_, err := b.w.Create(ctx, ev, b.opts(ctx))
	return err
}

func (b *writerBackend) Update(ctx context.Context, ev *corev1.Event) error {
	_, err := b.w.Update(ctx, ev, b.opts(ctx))
	return err
}

// ClientBackend stores Events through the API (node agents).
func ClientBackend(c *api.Client) Backend { return &clientBackend{c: c} }

type clientBackend struct{ c *api.Client }

func (b *clientBackend) Get(ctx context.Context, ns, name string) (*corev1.Event, error) {
	resp, err := b.c.Do(ctx, api.VerbGet, &api.Request{Resource: "events", Namespace: ns, Name: name})
	if err != nil {
		return nil, err
	}
	var ev corev1.Event
	if err := json.Unmarshal(resp.Object, &ev); err != nil {
		return nil, err
	}
	return &ev, nil
}

func (b *clientBackend) write(ctx context.Context, verb string, ev *corev1.Event) error {
	ev.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "Event"}
	data, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	_, err = b.c.Do(ctx, verb, &api.Request{Object: data, Namespace: ev.Namespace})
	return err
}

func (b *clientBackend) Create(ctx context.Context, ev *corev1.Event) error {
	return b.write(ctx, api.VerbCreate, ev)
}

func (b *clientBackend) Update(ctx context.Context, ev *corev1.Event) error {
	return b.write(ctx, api.VerbUpdate, ev)
}
