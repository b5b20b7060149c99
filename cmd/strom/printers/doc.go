// Package printers shows Strom's objects the way kubectl shows Kubernetes
// objects: `get` tables (normal and wide), `-o name`, `-o yaml|json`, and
// `describe` pages. Everything here is pure formatting: callers pass the
// objects, related objects and the current time, and get text back.
package printers
