// Package ctlutil holds the few helpers Strom's controller shells share:
// write options carrying the manager's cause, an asynchronous Event
// recorder that never slows the work it describes, typed reads from the
// Store, and the graceful pod deletion every controller uses.
package ctlutil
