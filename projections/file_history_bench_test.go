package projections

import (
	"context"
	"encoding/json"
	"os"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/logfile"
)

// BenchmarkReplayFile loads a 300,000-event export (synthetic ~1.3 KB
// pods, 30,000 objects) from a file and folds it: the offline replay rate
// without a JetStream server in the same process.
func BenchmarkReplayFile(b *testing.B) {
	n := 300000
	path := b.TempDir() + "/replay.stromlog"
	{
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		w, err := logfile.NewWriter(f, &logfile.Header{FirstSeq: 1, LastSeq: uint64(n), Count: uint64(n), HasBase: true}, nil)
		if err != nil {
			b.Fatal(err)
		}
		p := &corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}, ObjectMeta: metav1.ObjectMeta{Namespace: "default", Labels: map[string]string{"app": "web", "pod-template-hash": "7d4b9c"}},
			Spec: corev1.PodSpec{NodeName: "node-1", Containers: []corev1.Container{{Name: "web", Image: "x"}}}}
		for i := 0; i < n; i++ {
			p.Name = "web-" + strconv.Itoa(i%30000)
			data, _ := json.Marshal(p)
			ev := &events.Event{ID: "b" + strconv.Itoa(i), Type: events.TypeUpdated, Resource: "pods", Namespace: "default", Name: p.Name, Actor: "bench", Time: time.Unix(0, 0), Labels: p.Labels, NodeName: "node-1", Object: append(data, make([]byte, 900)...)}
			m, _ := events.EncodeMsg(ev, nil)
			if err := w.Write(uint64(i+1), time.Unix(int64(i), 0), m.Subject, m.Header, m.Data); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := w.Close(); err != nil {
			b.Fatal(err)
		}
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h, err := LoadFile(path, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := h.Latest(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "events/s")
}
