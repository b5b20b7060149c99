// Package ctlutil holds the few helpers Strom's controller shells share:
// write options carrying the manager's cause, an asynchronous Event
// recorder that never slows the work it describes, typed reads from the
// Store, and waits for the view to apply a controller's own writes. How an
// object is deleted (graceful pods, propagation, namespaces) is the write
// path's rule (events.Writer.Delete), not a helper here.
package ctlutil
