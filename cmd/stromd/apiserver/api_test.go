package apiserver_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/apimachinery/pkg/api/equality"

	"github.com/strom-project/strom/cmd/stromd/app"
	"github.com/strom-project/strom/events/api"
	"github.com/strom-project/strom/events/objects"
	"github.com/strom-project/strom/test/clustertest"
	"github.com/strom-project/strom/test/logtest"
)

// Every stored kind survives apply → get unchanged (after defaulting),
// through the real API, the log and the projection.
func TestRoundTripEveryKind(t *testing.T) {
	// No reconcilers: what was applied must come back untouched.
	d := clustertest.StartStromd(t, func(c *app.Config) { c.NoControllers = true })
	c := clustertest.AdminClient(t, d)
	ctx := context.Background()
	files, err := filepath.Glob("../../../events/objects/testdata/valid/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no valid manifests: %v", err)
	}
	seen := map[string]bool{}
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		ms, err := objects.DecodeManifests(fh, f)
		fh.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			if m.Kind.Namespaced && m.Object.GetNamespace() != "" && m.Object.GetNamespace() != "default" {
				ns := []byte(`{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"` + m.Object.GetNamespace() + `"}}`)
				if _, err := c.Do(ctx, api.VerbApply, &api.Request{Object: ns}); err != nil {
					t.Fatal(err)
				}
			}
			data, _ := json.Marshal(m.Object)
			resp, err := c.Do(ctx, api.VerbApply, &api.Request{Object: data})
			if err != nil {
				t.Fatalf("%s: apply %s: %v", f, m.Kind.Kind, err)
			}
			seen[m.Kind.Kind] = true
			got, err := c.Do(ctx, api.VerbGet, &api.Request{Resource: m.Kind.Resource, Namespace: m.Object.GetNamespace(), Name: m.Object.GetName()})
			if err != nil {
				t.Fatalf("%s: get %s: %v", f, m.Kind.Kind, err)
			}
			applied, err := objects.DecodeStored(m.Kind, resp.Object)
			if err != nil {
				t.Fatal(err)
			}
			fetched, err := objects.DecodeStored(m.Kind, got.Object)
			if err != nil {
				t.Fatal(err)
			}
			if !equality.Semantic.DeepEqual(applied, fetched) {
				t.Fatalf("%s %s: get differs from what apply stored\napplied: %s\nfetched: %s", m.Kind.Kind, m.Object.GetName(), resp.Object, got.Object)
			}
			want := m.Object.DeepCopyObject().(objects.Object)
			objects.Default(want)
			generatedJobSelector(want, fetched)
			if !specEqual(want, fetched) {
				t.Fatalf("%s %s: stored spec differs from the manifest's\nmanifest: %s\nstored:   %s", m.Kind.Kind, m.Object.GetName(), data, got.Object)
			}
		}
	}
	for _, k := range objects.All() {
		if !seen[k.Kind] {
			t.Errorf("no valid manifest exercised kind %s", k.Kind)
		}
	}
}

// specEqual compares two objects without metadata and status.
func specEqual(a, b objects.Object) bool {
	strip := func(o objects.Object) map[string]any {
		data, _ := json.Marshal(o)
		var m map[string]any
		_ = json.Unmarshal(data, &m)
		delete(m, "metadata")
		delete(m, "status")
		// Allocated by the server: a Service's addresses.
		if spec, ok := m["spec"].(map[string]any); ok && m["kind"] == "Service" {
			delete(spec, "clusterIP")
			delete(spec, "clusterIPs")
		}
		return m
	}
	return equality.Semantic.DeepEqual(strip(a), strip(b))
}

// stromd on an existing NATS server (--nats-url) works the same way.
func TestExternalNATS(t *testing.T) {
	ns := logtest.StartNATS(t)
	d := clustertest.StartStromd(t, func(c *app.Config) { c.NATSURL = ns.ClientURL() })
	c := clustertest.AdminClient(t, d)
	ctx := context.Background()
	cm := []byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"},"data":{"a":"b"}}`)
	resp, err := c.Do(ctx, api.VerbApply, &api.Request{Object: cm, Namespace: "default"})
	if err != nil || resp.Outcome != "created" {
		t.Fatalf("apply on external NATS: %v %v", resp, err)
	}
	if d.URL != ns.ClientURL() {
		t.Fatalf("stromd URL %s, want the external %s", d.URL, ns.ClientURL())
	}
	// The stream lives on the external server.
	_, js := logtest.Connect(t, ns)
	info, err := js.Stream(ctx, "STROM_EVENTS")
	if err != nil {
		t.Fatalf("stream not on the external server: %v", err)
	}
	if info.CachedInfo().State.Msgs == 0 {
		t.Fatalf("external stream is empty")
	}
}

// Clients cannot write event subjects directly: the write path is the only
// way onto the log.
func TestClientsCannotPublishEvents(t *testing.T) {
	d := clustertest.StartStromd(t)
	c := clustertest.AdminClient(t, d)
	nc := c.Conn()
	errs := make(chan error, 1)
	nc.SetErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err })
	if err := nc.Publish("strom.ev.configmaps.default.evil", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	_ = nc.Flush()
	select {
	case err := <-errs:
		if !strings.Contains(err.Error(), "Permissions Violation") {
			t.Fatalf("unexpected error %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("publishing an event subject as admin was not refused")
	}
	// And it cannot call the API as another user.
	if err := nc.Publish(api.Subject(api.VerbApply, "stromd"), []byte("{}")); err != nil {
		t.Fatal(err)
	}
	_ = nc.Flush()
	select {
	case err := <-errs:
		if !strings.Contains(err.Error(), "Permissions Violation") {
			t.Fatalf("unexpected error %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("calling the API as another user was not refused")
	}
}

// generatedJobSelector gives want the selector and template labels the
// write path generates for a Job without a manual selector (from the
// Job's uid, as Kubernetes does), so the rest of the spec is compared.
func generatedJobSelector(want, got objects.Object) {
	w, ok1 := want.(*batchv1.Job)
	g, ok2 := got.(*batchv1.Job)
	if !ok1 || !ok2 || w.Spec.Selector != nil || (w.Spec.ManualSelector != nil && *w.Spec.ManualSelector) {
		return
	}
	w.Spec.Selector = g.Spec.Selector
	for k, v := range g.Spec.Template.Labels {
		if w.Spec.Template.Labels == nil {
			w.Spec.Template.Labels = map[string]string{}
		}
		if _, set := w.Spec.Template.Labels[k]; !set {
			w.Spec.Template.Labels[k] = v
		}
	}
}
