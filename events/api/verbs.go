package api

import (
	"encoding/json"
	"time"

	"github.com/strom-project/strom/events"
)

// More verbs: eviction and the time-travel verbs, which a replay server
// answers the same way as a live one.
const (
	// VerbEvict evicts a pod (Namespace, Name) the way `kubectl drain`
	// does: a graceful deletion that PodDisruptionBudgets may refuse. A
	// refusal has reason TooManyRequests (HTTP 429 in Kubernetes); the
	// caller retries.
	VerbEvict = "evict"
	// VerbLog reads the raw event log a page at a time. Params: from, to
	// (SEQ, RFC 3339 time or -DURATION; from is inclusive, a time means
	// the first event after it), kind, namespace, actor, limit (default
	// 1000, at most 10000), objects ("true": include each event's object,
	// Secrets redacted), wait (seconds: when nothing is there yet, wait up
	// to this long for new events; how --follow is served). Data: LogPage.
	VerbLog = "log"
	// VerbDiff compares two points of history. Params: from (required),
	// to (default: now), showMetadata ("true"). Resource, Namespace and
	// Name narrow it. Data: DiffResult.
	VerbDiff = "diff"
	// VerbTrace answers "what did this cause" and "why did this happen"
	// for one object. Params: why ("true"), seq (the event to explain),
	// maxNodes. Data: TraceResult.
	VerbTrace = "trace"
	// VerbResolve turns Params["at"] into a sequence. Data: ResolveResult.
	VerbResolve = "resolve"
	// VerbCheck validates the log. Data: CheckReport; problems are data,
	// not an error, so the client prints them all.
	VerbCheck = "check"
	// VerbKubeconfig answers the admin's kubeconfig for the Kubernetes
	// HTTPS API (admin only). Data: KubeconfigResult.
	VerbKubeconfig = "kubeconfig"
)

// AdminUser is the admin's user name (admin.conf, the kubeconfig).
const AdminUser = "admin"

// KubeconfigResult is the kubeconfig verb's Data.
type KubeconfigResult struct {
	Kubeconfig string `json:"kubeconfig"`
}

// ReasonTooManyRequests is events.ReasonTooManyRequests.
const ReasonTooManyRequests = events.ReasonTooManyRequests

// LogEntry is one event as `strom log` shows it.
type LogEntry struct {
	Seq       uint64          `json:"seq"`
	Stamp     time.Time       `json:"stamp"` // stream time
	Time      time.Time       `json:"time"`  // writer time
	ID        string          `json:"id"`
	Type      events.Type     `json:"type"`
	Resource  string          `json:"resource"`
	Namespace string          `json:"namespace,omitempty"`
	Name      string          `json:"name"`
	UID       string          `json:"uid,omitempty"`
	Actor     string          `json:"actor"`
	Cause     string          `json:"cause,omitempty"`
	Object    json.RawMessage `json:"object,omitempty"`
}

// LogPage is the log verb's Data.
type LogPage struct {
	Events []LogEntry `json:"events"`
	// Next is where the following page starts; Last the history's last
	// sequence when the page was read; End is set once To is reached.
	Next uint64 `json:"next"`
	Last uint64 `json:"last"`
	End  bool   `json:"end,omitempty"`
}

// DiffResult is the diff verb's Data.
type DiffResult struct {
	From    uint64       `json:"from"`
	To      uint64       `json:"to"`
	Objects []ObjectDiff `json:"objects"`
}

// ResolveResult is the resolve verb's Data.
type ResolveResult struct {
	Seq uint64 `json:"seq"`
}

// StreamExtra is the stream verb's Data: what StreamInfo does not carry.
type StreamExtra struct {
	// Replayable is the oldest sequence --at can rebuild; ReplayableOK
	// false means none can. The time is set when every retained event is
	// replayable (the first one's time).
	Replayable     uint64    `json:"replayable"`
	ReplayableOK   bool      `json:"replayableOK"`
	ReplayableTime time.Time `json:"replayableTime,omitempty"`
	// Source is "live" or "file:<path>" for a replay server.
	Source string `json:"source"`
}
