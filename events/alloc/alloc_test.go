package alloc_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/nats-io/nats.go/jetstream"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/alloc"
	"github.com/strom-project/strom/events/objects"
	"github.com/strom-project/strom/test/logtest"
)

func TestWriterAllocatesForEveryCaller(t *testing.T) {
	ctx := context.Background()
	l := logtest.StartLog(t, clocktesting.NewFakeClock(time.Now()))
	a, err := alloc.NewServiceAllocator(ctx, l.JS, "10.43.0.0/16", 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	w, err := events.NewWriter(ctx, events.WriterConfig{JetStream: l.JS, Sealer: l.Sealer, Admission: []events.Admission{a}})
	if err != nil {
		t.Fatal(err)
	}
	ctl := events.WriteOptions{Actor: "controller"}
	if _, err := w.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, ctl); err != nil {
		t.Fatal(err)
	}
	claims := func() map[string]string {
		keys, err := a.KV().Keys(ctx)
		out := map[string]string{}
		if errors.Is(err, jetstream.ErrNoKeysFound) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			e, err := a.KV().Get(ctx, k)
			if err != nil {
				t.Fatal(err)
			}
			var c alloc.Claim
			if err := json.Unmarshal(e.Value(), &c); err != nil {
				t.Fatal(err)
			}
			out[k] = c.Namespace + "/" + c.Name
		}
		return out
	}
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Ports: []corev1.ServicePort{{Port: 80}}}}
	res, err := w.Create(ctx, svc, ctl)
	if err != nil {
		t.Fatal(err)
	}
	got := res.Object.(*corev1.Service)
	ip, err := netip.ParseAddr(got.Spec.ClusterIP)
	if err != nil || !netip.MustParsePrefix("10.43.0.0/16").Contains(ip) || got.Spec.Ports[0].NodePort == 0 {
		t.Fatalf("clusterIP %q nodePort %d: not allocated", got.Spec.ClusterIP, got.Spec.Ports[0].NodePort)
	}
	want := map[string]string{alloc.IPKey(ip): "default/web", alloc.PortKey(got.Spec.Ports[0].NodePort): "default/web"}
	if c := claims(); fmt.Sprint(c) != fmt.Sprint(want) {
		t.Fatalf("claims %v, want %v", c, want)
	}
	// A controller's update without the allocated fields keeps them.
	upd := svc.DeepCopy()
	upd.Labels = map[string]string{"x": "y"}
	res, err = w.Update(ctx, upd, ctl)
	if err != nil || res.Object.(*corev1.Service).Spec.ClusterIP != got.Spec.ClusterIP {
		t.Fatalf("update: %v %v", res, err)
	}
	// Turned ClusterIP: the NodePort is released, the IP kept.
	upd.Spec.Type = corev1.ServiceTypeClusterIP
	if _, err := w.Update(ctx, upd, ctl); err != nil {
		t.Fatal(err)
	}
	if c := claims(); fmt.Sprint(c) != fmt.Sprint(map[string]string{alloc.IPKey(ip): "default/web"}) {
		t.Fatalf("claims after type change %v", c)
	}
	// A refused create (explicit IP taken) leaves no claim behind.
	clash := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "clash", Namespace: "default"},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, ClusterIP: got.Spec.ClusterIP, Ports: []corev1.ServicePort{{Port: 80, NodePort: 30123}}}}
	if _, err := w.Create(ctx, clash, ctl); !events.IsInvalid(err) {
		t.Fatalf("taken IP: %v", err)
	}
	if c := claims(); len(c) != 1 {
		t.Fatalf("claims after a refused create %v", c)
	}
	// A dry run claims nothing.
	if _, err := w.Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "dry", Namespace: "default"},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}}, events.WriteOptions{Actor: "u", DryRun: true}); err != nil {
		t.Fatal(err)
	}
	if c := claims(); len(c) != 1 {
		t.Fatalf("claims after a dry run %v", c)
	}
	// Deleted as the garbage collector does: released with the event.
	if _, err := w.Delete(ctx, objects.ByKind("Service"), "default", "web", events.DeleteOptions{Now: true}, events.WriteOptions{Actor: "gc"}); err != nil {
		t.Fatal(err)
	}
	if c := claims(); len(c) != 0 {
		t.Fatalf("claims after delete %v, want none", c)
	}
}

// interleave writes the Service through another writer during the first
// attempt, between its read and its append.
type interleave struct {
	w    *events.Writer
	done bool
}

func (i *interleave) Admits(k *objects.Kind) bool { return k.Kind == "Service" }

func (i *interleave) Admit(ctx context.Context, k *objects.Kind, obj, _ objects.Object, _ bool) (func(*events.Result, error), error) {
	if i.done || obj == nil || k.Kind != "Service" {
		return nil, nil
	}
	i.done = true
	other := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: obj.GetName(), Namespace: "default"},
		Spec: corev1.ServiceSpec{ClusterIP: "10.43.200.1", Ports: []corev1.ServicePort{{Port: 80}}}}
	_, err := i.w.Create(ctx, other, events.WriteOptions{Actor: "other"})
	return nil, err
}

// A conflicting write between read and append retries the write: the
// first attempt's fresh claim is undone, the retry keeps what is stored.
func TestRetriedWriteLeavesNoClaim(t *testing.T) {
	ctx := context.Background()
	l := logtest.StartLog(t, clocktesting.NewFakeClock(time.Now()))
	a, err := alloc.NewServiceAllocator(ctx, l.JS, "10.43.0.0/16", 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	w, err := events.NewWriter(ctx, events.WriterConfig{JetStream: l.JS, Sealer: l.Sealer, Admission: []events.Admission{&interleave{w: l.Writer}, a}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, events.WriteOptions{Actor: "a"}); err != nil {
		t.Fatal(err)
	}
	res, err := w.Apply(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}}, events.WriteOptions{Actor: "a"})
	if err != nil {
		t.Fatal(err)
	}
	if ip := res.Object.(*corev1.Service).Spec.ClusterIP; ip != "10.43.200.1" {
		t.Fatalf("clusterIP %s, want the stored one kept", ip)
	}
	// The other writer claimed nothing (it has no allocator), so any
	// claim left is the first attempt's.
	keys, err := a.KV().Keys(ctx)
	if !errors.Is(err, jetstream.ErrNoKeysFound) {
		t.Fatalf("claims left behind: %v %v", keys, err)
	}
}
