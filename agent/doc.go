// Package agent is the node agent's shell: it registers the Node, keeps
// its heartbeat lease, listens to the node's pod feed and lists its pods
// periodically, and hands the desired pods to a pod manager (agent/pods
// for real containers, or the hollow manager for scale tests). Status and
// Events go back through the API, never straight onto the log.
package agent
