package projections_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/objects"
	"github.com/strom-project/strom/projections"
	"github.com/strom-project/strom/test/logtest"
)

// Every export reader (stream snapshot, push consumer, ordered pull
// consumer) writes exactly the same bytes, over the whole log and over
// ranges; an automatic export of most of the log up to its end reads a
// snapshot, of a small part or of a range ending earlier a consumer.
func TestExportReadersAgree(t *testing.T) {
	ctx := context.Background()
	clock := clocktesting.NewFakeClock(t0)
	l := logtest.StartLog(t, clock)
	w := l.Writer
	if _, err := w.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, opts()); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3000; i++ {
		var obj objects.Object
		if i%7 == 0 {
			obj = &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("s%d", i%40), Namespace: "default"},
				StringData: map[string]string{"password": fmt.Sprintf("hunter%d", i)}}
		} else {
			obj = &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("cm%d", i%200), Namespace: "default",
				Labels: map[string]string{"round": fmt.Sprint(i)}}, Data: map[string]string{"k": strings.Repeat("v", i%300)}}
		}
		if _, err := w.Apply(ctx, obj, opts()); err != nil {
			t.Fatal(err)
		}
	}
	last, err := events.LastSeq(ctx, l.JS)
	if err != nil {
		t.Fatal(err)
	}
	defer projections.SetSnapshotMinEvents(1000)()
	for _, c := range []struct {
		o        projections.ExportOptions
		autoRead string
	}{
		{projections.ExportOptions{}, projections.ExportReadSnapshot},
		{projections.ExportOptions{From: 1234}, projections.ExportReadSnapshot},
		{projections.ExportOptions{From: 17, To: last - 5}, projections.ExportReadConsumer}, // not to the end
		// With no projection snapshot in this log, every export starts
		// at #1 (the empty cluster is its base): a short range is only a
		// short --to.
		{projections.ExportOptions{To: 900}, projections.ExportReadConsumer},  // under SetSnapshotMinEvents
		{projections.ExportOptions{To: 1400}, projections.ExportReadConsumer}, // under half the log
		{projections.ExportOptions{To: 1600}, projections.ExportReadConsumer}, // over half, but not to the end
	} {
		c.o.Clock = clock
		var want bytes.Buffer
		o := c.o
		o.Read = projections.ExportReadPull
		hw, err := projections.Export(ctx, l.JS, &want, o)
		if err != nil {
			t.Fatalf("pull export %+v: %v", c.o, err)
		}
		if hw.Count == 0 {
			t.Fatalf("pull export %+v: no records", c.o)
		}
		for _, read := range []string{projections.ExportReadSnapshot, projections.ExportReadConsumer, projections.ExportReadAuto} {
			var got bytes.Buffer
			var rep projections.ExportReport
			o := c.o
			o.Read, o.Report = read, &rep
			h, err := projections.Export(ctx, l.JS, &got, o)
			if err != nil {
				t.Fatalf("export %+v read %q: %v", c.o, read, err)
			}
			if h.Count != hw.Count || !bytes.Equal(got.Bytes(), want.Bytes()) {
				t.Fatalf("export %+v read %q: %d records, %d bytes; the pull reader wrote %d records, %d bytes", c.o, read, h.Count, got.Len(), hw.Count, want.Len())
			}
			wantRead := read
			if read == projections.ExportReadAuto {
				wantRead = c.autoRead
			}
			if rep.Read != wantRead || rep.NoSnapshot != "" {
				t.Fatalf("export %+v read %q: report %+v, want read %q", c.o, read, rep, wantRead)
			}
		}
	}
	if _, err := projections.Export(ctx, l.JS, io.Discard, projections.ExportOptions{Read: "fast"}); events.ReasonOf(err) != events.ReasonBadRequest ||
		!strings.Contains(err.Error(), `"fast"`) {
		t.Fatalf("unknown read method: %v, want BadRequest naming it", err)
	}
}
