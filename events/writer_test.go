package events_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/objects"
	"github.com/strom-project/strom/test/logtest"
)

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func user(name string) events.WriteOptions { return events.WriteOptions{Actor: name, Cause: "test"} }

func mustNamespace(t *testing.T, l *logtest.Log, name string) {
	t.Helper()
	_, err := l.Writer.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, user("admin"))
	if err != nil {
		t.Fatalf("creating namespace %s: %v", name, err)
	}
}

func deployment(name, image string) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: image}}},
			},
		},
	}
}

func TestApplyCreateUpdateUnchanged(t *testing.T) {
	clock := clocktesting.NewFakeClock(t0)
	l := logtest.StartLog(t, clock)
	ctx := context.Background()
	mustNamespace(t, l, "default")

	res, err := l.Writer.Apply(ctx, deployment("web", "nginx:1.25"), user("alice"))
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	if res.Outcome != events.Created || res.Seq == 0 {
		t.Fatalf("first apply: outcome %q seq %d, want created with a sequence", res.Outcome, res.Seq)
	}
	created := res.Object
	if created.GetUID() == "" || created.GetGeneration() != 1 || !created.GetCreationTimestamp().Time.Equal(t0) {
		t.Fatalf("created metadata: uid %q gen %d created %v", created.GetUID(), created.GetGeneration(), created.GetCreationTimestamp())
	}
	if created.GetResourceVersion() != strconv.FormatUint(res.Seq, 10) {
		t.Fatalf("resourceVersion %q, want the stream sequence %d", created.GetResourceVersion(), res.Seq)
	}
	// Defaulting happened on the write path.
	if d := created.(*appsv1.Deployment); d.Spec.Replicas == nil || *d.Spec.Replicas != 1 {
		t.Fatalf("replicas not defaulted to 1: %v", d.Spec.Replicas)
	}

	before := l.LastSeq(t)
	res, err = l.Writer.Apply(ctx, deployment("web", "nginx:1.25"), user("alice"))
	if err != nil || res.Outcome != events.Unchanged {
		t.Fatalf("re-apply: %v %v, want unchanged", res, err)
	}
	if after := l.LastSeq(t); after != before {
		t.Fatalf("unchanged apply appended: last seq %d -> %d", before, after)
	}

	clock.Step(time.Hour)
	res, err = l.Writer.Apply(ctx, deployment("web", "nginx:1.26"), user("bob"))
	if err != nil || res.Outcome != events.Configured {
		t.Fatalf("apply new image: %v %v", res, err)
	}
	if res.Object.GetGeneration() != 2 {
		t.Fatalf("generation %d after a spec change, want 2", res.Object.GetGeneration())
	}
	if res.Object.GetUID() != created.GetUID() || !res.Object.GetCreationTimestamp().Time.Equal(t0) {
		t.Fatalf("uid or creationTimestamp changed on update")
	}

	// A label change is not a spec change: generation stays.
	d := deployment("web", "nginx:1.26")
	d.Labels = map[string]string{"app": "web", "tier": "front"}
	res, err = l.Writer.Apply(ctx, d, user("bob"))
	if err != nil || res.Outcome != events.Configured || res.Object.GetGeneration() != 2 {
		t.Fatalf("label change: %v gen %d err %v", res.Outcome, res.Object.GetGeneration(), err)
	}
}

func TestStatusUpdateKeepsGeneration(t *testing.T) {
	l := logtest.StartLog(t, clocktesting.NewFakeClock(t0))
	ctx := context.Background()
	mustNamespace(t, l, "default")
	res, err := l.Writer.Apply(ctx, deployment("web", "nginx"), user("alice"))
	if err != nil {
		t.Fatal(err)
	}
	d := res.Object.(*appsv1.Deployment)
	d.Status.Replicas = 3
	d.Spec.Paused = true // ignored by a status update
	st, err := l.Writer.UpdateStatus(ctx, d, user("controller"))
	if err != nil {
		t.Fatalf("status: %v", err)
	}
	got := st.Object.(*appsv1.Deployment)
	if got.Status.Replicas != 3 || got.Spec.Paused || got.Generation != 1 {
		t.Fatalf("status update: replicas %d paused %v gen %d", got.Status.Replicas, got.Spec.Paused, got.Generation)
	}
	// Apply keeps the status the cluster wrote.
	res, err = l.Writer.Apply(ctx, deployment("web", "nginx:2"), user("alice"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Object.(*appsv1.Deployment).Status.Replicas != 3 {
		t.Fatalf("apply dropped status")
	}
}

func TestConcurrentWritersExactlyOneWins(t *testing.T) {
	l := logtest.StartLog(t, clocktesting.NewFakeClock(t0))
	ctx := context.Background()
	mustNamespace(t, l, "default")
	res, err := l.Writer.Apply(ctx, deployment("web", "nginx"), user("alice"))
	if err != nil {
		t.Fatal(err)
	}
	rv := res.Object.GetResourceVersion()
	for round := 0; round < 20; round++ {
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				d := deployment("web", "nginx:"+strconv.Itoa(round*100+i))
				d.ResourceVersion = rv
				_, errs[i] = l.Writer.Update(ctx, d, user("w"+strconv.Itoa(i)))
			}(i)
		}
		wg.Wait()
		wins := 0
		for _, err := range errs {
			switch {
			case err == nil:
				wins++
			case !events.IsConflict(err):
				t.Fatalf("loser got %v, want Conflict", err)
			}
		}
		if wins != 1 {
			t.Fatalf("round %d: %d writers won with the same precondition, want exactly 1", round, wins)
		}
		cur, err := l.Writer.Get(ctx, objects.ByKind("Deployment"), "default", "web")
		if err != nil {
			t.Fatal(err)
		}
		rv = cur.GetResourceVersion()
	}
}

