// Package logtest starts what log-level tests need: an in-process NATS
// server with JetStream, Strom's streams and buckets, a writer, and a poll
// helper instead of sleeps. No JetStream fakes. It imports only package
// events of Strom's, so the tests of events, projections and the
// reconcilers link no more than they use; whole control planes are in
// test/clustertest.
package logtest
