package app

import (
	"fmt"
	"net/url"

	"github.com/nats-io/nats.go"
)

// replicasFor decides how many copies of the log JetStream keeps. set is
// the --replicas flag (0: not given). On a NATS cluster of n servers the
// default is n, at most 3 (JetStream's usual and its most useful size: a
// majority survives one loss); a single server keeps 1. warning, if not
// "", says that a clustered log has fewer than 3 copies and what that
// costs.
func replicasFor(set int, clustered bool, servers int) (replicas int, warning string) {
	replicas = set
	if replicas == 0 {
		replicas = 1
		if clustered {
			replicas = min(max(servers, 1), 3)
		}
	}
	if clustered && replicas < 3 {
		warning = fmt.Sprintf("the event log keeps %d replica(s) on a NATS cluster of %d server(s): losing one server can lose acknowledged writes; run 3 servers and --replicas 3", replicas, servers)
	}
	return replicas, warning
}

// clusterOf reports whether nc's server is part of a NATS cluster and how
// many servers the cluster announces (the servers nc knows of: those it
// was given and those the cluster told it about, by host and port).
func clusterOf(nc *nats.Conn) (clustered bool, servers int) {
	if nc.ConnectedClusterName() == "" {
		return false, 1
	}
	seen := map[string]bool{}
	for _, s := range nc.Servers() {
		if u, err := url.Parse(s); err == nil {
			seen[u.Host] = true
		}
	}
	return true, max(len(seen), 1)
}
