package events

import (
	"fmt"
	"strings"
	"time"
)

// Type is what happened to an object. Types are append-only: never rename
// or remove one, because old logs must replay after an upgrade.
type Type string

const (
	// TypeCreated: the object did not exist (or had been deleted) and now does.
	TypeCreated Type = "Created"
	// TypeUpdated: its spec or metadata changed.
	TypeUpdated Type = "Updated"
	// TypeStatusUpdated: only its status changed.
	TypeStatusUpdated Type = "StatusUpdated"
	// TypeDeleted: it is gone; the payload is its last state.
	TypeDeleted Type = "Deleted"
	// Add new types below this line, never above; see knownTypes.

	// TypeRefreshed re-asserts an object's unchanged state. Retention (the
	// stream's MaxAge and MaxBytes) drops the oldest events, and with them the
	// only event of a long-lived object; the write path reads an object's
	// current state from its last event, so without that event the object
	// would look absent (a namespace "not found", a re-apply creating a second
	// object). A refresher appends a Refreshed copy before that happens (see
	// projections.Projection.RefreshOld). Projections apply it like Updated;
	// it is marked ignorable, so a build that predates it skips it.
	TypeRefreshed Type = "Refreshed"
)

// knownTypes is every type this build can apply. An event of another type
// fails to decode unless it is marked ignorable (HeaderIgnorable), so a
// newer writer can add informational events an older reader may skip.
var knownTypes = map[Type]bool{
	TypeCreated: true, TypeUpdated: true, TypeStatusUpdated: true, TypeDeleted: true,
	TypeRefreshed: true,
}

// Event is one entry of the log: an envelope around the object's full
// state after the change (event-carried state).
type Event struct {
	// Set by the stream when read back; zero on events being written.
	Seq   uint64    // stream sequence: the object's resourceVersion
	Stamp time.Time // the stream's receive time

	ID        string // unique event id, also the JetStream Nats-Msg-Id
	Type      Type
	Resource  string // "pods"; with Namespace and Name it names the subject
	Namespace string // "" for cluster-scoped objects
	Name      string
	UID       string
	Actor     string    // who asked: a user, a controller, a node
	Cause     string    // the event or request id that led to this one
	Time      time.Time // the writer's clock

	// Index fields, copied from the object so that projections can fold
	// and filter without decoding payloads.
	Labels   map[string]string
	NodeName string   // pods: spec.nodeName
	Owners   []string // ownerReferences' uids

	// Object is the object's JSON, in plain text once decoded.
	Object []byte

	// Ignorable marks an event of a type that older readers may skip.
	Ignorable bool
}

// Subject is the event's object subject.
func (e *Event) Subject() string { return Subject(e.Resource, e.Namespace, e.Name) }

// Key identifies the object within its resource: "ns/name" or "name".
func (e *Event) Key() string { return ObjectKey(e.Namespace, e.Name) }

// ObjectKey is "ns/name", or "name" for cluster-scoped objects.
func ObjectKey(namespace, name string) string {
	if namespace == "" {
		return name
	}
	return namespace + "/" + name
}

// SplitObjectKey is the inverse of ObjectKey: "ns/name" gives ("ns",
// "name"), "name" gives ("", "name").
func SplitObjectKey(key string) (namespace, name string) {
	if ns, n, ok := strings.Cut(key, "/"); ok {
		return ns, n
	}
	return "", key
}

func (e *Event) String() string {
	return fmt.Sprintf("#%d %s %s/%s by %s", e.Seq, e.Type, e.Resource, e.Key(), e.Actor)
}
