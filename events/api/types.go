// Package api is the wire contract of Strom's NATS API and its client:
// the request and response types, the verbs, the node API's and the
// feeds' messages. It imports nothing above events and events/objects, so
// the CLI and the node agent link it without the server (cmd/stromd/server),
// the projections or the container runtime.
//
// Clients talk to stromd with NATS request/reply, one service endpoint per
// verb, on subjects strom.api.<verb>.<user>. The last subject token is the
// caller's user name. NATS permissions let each user publish only on its
// own token, so the server learns who asks from the subject, and a client
// cannot write as someone else.
package api

import (
	"encoding/json"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/strom-project/strom/events"
)

// SubjectPrefix starts every API subject.
const SubjectPrefix = "strom.api"

// Verbs served by stromd.
const (
	VerbApply   = "apply"
	VerbCreate  = "create"
	VerbUpdate  = "update"
	VerbStatus  = "status"
	VerbDelete  = "delete"
	VerbGet     = "get"
	VerbList    = "list"
	VerbHistory = "history"
	VerbStream  = "stream"
	VerbInfo    = "info"
)

// Subject is the subject a user sends a verb's requests to.
func Subject(verb, user string) string { return SubjectPrefix + "." + verb + "." + user }

// Request is every verb's request; each verb reads the fields it needs.
type Request struct {
	Resource      string          `json:"resource,omitempty"` // as typed: "deploy", "pods", "Deployment"
	Namespace     string          `json:"namespace,omitempty"`
	Name          string          `json:"name,omitempty"`
	AllNamespaces bool            `json:"allNamespaces,omitempty"`
	LabelSelector string          `json:"labelSelector,omitempty"`
	FieldSelector string          `json:"fieldSelector,omitempty"`
	Limit         int             `json:"limit,omitempty"`
	Continue      string          `json:"continue,omitempty"`
	Object        json.RawMessage `json:"object,omitempty"`
	// ResourceVersion is a precondition for delete.
	ResourceVersion string `json:"resourceVersion,omitempty"`
	DryRun          bool   `json:"dryRun,omitempty"`
	// At reads history: a sequence, an RFC 3339 time, or -DURATION.
	At string `json:"at,omitempty"`
	// MinSeq makes a read wait until the view has applied this sequence:
	// clients pass their last write's sequence to read their own writes.
	MinSeq uint64 `json:"minSeq,omitempty"`
	Cause  string `json:"cause,omitempty"`
	// WithObjects asks history for each event's object too.
	WithObjects bool `json:"withObjects,omitempty"`
	// Params carries verb-specific parameters (documented with the verb).
	Params map[string]string `json:"params,omitempty"`
}

// Response is every verb's response.
type Response struct {
	Error    *WireError        `json:"error,omitempty"`
	Outcome  string            `json:"outcome,omitempty"`
	Kind     string            `json:"kind,omitempty"` // the resolved kind, e.g. "Deployment"
	Object   json.RawMessage   `json:"object,omitempty"`
	Items    []json.RawMessage `json:"items,omitempty"`
	Continue string            `json:"continue,omitempty"`
	Seq      uint64            `json:"seq,omitempty"`
	Warnings []string          `json:"warnings,omitempty"`
	History  []HistoryEntry    `json:"history,omitempty"`
	Stream   *StreamInfo       `json:"stream,omitempty"`
	Info     *ClusterInfo      `json:"info,omitempty"`
	// Data carries a verb-specific payload (documented with the verb).
	Data json.RawMessage `json:"data,omitempty"`
}

// WireError carries a classified error.
type WireError struct {
	Reason  events.Reason `json:"reason"`
	Message string        `json:"message"`
	// Details is the metav1.StatusDetails kube-apiserver would send
	// (the object, and for Invalid each field at fault).
	Details *metav1.StatusDetails `json:"details,omitempty"`
}

// Err turns a wire error back into a classified error.
func (w *WireError) Err() error {
	if w == nil {
		return nil
	}
	return &events.Error{Reason: w.Reason, Message: w.Message, Details: w.Details}
}

// HistoryEntry is one event of an object's history.
type HistoryEntry struct {
	Seq        uint64          `json:"seq"`
	Time       time.Time       `json:"time"`
	Type       events.Type     `json:"type"`
	ID         string          `json:"id"`
	UID        string          `json:"uid,omitempty"`
	Actor      string          `json:"actor"`
	Cause      string          `json:"cause,omitempty"`
	Generation int64           `json:"generation,omitempty"`
	Object     json.RawMessage `json:"object,omitempty"`
}

// StreamInfo describes the log for `strom stream info`.
type StreamInfo struct {
	Name      string         `json:"name"`
	Subjects  []string       `json:"subjects"`
	Messages  uint64         `json:"messages"`
	Bytes     uint64         `json:"bytes"`
	FirstSeq  uint64         `json:"firstSeq"`
	FirstTime time.Time      `json:"firstTime"`
	LastSeq   uint64         `json:"lastSeq"`
	LastTime  time.Time      `json:"lastTime"`
	Objects   uint64         `json:"objectSubjects"`
	Replicas  int            `json:"replicas"`
	Storage   string         `json:"storage"`
	MaxAge    string         `json:"maxAge"`
	MaxBytes  int64          `json:"maxBytes"`
	Kinds     map[string]int `json:"kinds"` // live objects per kind
	Consumers []ConsumerInfo `json:"consumers"`
	Snapshots []uint64       `json:"snapshots"`
	ViewSeq   uint64         `json:"viewSeq"` // what stromd's projection has applied
}

// ConsumerInfo is one consumer of the log with its lag.
type ConsumerInfo struct {
	Name       string    `json:"name"`
	Filter     []string  `json:"filter,omitempty"`
	Delivered  uint64    `json:"delivered"`  // last stream sequence delivered
	Pending    uint64    `json:"pending"`    // events not yet delivered
	LagSeconds float64   `json:"lagSeconds"` // age of the oldest undelivered event
	LastActive time.Time `json:"lastActive"` // last delivery
}

// ClusterInfo is what `strom cluster-info` prints.
type ClusterInfo struct {
	Version     string `json:"version"`
	NATS        string `json:"nats"`
	DNS         string `json:"dns,omitempty"`
	ViewSeq     uint64 `json:"viewSeq"`
	ServiceCIDR string `json:"serviceCIDR,omitempty"`
	// KubeAPI is the Kubernetes HTTPS API's URL, "" when not served.
	KubeAPI string `json:"kubeAPI,omitempty"`
}
