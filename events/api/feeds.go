package api

import (
	"encoding/json"

	"github.com/strom-project/strom/events"
)

// The feeds stromd publishes to the node agents (projections/nodefeed and
// projections/servicefeed). They are low-latency hints, not the source of
// truth: agents also list their pods and the services periodically, so a
// missed message is corrected at the next resync.

// PodFeedSubject is the pod feed subject of one node: every event of a pod
// bound to the node, so an agent hears only about its own pods.
func PodFeedSubject(node string) string { return "strom.node." + events.EncodeToken(node) + ".pods" }

// PodFeedMessage is one pod feed entry.
type PodFeedMessage struct {
	Type events.Type     `json:"type"`
	Seq  uint64          `json:"seq"`
	UID  string          `json:"uid"`
	Pod  json.RawMessage `json:"pod,omitempty"` // absent for deletions
	// Namespace and Name identify deleted pods.
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

// ServiceFeedSubject is the cluster-wide Service and Endpoints feed
// subject: under strom.node.> so that agents, which may subscribe only
// there, hear it; node feeds end in ".pods", so no node's pod feed
// collides with it.
const ServiceFeedSubject = "strom.node.all.services"

// ServiceFeedResources are the resources the service feed carries.
var ServiceFeedResources = []string{"services", "endpoints"}

// ServiceFeedMessage is one service feed entry.
type ServiceFeedMessage struct {
	Type      events.Type     `json:"type"`
	Seq       uint64          `json:"seq"`
	Resource  string          `json:"resource"` // "services" or "endpoints"
	Namespace string          `json:"namespace"`
	Name      string          `json:"name"`
	Object    json.RawMessage `json:"object,omitempty"` // absent for deletions
}
