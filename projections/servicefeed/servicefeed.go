// Package servicefeed tells every node about changes to Services and
// Endpoints, which each node's service proxy and DNS need in full.
//
// Every services and endpoints event is published, with the object's
// JSON, on the core NATS subject api.ServiceFeedSubject ("strom.node.all.services": under
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
	"github.com/strom-project/strom/events/api"
	"github.com/strom-project/strom/projections"
)

// Run publishes the feed from the store until ctx ends.
func Run(ctx context.Context, st *projections.Store, nc *nats.Conn, log *zap.Logger) {
	var wg sync.WaitGroup
	for _, res := range api.ServiceFeedResources {
		wg.Add(1)
		go func() {
			defer wg.Done()
			run(ctx, st, nc, log, res)
		}()
	}
	wg.Wait()
}

func run(ctx context.Context, st *projections.Store, nc *nats.Conn, log *zap.Logger, resource string) {
	for ctx.Err() == nil {
		w, _ := st.Watch(ctx, projections.Query{Resource: resource})
		for we := range w.C {
			data, err := json.Marshal(Encode(we))
			if err != nil {
				continue
			}
			if err := nc.Publish(api.ServiceFeedSubject, data); err != nil {
				log.Warn("publishing service feed", zap.String("resource", resource), zap.Error(err))
			}
		}
		if ctx.Err() == nil {
			log.Warn("service feed watch closed; re-watching (agents resync periodically)", zap.Error(w.Err()))
		}
	}
}

// Encode turns one watch event into a feed message.
func Encode(we projections.WatchEvent) *api.ServiceFeedMessage {
	ev := we.Event
	m := &api.ServiceFeedMessage{Type: ev.Type, Seq: ev.Seq, Resource: ev.Resource, Namespace: ev.Namespace, Name: ev.Name}
	if we.Entry != nil && ev.Type != events.TypeDeleted {
		m.Object = we.Entry.JSON()
	}
	return m
}
