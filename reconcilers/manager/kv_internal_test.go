package manager

import (
	"fmt"
	"sort"
	"testing"
	"time"
)

// After a re-watch the redelivered contents are compared with what the
// input held: unchanged revisions keep their Seen and enqueue nothing,
// newer ones count as changes, and keys that are gone are removed.
func TestKVReplayAfterRewatch(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var changes []string
	k := NewKV("B", func(e KVEntry, deleted bool) []string {
		return []string{fmt.Sprintf("%s deleted=%v", e.Key, deleted)}
	})
	enqueue := func(keys []string) { changes = append(changes, keys...) }
	now := func() time.Time { return t0.Add(time.Hour) }
	// First watch: a, b, c live.
	for i, key := range []string{"a", "b", "c"} {
		k.apply(key, nil, uint64(i+1), t0, false, false, now, enqueue)
	}
	changes = nil
	// Re-watch: a unchanged, b renewed while no watch ran, c gone.
	replay := map[string]bool{"a": true, "b": true}
	k.apply("a", nil, 1, t0, false, true, now, enqueue)
	k.apply("b", nil, 7, t0.Add(time.Minute), false, true, now, enqueue)
	k.endReplay(replay, enqueue)
	sort.Strings(changes)
	if fmt.Sprint(changes) != "[b deleted=false c deleted=true]" {
		t.Fatalf("changes after the re-watch: %v", changes)
	}
	if e, _ := k.Get("a"); !e.Seen.Equal(t0.Add(time.Hour)) {
		t.Fatalf("unchanged a: Seen %v, want kept", e.Seen)
	}
	if e, _ := k.Get("b"); e.Revision != 7 || !e.Seen.Equal(t0.Add(time.Minute)) {
		t.Fatalf("b renewed while unwatched: %+v, want revision 7 seen at its creation", e)
	}
	if _, ok := k.Get("c"); ok {
		t.Fatal("c is gone from the bucket but still readable")
	}
}
