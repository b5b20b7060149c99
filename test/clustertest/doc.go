// Package clustertest starts a whole stromd (cmd/stromd/app) in-process,
// without an agent, and dials it as the CLI does. Only tests of the whole
// cluster import it: it links every reconciler, the API, the proxy and DNS.
// Log-level tests use test/logtest.
package clustertest
