package projections

// ExportReadPull makes Export read with the ordered pull consumer, for
// tests that compare it with the other readers.
const ExportReadPull = exportReadPull

// SetSnapshotMinEvents lowers the range size from which an automatic
// export reads a snapshot, so tests need not write 10,000 events.
func SetSnapshotMinEvents(n uint64) (restore func()) {
	old := snapshotMinEvents
	snapshotMinEvents = n
	return func() { snapshotMinEvents = old }
}
