// Package projections folds the event log into current-state views.
//
// A Store is a pure fold: Apply(event) updates it, and reads (get, list by
// namespace, label and field selectors, watch) never touch the network.
// A Projection is the thin shell that feeds a Store from JetStream: it
// loads the newest snapshot, applies the events after it, then follows the
// stream. A Store can also be built as of any earlier sequence, which is
// how `strom get --at` answers.
//
// Lock order: Store.mu, then a watcher's mu. Nothing else is locked while
// Store.mu is held. Projection: snapMu, then listMu; decodedMu alone.
package projections
