// Package testutil starts the real things tests need: an in-process NATS
// server with JetStream, a whole stromd, and a poll helper instead of
// sleeps. No JetStream fakes.
package testutil
