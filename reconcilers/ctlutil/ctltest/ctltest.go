// Package ctltest builds what controller unit tests need: a real event
// log (an in-process JetStream), a Store that follows it, a settable
// clock, and helpers to write objects and read the log back, so a
// reconciler's decisions are tested on real Store states without the
// manager or other controllers running.
package ctltest

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/objects"
	"github.com/strom-project/strom/projections"
	"github.com/strom-project/strom/reconcilers/manager"
	"github.com/strom-project/strom/test/logtest"
)

// Env is a log, its Store and a fake clock.
type Env struct {
	manager.Env
	T     *testing.T
	Log   *logtest.Log
	Clock *clocktesting.FakeClock
}

// Start starts a log with the default namespace and a Store following it.
func Start(t *testing.T) *Env {
	t.Helper()
	clock := clocktesting.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	l := logtest.StartLog(t, clock)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	p, err := projections.New(ctx, projections.Config{JetStream: l.JS, Sealer: l.Sealer})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	e := &Env{T: t, Log: l, Clock: clock,
		Env: manager.Env{Store: p.Store(), Writer: l.Writer, Clock: clock, Logger: zaptest.NewLogger(t)}}
	e.Create(`{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"default"}}`)
	return e
}

// Create writes a JSON manifest with Create and waits until the Store has
// it; it returns the stored object.
func (e *Env) Create(manifest string) objects.Object {
	e.T.Helper()
	obj, _, err := objects.DecodeJSON([]byte(manifest))
	if err != nil {
		e.T.Fatal(err)
	}
	return e.Write(obj, "create")
}

// Write creates, updates or status-updates obj ("create", "update",
// "status") and waits until the Store has it.
func (e *Env) Write(obj objects.Object, how string) objects.Object {
	e.T.Helper()
	ctx := context.Background()
	o := events.WriteOptions{Actor: "test"}
	var res *events.Result
	var err error
	switch how {
	case "create":
		res, err = e.Writer.Create(ctx, obj, o)
	case "update":
		res, err = e.Writer.Update(ctx, obj, o)
	case "status":
		res, err = e.Writer.UpdateStatus(ctx, obj, o)
	default:
		e.T.Fatalf("unknown write %q", how)
	}
	if err != nil {
		e.T.Fatalf("%s %s: %v", how, obj.GetName(), err)
	}
	e.Sync()
	return res.Object
}

// Sync waits until the Store has applied everything in the log.
func (e *Env) Sync() {
	e.T.Helper()
	if err := e.Store.WaitFor(context.Background(), e.Log.LastSeq(e.T)); err != nil {
		e.T.Fatal(err)
	}
}

// Get decodes the Store's version of an object into out; false if absent.
func (e *Env) Get(resource, ns, name string, out any) bool {
	e.T.Helper()
	en, ok := e.Store.Get(resource, ns, name)
	if !ok {
		return false
	}
	obj, err := en.Object()
	if err != nil {
		e.T.Fatal(err)
	}
	data, _ := json.Marshal(obj)
	// Start from zero: Unmarshal keeps fields the JSON leaves out.
	v := reflect.ValueOf(out).Elem()
	v.Set(reflect.Zero(v.Type()))
	if err := json.Unmarshal(data, out); err != nil {
		e.T.Fatal(err)
	}
	return true
}

// Count returns how many objects of resource the Store holds in ns.
func (e *Env) Count(resource, ns string) int {
	items, _ := e.Store.List(projections.Query{Resource: resource, Namespace: ns})
	return len(items)
}

// RunKV runs a reconciler's KV inputs as the manager would, without its
// workers: each change's reconcile keys are sent on the returned channel
// (buffered; keys are dropped once it is full, so a test that does not
// read it never blocks the watch). RunKV returns once every input has
// delivered its bucket's contents; the watches stop with the test.
func (e *Env) RunKV(r manager.KVInputs) <-chan string {
	e.T.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	e.T.Cleanup(cancel)
	keys := make(chan string, 1024)
	enqueue := func(ks []string) {
		for _, k := range ks {
			select {
			case keys <- k:
			default:
			}
		}
	}
	for _, kv := range r.KVInputs() {
		synced := make(chan struct{})
		go kv.Run(ctx, e.Env, enqueue, func() { close(synced) })
		select {
		case <-synced:
		case <-time.After(10 * time.Second):
			e.T.Fatalf("KV input %s: not synced after 10 s", kv.Bucket())
		}
	}
	return keys
}

// Events returns the log's events after sequence after, decoded, in
// order (what a test checks the story of its writes against).
func (e *Env) Events(after uint64) []*events.Event {
	e.T.Helper()
	st, err := e.Log.JS.Stream(context.Background(), events.StreamName)
	if err != nil {
		e.T.Fatal(err)
	}
	var out []*events.Event
	for seq := after + 1; seq <= e.Log.LastSeq(e.T); seq++ {
		m, err := st.GetMsg(context.Background(), seq)
		if err != nil {
			continue // a message removed (retention) or a gap
		}
		ev, err := events.DecodeMsg(m.Subject, m.Header, m.Data, m.Sequence, m.Time, e.Log.Sealer)
		if err != nil {
			e.T.Fatal(err)
		}
		out = append(out, ev)
	}
	return out
}
