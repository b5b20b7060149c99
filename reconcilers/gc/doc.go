// Package gc is the garbage collector: it deletes dependents whose owners
// are gone and carries out the three deletion propagation policies.
//
//   - background (the default): the owner is deleted at once; every
//     dependent none of whose owners still exists (by uid) is deleted
//     next, pods gracefully;
//   - foreground: the owner is marked deleting with the
//     foregroundDeletion finalizer; its dependents are deleted first (in
//     foreground too, so a Deployment waits for its pods), then the owner
//     for good;
//   - orphan: the owner is marked deleting with the orphan finalizer; the
//     owner reference is removed from every dependent, then the owner is
//     deleted for good.
//
// Keys are "resource/namespace/name" (or "resource//name" when cluster
// scoped); the collector reads every object from the Store (level-based).
package gc
