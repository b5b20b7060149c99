package svcalloc_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	corev1 "k8s.io/api/core/v1"

	"github.com/strom-project/strom/cmd/stromd/app"
	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/alloc"
	"github.com/strom-project/strom/events/api"
	"github.com/strom-project/strom/reconcilers/manager"
	"github.com/strom-project/strom/reconcilers/svcalloc"
	"github.com/strom-project/strom/test/clustertest"
	"github.com/strom-project/strom/test/logtest"
)

// A claim left by a crash between claiming and writing (no Service holds
// it) is released; the claims of a live Service stay.
func TestReleasesOrphanClaims(t *testing.T) {
	d := clustertest.StartStromd(t, func(c *app.Config) {
		c.Reconcilers = func(env manager.Env) ([]manager.Reconciler, error) {
			return []manager.Reconciler{svcalloc.New(env, svcalloc.Options{Grace: time.Second, Period: 200 * time.Millisecond})}, nil
		}
	})
	c := clustertest.AdminClient(t, d)
	ctx := context.Background()
	resp, err := c.Do(ctx, api.VerbApply, &api.Request{Object: json.RawMessage(
		`{"apiVersion":"v1","kind":"Service","metadata":{"name":"live","namespace":"default"},"spec":{"type":"NodePort","ports":[{"port":80}]}}`)})
	if err != nil {
		t.Fatal(err)
	}
	var live corev1.Service
	if err := json.Unmarshal(resp.Object, &live); err != nil {
		t.Fatal(err)
	}
	kv, err := d.JetStream().KeyValue(ctx, events.AllocBucket)
	if err != nil {
		t.Fatal(err)
	}
	orphan, _ := json.Marshal(alloc.Claim{Namespace: "default", Name: "crashed", Time: time.Now().Add(-time.Hour)})
	if _, err := kv.Create(ctx, "ip.10-43-0-99", orphan); err != nil {
		t.Fatal(err)
	}
	logtest.Eventually(t, 10*time.Second, func() error {
		_, err := kv.Get(ctx, "ip.10-43-0-99")
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			return nil
		}
		return fmt.Errorf("orphan claim still held: %v", err)
	})
	for _, k := range alloc.ServiceClaims(&live) {
		if _, err := kv.Get(ctx, k); err != nil {
			t.Fatalf("claim %s of a live service: %v", k, err)
		}
	}
	if len(alloc.ServiceClaims(&live)) != 2 {
		t.Fatalf("live service holds %v", alloc.ServiceClaims(&live))
	}
}
