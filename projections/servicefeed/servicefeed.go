// Package servicefeed tells every node about changes to Services and
// Endpoints, which each node's service proxy and DNS need in full.
//
// Every services and endpoints event is published, with the object's
// JSON, on the core NATS subject Subject ("strom.node.all.services": under
// strom.node.> so that agents, which may subscribe only there, hear it;
// node feeds end in ".pods", so no node's pod feed collides with it). Like
// nodefeed it is a low-latency hint: agents also list Services and
// Endpoints periodically, so a missed message is corrected at the next
// resync.
package servicefeed

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/nats-io/nats.go"
	"go.uber.org/zap"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/projections"
)

// Subject is the cluster-wide service feed subject.
const Subject = "strom.node.all.services"

// Resources are the resources the feed carries.
var Resources = []string{"services", "endpoints"}

// Message is one feed entry.
type Message struct {
	Type      events.Type     `json:"type"`
	Seq       uint64          `json:"seq"`
	Resource  string          `json:"resource"` // "services" or "endpoints"
	Namespace string          `json:"namespace"`
	Name      string          `json:"name"`
	Object    json.RawMessage `json:"object,omitempty"` // absent for deletions
}

// Run publishes the feed from the store until ctx ends.
func Run(ctx context.Context, st *projections.Store, nc *nats.Conn, log *zap.Logger, render func(*projections.Entry) json.RawMessage) {
	var wg sync.WaitGroup
	for _, res := range Resources {
		wg.Add(1)
		go func() {
			defer wg.Done()
			run(ctx, st, nc, log, render, res)
		}()
	}
	wg.Wait()
}

func run(ctx context.Context, st *projections.Store, nc *nats.Conn, log *zap.Logger, render func(*projections.Entry) json.RawMessage, resource string) {
	for ctx.Err() == nil {
		w, _ := st.Watch(ctx, projections.Query{Resource: resource})
		for we := range w.C {
			data, err := json.Marshal(Encode(we, render))
			if err != nil {
				continue
			}
			if err := nc.Publish(Subject, data); err != nil {
				log.Warn("publishing service feed", zap.String("resource", resource), zap.Error(err))
			}
		}
		if ctx.Err() == nil {
			log.Warn("service feed watch closed; re-watching (agents resync periodically)", zap.Error(w.Err()))
		}
	}
}

// Encode turns one watch event into a feed message.
func Encode(we projections.WatchEvent, render func(*projections.Entry) json.RawMessage) *Message {
	ev := we.Event
	m := &Message{Type: ev.Type, Seq: ev.Seq, Resource: ev.Resource, Namespace: ev.Namespace, Name: ev.Name}
	if we.Entry != nil && ev.Type != events.TypeDeleted {
		m.Object = render(we.Entry)
	}
	return m
}
