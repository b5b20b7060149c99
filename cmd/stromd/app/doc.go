// Package app assembles stromd: the embedded (or external) NATS server,
// the event stream, the projection, the API and, in all-in-one mode, the
// node agent. Tests start it in-process through Start.
package app
