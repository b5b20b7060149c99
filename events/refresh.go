package events

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"

	"github.com/strom-project/strom/events/objects"
)

// Refresh appends obj, the state a projection holds at resourceVersion
// seq, again as a Refreshed event. If the log's last event of the object
// is still seq, the copy is appended after it; if retention has already
// dropped every event of the object, the copy restores it (the subject is
// empty). If the object changed since seq, that write refreshed it
// already: Refresh reports Unchanged, as it does when a concurrent write
// wins the race.
func (w *Writer) Refresh(ctx context.Context, obj objects.Object, seq uint64, o WriteOptions) (*Result, error) {
	if o.Actor == "" {
		return nil, Errorf(ReasonBadRequest, "write without an actor")
	}
	k, err := objects.KindOf(obj)
	if err != nil {
		return nil, Errorf(ReasonBadRequest, "%v", err)
	}
	cur, err := w.read(ctx, k, obj.GetNamespace(), obj.GetName())
	if err != nil {
		return nil, err
	}
	switch {
	case cur.seq == seq && cur.exists():
	case cur.seq == 0:
		cur = &current{obj: obj} // every event dropped: restore
	default:
		return &Result{Outcome: Unchanged, Object: cur.obj, Seq: cur.seq}, nil
	}
	res, err := w.appendIgnorable(ctx, k, cur, o)
	if IsConflict(err) {
		return &Result{Outcome: Unchanged, Object: cur.obj, Seq: cur.seq}, nil
	}
	return res, err
}

// appendIgnorable publishes cur's object again as a Refreshed event,
// expecting the subject's last sequence to still be cur's.
func (w *Writer) appendIgnorable(ctx context.Context, k *objects.Kind, cur *current, o WriteOptions) (*Result, error) {
	obj := cur.obj
	data, err := marshalStored(obj)
	if err != nil {
		return nil, err
	}
	ev := &Event{
		ID: nuid.Next(), Type: TypeRefreshed, Resource: k.Resource,
		Namespace: obj.GetNamespace(), Name: obj.GetName(), UID: string(obj.GetUID()),
		Actor: o.Actor, Cause: o.Cause, Time: w.clock.Now().UTC(), Object: data, Ignorable: true,
	}
	indexFields(ev, obj)
	if o.DryRun {
		return &Result{Outcome: Unchanged, Object: obj, Seq: cur.seq}, nil
	}
	msg, err := EncodeMsg(ev, w.sealer)
	if err != nil {
		return nil, err
	}
	ack, err := w.js.PublishMsg(ctx, msg, jetstream.WithExpectLastSequencePerSubject(cur.seq))
	if err != nil {
		var apiErr *jetstream.APIError
		if errors.As(err, &apiErr) && (apiErr.ErrorCode == errCodeWrongLastSequence || apiErr.ErrorCode == errCodeExpectedSequenceInFlight) {
			return nil, &Error{Reason: ReasonConflict, Message: fmt.Sprintf("refreshing %s %q: modified meanwhile", k.Resource, obj.GetName()), Err: err}
		}
		return nil, fmt.Errorf("appending Refreshed event for %s %s: %w", k.Resource, ev.Key(), err)
	}
	if err := w.makeDurable(ctx, ack.Sequence); err != nil {
		return nil, err
	}
	obj.SetResourceVersion(ResourceVersion(ack.Sequence))
	return &Result{Outcome: Configured, Object: obj, Seq: ack.Sequence, EventID: ev.ID}, nil
}
