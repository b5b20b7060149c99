// Package events is Strom's log: the event envelope, the subject scheme,
// the versioned codec and the write path, which is the only way onto the
// log.
//
// Every desired-state change is one message on the JetStream stream
// STROM_EVENTS. Each object has its own subject, so JetStream's "expected
// last sequence per subject" gives per-object optimistic concurrency, and
// an object's resourceVersion is the stream sequence of its last event.
//
// The log's export file format, strom-log, is package events/logfile.
package events
