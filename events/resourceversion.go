package events

import "strconv"

// An object's resourceVersion is the stream sequence of its last event, in
// decimal: the one form it takes outside the log. The stored payload
// leaves it out (the sequence is only known once the event is appended);
// readers put it back with ResourceVersion and parse it with SeqOf.

// ResourceVersion is the resourceVersion of an object whose last event
// has sequence seq.
func ResourceVersion(seq uint64) string { return strconv.FormatUint(seq, 10) }

// SeqOf is the sequence a resourceVersion names; 0 for "" or anything
// that is not one.
func SeqOf(rv string) uint64 {
	seq, err := strconv.ParseUint(rv, 10, 64)
	if err != nil {
		return 0
	}
	return seq
}
