package projections

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/nats-io/nats.go/jetstream"
	"k8s.io/utils/clock"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/logfile"
)

// ExportOptions bound an export. From and To are sequences (0: the log's
// first and last).
type ExportOptions struct {
	From, To uint64
	Clock    clock.PassiveClock
	// Read chooses how the records are read: ExportReadAuto (a stream
	// snapshot for most of the log, else a consumer), ExportReadSnapshot
	// (an error rather than a fallback) or ExportReadConsumer.
	Read string
	// Report, when set, is filled with how the records were read.
	Report *ExportReport
}

// Export read methods.
const (
	ExportReadAuto     = ""
	ExportReadSnapshot = "snapshot"
	ExportReadConsumer = "consumer"
	// exportReadPull is the ordered pull consumer the other readers use;
	// tests compare it with the rest.
	exportReadPull = "pull"
)

// ExportReport says how an export read the log.
type ExportReport struct {
	// Read is ExportReadSnapshot or ExportReadConsumer.
	Read string
	// NoSnapshot says why an automatic export did not read a snapshot
	// (empty when it did, or when the range was too small to want one).
	NoSnapshot string
}

// Export writes the log (a range of it) to w in the strom-log format (see
// logfile.Header). It needs only read access to the stream and the
// snapshot bucket, which the admin user has, so the CLI runs it.
//
// So that every point from From on replays exactly, records start right
// after the newest snapshot at or before From-1, which is embedded as the
// file's base. When the log has lost its head and no such snapshot
// exists, the oldest snapshot after From is the base (points before it
// answer Gone, their events are still in the file for log and trace);
// with no snapshot at all the file has no base and says so.
func Export(ctx context.Context, js jetstream.JetStream, w io.Writer, o ExportOptions) (*logfile.Header, error) {
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	switch o.Read {
	case ExportReadAuto, ExportReadSnapshot, ExportReadConsumer, exportReadPull:
	default:
		return nil, events.Errorf(events.ReasonBadRequest, "export: read method %q: want %q or %q (or empty for automatic)", o.Read, ExportReadSnapshot, ExportReadConsumer)
	}
	st, err := js.Stream(ctx, events.StreamName)
	if err != nil {
		return nil, fmt.Errorf("opening stream %s: %w", events.StreamName, err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("stream info: %w", err)
	}
	first, last := info.State.FirstSeq, info.State.LastSeq
	if info.State.Msgs == 0 {
		first = last + 1
	}
	from, to := o.From, o.To
	if from == 0 {
		from = first
	}
	if to == 0 || to > last {
		to = last
	}
	if from > to+1 {
		return nil, events.Errorf(events.ReasonBadRequest, "--from #%d is after --to #%d", from, to)
	}
	if from < first {
		return nil, events.Errorf(events.ReasonGone, "#%d is no longer kept: the log starts at #%d", from, first)
	}
	c := info.Config
	h := &logfile.Header{
		Stream:        logfile.Stream{Name: c.Name, Subjects: c.Subjects, MaxAge: c.MaxAge, MaxBytes: c.MaxBytes, Replicas: c.Replicas},
		RequestedFrom: o.From, ExportedAt: o.Clock.Now().UTC(),
	}
	var base []byte
	start := from
	snaps, err := listSnapshots(ctx, js)
	if err != nil {
		return nil, err
	}
	useBase := func(s uint64) error {
		p := &Projection{cfg: Config{JetStream: js}}
		b, err := p.SnapshotBytes(ctx, s)
		base, h.HasBase, h.BaseSeq = b, true, s
		return err
	}
	if s, ok := baseSnapshot(snaps, first, from); ok {
		// The state right before the records: every point from --from on
		// replays exactly (records start a little early, right after s).
		if err := useBase(s); err != nil {
			return nil, err
		}
		start = s + 1
	} else if first == 1 {
		h.HasBase, start = true, 1 // the empty cluster is the base
	} else if s, ok := oldestSnapshotIn(snaps, from, to); ok {
		// The log lost its head: points before s cannot be rebuilt, but
		// the events are kept for log and trace.
		if err := useBase(s); err != nil {
			return nil, err
		}
	}
	h.FirstSeq, h.LastSeq = start, to
	if to >= start {
		h.Count = to - start + 1
		if m, err := st.GetMsg(ctx, start); err == nil {
			h.FirstTime = m.Time.UTC()
		}
		if m, err := st.GetMsg(ctx, to); err == nil {
			h.LastTime = m.Time.UTC()
		}
	}
	ew, err := logfile.NewWriter(w, h, base)
	if err != nil {
		return nil, err
	}
	defer ew.Abort() // on an error; a no-op after Close
	next := start
	if h.Count > 0 {
		read := o.Read
		if read == ExportReadAuto {
			read = ExportReadConsumer
			if snapshotWorthIt(h.Count, info.State.Msgs, uint64(info.State.NumDeleted), to == last) {
				read = ExportReadSnapshot
			}
		}
		var noSnapshot string
		if read == ExportReadConsumer && info.State.NumDeleted > 0 {
			noSnapshot = fmt.Sprintf("the stream has %d deleted messages inside it", info.State.NumDeleted)
		}
		write := func(ev *rawEvent) error {
			next++
			if ev.rawHeader != nil {
				return ew.WriteRaw(ev.seq, ev.time, ev.subject, ev.rawHeader, ev.data)
			}
			return ew.Write(ev.seq, ev.time, ev.subject, ev.header, ev.data)
		}
		if read == ExportReadSnapshot {
			err = readSnapshot(ctx, js, events.StreamName, start, to, write)
			if isSnapshotUnusable(err) && o.Read == ExportReadAuto {
				// Nothing was written yet: read with a consumer instead.
				read, noSnapshot, err = ExportReadConsumer, err.Error(), nil
			}
		}
		if o.Report != nil {
			*o.Report = ExportReport{Read: read, NoSnapshot: noSnapshot}
		}
		switch read {
		case exportReadPull:
			err = readStream(ctx, js, nil, "export", EventQuery{From: start, To: to}, func(m jetstream.Msg, md *jetstream.MsgMetadata) error {
				if md.Sequence.Stream != next {
					return events.Errorf(events.ReasonGone, "export: expected #%d, the log gave #%d (retention dropped events while exporting?)", next, md.Sequence.Stream)
				}
				next++
				return ew.Write(md.Sequence.Stream, md.Timestamp, m.Subject(), m.Headers(), m.Data())
			})
		case ExportReadConsumer:
			err = readRange(ctx, js, events.StreamName, start, to, write)
		}
		if err != nil {
			return nil, err
		}
		if next != to+1 {
			return nil, fmt.Errorf("export: stopped at #%d, want #%d", next-1, to)
		}
	}
	if _, err := ew.Close(); err != nil {
		return nil, err
	}
	return h, nil
}

// baseSnapshot picks the newest snapshot s with first-1 <= s <= from-1:
// the state right before the export's records.
func baseSnapshot(snaps []uint64, first, from uint64) (uint64, bool) {
	for i := len(snaps) - 1; i >= 0; i-- {
		s := snaps[i]
		if s+1 <= from && s+1 >= first {
			return s, true
		}
	}
	return 0, false
}

// oldestSnapshotIn is the oldest snapshot in [from, to].
func oldestSnapshotIn(snaps []uint64, from, to uint64) (uint64, bool) {
	for _, s := range snaps {
		if s >= from && s <= to {
			return s, true
		}
	}
	return 0, false
}

// listSnapshots lists snapshot sequences, oldest first, with only a
// JetStream context.
func listSnapshots(ctx context.Context, js jetstream.JetStream) ([]uint64, error) {
	os, err := js.ObjectStore(ctx, events.SnapshotBucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", events.SnapshotBucket, err)
	}
	return snapshotSeqs(ctx, os)
}