func TestCreateRaceOneCreated(t *testing.T) {
	l := logtest.StartLog(t, clocktesting.NewFakeClock(t0))
	ctx := context.Background()
	mustNamespace(t, l, "default")
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, errs[i] = l.Writer.Create(ctx, deployment("race", "nginx"), user("w"))
		}(i)
	}
	wg.Wait()
	created := 0
	for _, err := range errs {
		if err == nil {
			created++
		} else if !events.IsAlreadyExists(err) && !events.IsConflict(err) {
			t.Fatalf("unexpected error %v", err)
		}
	}
	if created != 1 {
		t.Fatalf("%d creates succeeded, want 1", created)
	}
}

func TestBadWritesChangeNothing(t *testing.T) {
	l := logtest.StartLog(t, clocktesting.NewFakeClock(t0))
	ctx := context.Background()
	mustNamespace(t, l, "default")
	if _, err := l.Writer.Apply(ctx, deployment("web", "nginx"), user("a")); err != nil {
		t.Fatal(err)
	}
	stale := deployment("web", "nginx:2")
	stale.ResourceVersion = "1"
	noImage := deployment("noimage", "")
	badName := deployment("Bad_Name", "nginx")
	otherNS := deployment("web", "nginx")
	otherNS.Namespace = "nope"
	huge := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "huge", Namespace: "default"},
		Data: map[string]string{"k": strings.Repeat("x", objects.MaxObjectBytes+1)}}
	badLabel := deployment("web2", "nginx")
	badLabel.Labels = map[string]string{"app": "web2", "bad": "-not valid-"}
	cases := []struct {
		name   string
		obj    objects.Object
		reason events.Reason
		want   string
	}{
		{"stale resourceVersion", stale, events.ReasonConflict, "has been modified"},
		{"missing image", noImage, events.ReasonInvalid, "spec.template.spec.containers[0].image: Required value"},
		{"invalid name", badName, events.ReasonInvalid, "metadata.name"},
		{"missing namespace", otherNS, events.ReasonNotFound, `namespaces "nope" not found`},
		{"over 1 MiB", huge, events.ReasonInvalid, "1048576 bytes"},
		{"bad label value", badLabel, events.ReasonInvalid, "metadata.labels"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := l.LastSeq(t)
			_, err := l.Writer.Apply(ctx, tc.obj, user("a"))
			if err == nil {
				t.Fatalf("accepted")
			}
			if events.ReasonOf(err) != tc.reason || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q (%s), want %s containing %q", err, events.ReasonOf(err), tc.reason, tc.want)
			}
			if after := l.LastSeq(t); after != before {
				t.Fatalf("stream moved from #%d to #%d on a rejected write", before, after)
			}
		})
	}
}

func TestDeleteThenRecreateGetsNewUID(t *testing.T) {
	l := logtest.StartLog(t, clocktesting.NewFakeClock(t0))
	ctx := context.Background()
	mustNamespace(t, l, "default")
	first, err := l.Writer.Apply(ctx, deployment("web", "nginx"), user("a"))
	if err != nil {
		t.Fatal(err)
	}
	k := objects.ByKind("Deployment")
	del, err := l.Writer.Delete(ctx, k, "default", "web", events.DeleteOptions{Now: true}, user("a"))
	if err != nil || del.Outcome != events.Deleted {
		t.Fatalf("delete: %v %v", del, err)
	}
	if _, err := l.Writer.Get(ctx, k, "default", "web"); !events.IsNotFound(err) {
		t.Fatalf("get after delete: %v, want NotFound", err)
	}
	if _, err := l.Writer.Delete(ctx, k, "default", "web", events.DeleteOptions{Now: true}, user("a")); !events.IsNotFound(err) {
		t.Fatalf("second delete: %v, want NotFound", err)
	}
	again, err := l.Writer.Apply(ctx, deployment("web", "nginx"), user("a"))
	if err != nil || again.Outcome != events.Created {
		t.Fatalf("recreate: %v %v", again, err)
	}
	if again.Object.GetUID() == first.Object.GetUID() {
		t.Fatalf("recreated object kept the old uid")
	}
}

