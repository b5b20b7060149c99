// Package nodefeed tells each node about changes to the pods bound to it.
//
// Every pod event with a node name is published, with the pod's JSON, on
// the core NATS subject strom.node.<node>.pods, so an agent hears only
// about its own pods: a thousand nodes do not each read every pod event.
// The feed is a low-latency hint, not the source of truth: agents also
// list their pods periodically (level-based), so a missed message is
// corrected at the next resync.
package nodefeed

import (
	"context"
	"encoding/json"

	"github.com/nats-io/nats.go"
	"go.uber.org/zap"

	"github.com/strom-project/strom/events/api"
	"github.com/strom-project/strom/projections"
)

// Run publishes the feed from the store until ctx ends.
func Run(ctx context.Context, st *projections.Store, nc *nats.Conn, log *zap.Logger) {
	for ctx.Err() == nil {
		w, _ := st.Watch(ctx, projections.Query{Resource: "pods"})
		for we := range w.C {
			ev := we.Event
			if ev.NodeName == "" {
				continue
			}
			m := api.PodFeedMessage{Type: ev.Type, Seq: ev.Seq, UID: ev.UID, Namespace: ev.Namespace, Name: ev.Name}
			if we.Entry != nil {
				m.Pod = we.Entry.JSON()
			}
			data, err := json.Marshal(&m)
			if err != nil {
				continue
			}
			if err := nc.Publish(api.PodFeedSubject(ev.NodeName), data); err != nil {
				log.Warn("publishing node feed", zap.String("node", ev.NodeName), zap.Error(err))
			}
		}
		if ctx.Err() == nil {
			log.Warn("node feed watch closed; re-watching (agents resync periodically)", zap.Error(w.Err()))
		}
	}
}
