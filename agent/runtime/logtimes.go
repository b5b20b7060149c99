package runtime

import (
	"encoding/binary"
	"io"
	"os"
	"sort"
	"sync"
	"time"
)

// A container's log file holds the raw bytes the container wrote, which
// is what `strom logs` and `kubectl logs` print. When they were written is
// kept beside it, in <log>.times (LogTimesPath): a sequence of 16-byte
// records, each a little-endian uint64 offset into the log and an int64
// Unix time in nanoseconds, saying that the bytes from that offset on
// (up to the next record's) arrived at that time. The log driver adds a
// record before each write that comes a millisecond or more after the
// previous record, so a line's time is the arrival of its first byte,
// to the millisecond. That is what Kubernetes' timestamps, sinceTime and
// sinceSeconds need (kubelet keeps a time on every line instead; the raw
// file stays readable by anything that reads logs).

// LogTimesPath is the times file of a log file.
func LogTimesPath(logPath string) string { return logPath + ".times" }

const logTimeRecord = 16

// stampedLog is the log driver's writer: each write of the container's
// output goes to the log, after its time record when one is due. Both
// output streams write through it, so it serialises them.
type stampedLog struct {
	mu    sync.Mutex
	log   io.Writer
	times *os.File // nil: no times (the times file could not be written)
	off   int64    // the log's size, where the next write lands
	last  int64    // the last record's time, Unix ns
	now   func() time.Time
}

// newStampedLog writes to log, whose current size is size, and records
// times in times (which may be nil).
func newStampedLog(log io.Writer, size int64, times *os.File) *stampedLog {
	return &stampedLog{log: log, times: times, off: size, now: time.Now}
}

func (s *stampedLog) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.times != nil && len(p) > 0 {
		if t := s.now().UnixNano(); s.last == 0 || t-s.last >= int64(time.Millisecond) {
			var rec [logTimeRecord]byte
			binary.LittleEndian.PutUint64(rec[:8], uint64(s.off))
			binary.LittleEndian.PutUint64(rec[8:], uint64(t))
			if _, err := s.times.Write(rec[:]); err != nil {
				// Times are an extra: the log itself must go on.
				s.times = nil
			}
			s.last = t
		}
	}
	n, err := s.log.Write(p)
	s.off += int64(n)
	return n, err
}

// LogTimes are the times of a log file, read from its times file.
type LogTimes struct {
	f     *os.File // nil: no times file
	recs  []logTime
	tail  []byte // a partial record at the end, completed by Refresh
	mtime time.Time
}

type logTime struct {
	off int64
	at  time.Time
}

// OpenLogTimes reads the times of the log at logPath. A log without a
// times file (written before times were kept) has none: At then answers
// the log's modification time. Close it when done.
func OpenLogTimes(logPath string) (*LogTimes, error) {
	t := &LogTimes{}
	if st, err := os.Stat(logPath); err == nil {
		t.mtime = st.ModTime()
	}
	f, err := os.Open(LogTimesPath(logPath))
	if os.IsNotExist(err) {
		return t, nil
	}
	if err != nil {
		return nil, err
	}
	t.f = f
	return t, t.Refresh()
}

// Refresh reads the records added since the last read (a followed log).
func (t *LogTimes) Refresh() error {
	if t.f == nil {
		return nil
	}
	buf := make([]byte, 64<<10)
	for {
		n, err := t.f.Read(buf)
		data := append(t.tail, buf[:n]...)
		for len(data) >= logTimeRecord {
			off := int64(binary.LittleEndian.Uint64(data[:8]))
			ns := int64(binary.LittleEndian.Uint64(data[8:16]))
			t.recs = append(t.recs, logTime{off: off, at: time.Unix(0, ns)})
			data = data[logTimeRecord:]
		}
		t.tail = append([]byte(nil), data...)
		if err == io.EOF || n == 0 {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// At is when the byte at off was written. Bytes before the first record
// (a log continued from before times were kept) answer an upper bound:
// the first record's time, or the log's modification time when opened.
func (t *LogTimes) At(off int64) time.Time {
	i := sort.Search(len(t.recs), func(i int) bool { return t.recs[i].off > off })
	switch {
	case i > 0:
		return t.recs[i-1].at
	case len(t.recs) > 0:
		return t.recs[0].at
	default:
		return t.mtime
	}
}

// Close closes the times file.
func (t *LogTimes) Close() error {
	if t.f == nil {
		return nil
	}
	return t.f.Close()
}
