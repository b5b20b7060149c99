// Package logfile is the strom-log file format: a self-describing export
// of the event log (header, base snapshot, the stream's messages verbatim,
// trailer) that can be replayed offline.
//
// Writer writes a file (version 2, s2-compressed); Reader reads one record
// by record; Image holds a file in memory as written and reads its records
// in order and any payload again later by its offset. Readers read
// versions 1 and 2. Decoding a record into an event is package events'
// codec (RawMsg.Decode, events.DecodeMsg): this package only frames the
// messages.
package logfile
