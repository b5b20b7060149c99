package projections_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/objects"
	"github.com/strom-project/strom/projections"
	"github.com/strom-project/strom/test/testutil"
)

// The export's push-consumer reader writes exactly the bytes the ordered
// (pull) consumer path writes, over the whole log and from the middle.
func TestExportReadersAgree(t *testing.T) {
	ctx := context.Background()
	clock := testutil.NewFakeClock(t0)
	l := testutil.StartLog(t, clock)
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
	for _, o := range []projections.ExportOptions{{}, {From: 1234}, {From: 17, To: last - 5}} {
		o.Clock = clock
		var push, pull bytes.Buffer
		hp, err := projections.Export(ctx, l.JS, &push, o)
		if err != nil {
			t.Fatalf("export %+v: %v", o, err)
		}
		hq, err := projections.ExportWithPullReader(ctx, l.JS, &pull, o)
		if err != nil {
			t.Fatalf("pull export %+v: %v", o, err)
		}
		if hp.Count == 0 || hp.Count != hq.Count {
			t.Fatalf("export %+v: counts %d and %d", o, hp.Count, hq.Count)
		}
		if !bytes.Equal(push.Bytes(), pull.Bytes()) {
			t.Fatalf("export %+v: the two readers wrote different files (%d and %d bytes)", o, push.Len(), pull.Len())
		}
	}
}