func TestSecretsAreEncryptedInTheLog(t *testing.T) {
	l := logtest.StartLog(t, clocktesting.NewFakeClock(t0))
	ctx := context.Background()
	mustNamespace(t, l, "default")
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "default"},
		StringData: nil, Data: map[string][]byte{"password": []byte("hunter2-very-secret")}}
	res, err := l.Writer.Apply(ctx, secret, user("a"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := l.JS.Stream(ctx, events.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := st.GetMsg(ctx, res.Seq)
	if err != nil {
		t.Fatal(err)
	}
	// Secret data is base64 in JSON; check neither form is in the log.
	for _, plain := range [][]byte{[]byte("hunter2-very-secret"), []byte("aHVudGVyMi12ZXJ5LXNlY3JldA")} {
		if bytes.Contains(raw.Data, plain) {
			t.Fatalf("the log holds the secret in plain text")
		}
	}
	if raw.Header.Get(events.HeaderEnc) != events.SealAlgorithm {
		t.Fatalf("secret event not marked encrypted: %v", raw.Header)
	}
	got, err := l.Writer.Get(ctx, objects.ByKind("Secret"), "default", "db")
	if err != nil {
		t.Fatal(err)
	}
	if string(got.(*corev1.Secret).Data["password"]) != "hunter2-very-secret" {
		t.Fatalf("secret did not decrypt back")
	}
}

func TestTerminatingNamespaceRefusesNewObjects(t *testing.T) {
	l := logtest.StartLog(t, clocktesting.NewFakeClock(t0))
	ctx := context.Background()
	now := metav1.NewTime(t0)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "dying"}}
	if _, err := l.Writer.Create(ctx, ns, user("a")); err != nil {
		t.Fatal(err)
	}
	// Deleting a namespace first marks it terminating.
	if _, err := l.Writer.MarkDeleting(ctx, objects.ByKind("Namespace"), "", "dying", nil, user("a")); err != nil {
		t.Fatal(err)
	}
	cur, err := l.Writer.Get(ctx, objects.ByKind("Namespace"), "", "dying")
	if err != nil || cur.GetDeletionTimestamp() == nil || !cur.GetDeletionTimestamp().Equal(&now) {
		t.Fatalf("namespace not marked terminating: %v %v", cur, err)
	}
	d := deployment("web", "nginx")
	d.Namespace = "dying"
	if _, err := l.Writer.Apply(ctx, d, user("a")); events.ReasonOf(err) != events.ReasonForbidden {
		t.Fatalf("create in terminating namespace: %v, want Forbidden", err)
	}
}

// A stale view never makes the write path drop a write or refuse wrongly:
// the view is only a first guess, the log decides.
func TestStaleViewIsOnlyAGuess(t *testing.T) {
	l := logtest.StartLog(t, clocktesting.NewFakeClock(t0))
	ctx := context.Background()
	mustNamespace(t, l, "default")
	first, err := l.Writer.Apply(ctx, deployment("web", "nginx:1"), user("a"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Writer.Apply(ctx, deployment("web", "nginx:2"), user("a")); err != nil {
		t.Fatal(err)
	}
	// A view stuck at the first version.
	staleData, _ := json.Marshal(first.Object)
	stale := func(resource, ns, name string) ([]byte, uint64, bool) {
		if resource == "deployments" && name == "web" {
			return staleData, first.Seq, true
		}
		return nil, 0, false
	}
	w, err := events.NewWriter(ctx, events.WriterConfig{JetStream: l.JS, Sealer: l.Sealer, Clock: clocktesting.NewFakeClock(t0), View: stale})
	if err != nil {
		t.Fatal(err)
	}
	// Identical to the stale view but not to the log: must be configured.
	res, err := w.Apply(ctx, deployment("web", "nginx:1"), user("a"))
	if err != nil || res.Outcome != events.Configured {
		t.Fatalf("apply over a stale view: %v %v, want configured", res, err)
	}
	got, _ := l.Writer.Get(ctx, objects.ByKind("Deployment"), "default", "web")
	if img := got.(*appsv1.Deployment).Spec.Template.Spec.Containers[0].Image; img != "nginx:1" {
		t.Fatalf("image %q in the log, want nginx:1", img)
	}
	// A different image: the stale guess conflicts, the retry reads the log.
	if res, err := w.Apply(ctx, deployment("web", "nginx:3"), user("a")); err != nil || res.Outcome != events.Configured {
		t.Fatalf("apply after a stale guess: %v %v", res, err)
	}
}
