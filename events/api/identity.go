package api

import (
	"strings"

	"github.com/strom-project/strom/events"
)

// Identities on the NATS API. The last token of an API subject is the
// caller's NATS user; the server maps it to the user the event log
// records as the actor:
//
//   - "admin" and "stromd" are themselves;
//   - "node:<token>" (NodeUser) is a node agent, recorded as
//     "system:node:<name>" as Kubernetes' Node authorizer names nodes;
//     each node has a credential of its own (stromd derives it from a
//     key only it holds) and may act only for its own node;
//   - "join" is a machine that holds the cluster's join token and may only
//     ask for its node's credential (VerbJoin).
const (
	// JoinUser is the NATS user of a joining node.
	JoinUser = "join"
	// NodeUserPrefix starts a node's NATS user.
	NodeUserPrefix = "node:"
	// NodeActorPrefix starts a node's user name in the log and in
	// Kubernetes' terms (system:node:<name>).
	NodeActorPrefix = "system:node:"
	// NodesGroup is the group of every node (system:nodes).
	NodesGroup = "system:nodes"
)

// VerbJoin hands a joining node its own credential: Params["node"] names
// the node; the response's Data is a Config with the node's user and
// password (JoinResult). Only the join user may call it.
const VerbJoin = "join"

// JoinResult is VerbJoin's Data.
type JoinResult struct {
	User     string `json:"user"`
	Password string `json:"password"`
}

// NodeUser is the NATS user of node name's agent.
func NodeUser(name string) string { return NodeUserPrefix + events.EncodeToken(name) }

// NodeOfUser is the node a NATS user acts for; ok is false for users
// that are not nodes, or whose token does not decode.
func NodeOfUser(user string) (node string, ok bool) {
	tok, ok := strings.CutPrefix(user, NodeUserPrefix)
	if !ok || tok == "" {
		return "", false
	}
	name, err := events.DecodeToken(tok)
	if err != nil || name == "" {
		return "", false
	}
	return name, true
}

// InboxPrefix is the prefix of a user's reply subjects. Each user may
// subscribe under its own prefix only, so no client can read the replies
// (Secrets, logs, exec output) sent to another.
func InboxPrefix(user string) string { return "_INBOX." + user }

// StaticPodAnnotation marks a pod a node agent made from a static pod
// manifest (its value is the manifest's path): the only pods a node may
// create, and only on itself, as Kubernetes' NodeRestriction admission
// lets a kubelet create only mirror pods bound to itself.
const StaticPodAnnotation = "strom.dev/static-pod-source"
