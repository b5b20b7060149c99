package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/strom-project/strom/cmd/stromd/app"
	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/logfile"
	"github.com/strom-project/strom/test/clustertest"
	"github.com/strom-project/strom/test/logtest"

	"github.com/strom-project/strom/events/api"
)

// runCLI runs the CLI in-process with no config at all (for replay).
func runCLI(args ...string) (stdout, stderr string, code int) {
	var out, errb bytes.Buffer
	code = run(args, strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), code
}

func mustCLI(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, code := runCLI(args...)
	if code != 0 {
		t.Fatalf("strom %s: exit %d: %s", strings.Join(args, " "), code, errOut)
	}
	return out
}

// live runs a command against the scenario's cluster.
func (s *scenario) live(t *testing.T, args ...string) string {
	t.Helper()
	return mustCLI(t, append([]string{"--config", s.d.AdminConfig}, args...)...)
}

// export writes the scenario's log to a file with the CLI.
func (s *scenario) export(t *testing.T, extra ...string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "scenario.stromlog")
	s.live(t, append([]string{"log", "export", "--file", f}, extra...)...)
	return f
}

func seqStr(s uint64) string { return strconv.FormatUint(s, 10) }

// sameExport fails unless two export files hold the same header (but for
// the export time), base and records.
func sameExport(t *testing.T, a, b string) {
	t.Helper()
	read := func(path string) (logfile.Header, []byte, []*logfile.RawMsg) {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		r, err := logfile.NewReader(f)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		var recs []*logfile.RawMsg
		for {
			m, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			recs = append(recs, m)
		}
		h := r.Header()
		h.ExportedAt = time.Time{}
		return h, r.Base(), recs
	}
	ha, ba, ra := read(a)
	hb, bb, rb := read(b)
	if !reflect.DeepEqual(ha, hb) || !bytes.Equal(ba, bb) || !reflect.DeepEqual(ra, rb) {
		t.Fatalf("exports differ: %+v (%d records) and %+v (%d records)", ha, len(ra), hb, len(rb))
	}
	if len(ra) == 0 {
		t.Fatalf("exports hold no records")
	}
}

// Every time-travel command answers the same from the live cluster and
// from an export replayed with no cluster: one implementation per verb.
func TestLiveAndReplayAgree(t *testing.T) {
	s := startScenarioCluster(t)
	s.write(t)
	// The admin may read a stream snapshot (the fast path for large
	// exports), and it holds the same as a consumer's read.
	file := s.export(t, "--read", "snapshot")
	sameExport(t, file, s.export(t, "--read", "consumer"))
	r1, r2, nf := seqStr(s.afterRollout1), seqStr(s.afterRollout2), seqStr(s.afterNodeFailure)
	cmds := [][]string{
		{"get", "deploy", "web", "-n", "shop", "-o", "yaml", "--at", r1},
		{"get", "pods", "-A", "-o", "json", "--at", r2},
		{"get", "nodes", "-o", "json", "--at", r2},
		{"get", "nodes", "-o", "json", "--at", nf},
		{"get", "clusterroles", "viewer", "-o", "yaml", "--at", r1},
		{"get", "ns", "-o", "name", "--at", "3"},
		{"describe", "deploy/web", "-n", "shop", "--at", r1},
		{"describe", "node/node-a", "--at", r2},
		{"history", "deploy/web", "-n", "shop"},
		{"history", "pod/web-1-a", "-n", "shop"},
		{"trace", "deploy/web", "-n", "shop"},
		{"trace", "pod/web-1-a", "-n", "shop", "--why"},
		{"trace", "pod/web-1-a", "-n", "shop", "-o", "json"},
		{"diff", "--from", r1, "--to", r2},
		{"diff", "--from", r1, "deploy/web", "-n", "shop", "-o", "json"},
		{"diff", "--from", "0", "--to", nf, "--show-metadata", "nodes"},
		{"log"},
		{"log", "--kind", "pods", "-n", "shop", "-o", "json"},
		{"log", "--actor", "scheduler", "--from", "5"},
		{"log", "--from", "5", "--to", r1, "--page", "3"},
	}
	for _, cmd := range cmds {
		t.Run(strings.Join(cmd, " "), func(t *testing.T) {
			live := s.live(t, cmd...)
			replayed := mustCLI(t, append([]string{"replay", "--file", file, "--key", s.keyFile()}, cmd...)...)
			if live != replayed {
				t.Fatalf("live and replay differ:\n--- live\n%s\n--- replay\n%s", live, replayed)
			}
			if strings.TrimSpace(live) == "" {
				t.Fatalf("empty output")
			}
		})
	}
}

// logObjects reads the whole log with its objects through `strom log -o
// json`: the oracle the --at views are checked against.
func logObjects(t *testing.T, s *scenario) []api.LogEntry {
	t.Helper()
	var out []api.LogEntry
	for _, line := range strings.Split(strings.TrimSpace(s.live(t, "log", "-o", "json")), "\n") {
		var e api.LogEntry
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, e)
	}
	return out
}

// --at shows exactly the state after the given event, for namespaced and
// cluster-scoped kinds: every object that existed then, at the version it
// had then, and nothing else.
func TestAtIsExactlyTheStateAfterThatEvent(t *testing.T) {
	s := startScenarioCluster(t)
	s.write(t)
	log := logObjects(t, s)
	if uint64(len(log)) != s.end {
		t.Fatalf("log has %d events, want %d", len(log), s.end)
	}
	kinds := []string{"namespaces", "nodes", "clusterroles", "deployments", "replicasets", "pods", "secrets", "configmaps"}
	for _, at := range []uint64{4, 7, s.afterRollout1, s.afterSecretV1, s.afterRollout2, s.afterNodeFailure, s.end} {
		// Fold the oracle: resource → "ns/name" → resourceVersion.
		want := map[string]map[string]string{}
		for _, e := range log[:at] {
			m := want[e.Resource]
			if m == nil {
				m = map[string]string{}
				want[e.Resource] = m
			}
			key := e.Namespace + "/" + e.Name
			if e.Type == "Deleted" {
				delete(m, key)
			} else {
				m[key] = seqStr(e.Seq)
			}
		}
		for _, kind := range kinds {
			var list struct {
				Items []struct {
					Metadata struct{ Name, Namespace, ResourceVersion string }
				}
			}
			out := s.live(t, "get", kind, "-A", "-o", "json", "--at", seqStr(at))
			if err := json.Unmarshal([]byte(out), &list); err != nil {
				t.Fatalf("--at %d %s: %v\n%s", at, kind, err, out)
			}
			got := map[string]string{}
			for _, it := range list.Items {
				got[it.Metadata.Namespace+"/"+it.Metadata.Name] = it.Metadata.ResourceVersion
			}
			if fmt.Sprint(got) != fmt.Sprint(want[kind]) && !(len(got) == 0 && len(want[kind]) == 0) {
				t.Errorf("get %s --at %d = %v, want %v", kind, at, got, want[kind])
			}
		}
	}
	// describe --at shows the object as it was, with the replica sets of
	// that moment.
	old := s.live(t, "describe", "deploy/web", "-n", "shop", "--at", seqStr(s.afterRollout1))
	if !strings.Contains(old, "shop:1") || strings.Contains(old, "shop:2") || !strings.Contains(old, "web-1") || strings.Contains(old, "web-2") {
		t.Fatalf("describe --at %d:\n%s", s.afterRollout1, old)
	}
	now := s.live(t, "describe", "deploy/web", "-n", "shop")
	if !strings.Contains(now, "shop:2") || !strings.Contains(now, "web-2") {
		t.Fatalf("describe now:\n%s", now)
	}
	// A cluster-scoped object as it was before the node failed.
	node := s.live(t, "get", "node", "node-a", "-o", "json", "--at", seqStr(s.afterRollout2))
	if !strings.Contains(node, `"status": "True"`) {
		t.Fatalf("node --at %d:\n%s", s.afterRollout2, node)
	}
	// Times resolve to the last event at or before them: the writer clock
	// is fake but the stream's clock is real, so use RFC 3339 "now".
	if out := s.live(t, "get", "pods", "-n", "shop", "-o", "name", "--at", time.Now().UTC().Add(time.Hour).Format(time.RFC3339)); out != "pod/web-1-b\npod/web-2-a\n" {
		t.Fatalf("--at a future time: %q", out)
	}
}

// Secret values never appear in log, history (replayed), diff or trace
// output; with --key a replay can read them through get, without it
// they stay sealed.
func TestSecretsAreRedacted(t *testing.T) {
	s := startScenarioCluster(t)
	s.write(t)
	file := s.export(t)
	plain := []string{"s3cret-v1", "s3cret-v2", base64.StdEncoding.EncodeToString([]byte("s3cret-v1")), base64.StdEncoding.EncodeToString([]byte("s3cret-v2"))}
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range plain {
		if bytes.Contains(raw, []byte(p)) {
			t.Fatalf("the export holds the secret value %q in plain text", p)
		}
	}
	check := func(name, out string) {
		t.Helper()
		for _, p := range plain {
			if strings.Contains(out, p) {
				t.Fatalf("%s shows the secret value %q:\n%s", name, p, out)
			}
		}
	}
	from := seqStr(s.afterSecretV1 - 1)
	diff := s.live(t, "diff", "--from", seqStr(s.afterSecretV1), "secret/db", "-n", "shop")
	if !strings.Contains(diff, `~ data.password: "<redacted>" → "<redacted>"`) {
		t.Fatalf("diff does not say the password changed:\n%s", diff)
	}
	check("diff", diff)
	check("diff created", s.live(t, "diff", "--from", from, "-o", "json"))
	logJSON := s.live(t, "log", "--kind", "secrets", "-o", "json")
	if !strings.Contains(logJSON, `"password":"\u003credacted\u003e"`) && !strings.Contains(logJSON, `"password":"<redacted>"`) {
		t.Fatalf("log -o json lost the secret's keys:\n%s", logJSON)
	}
	check("log", logJSON)
	check("trace", s.live(t, "trace", "secret/db", "-n", "shop", "-o", "json"))
	for _, key := range [][]string{nil, {"--key", s.keyFile()}} {
		args := append([]string{"replay", "--file", file}, key...)
		check("replay log", mustCLI(t, append(args, "log", "-o", "json")...))
		check("replay history", mustCLI(t, append(args, "history", "secret/db", "-n", "shop", "-o", "json")...))
		check("replay diff", mustCLI(t, append(args, "diff", "--from", "0", "-o", "json")...))
		check("replay trace", mustCLI(t, append(args, "trace", "secret/db", "-n", "shop")...))
	}
	sealed := mustCLI(t, "replay", "--file", file, "get", "secret", "db", "-n", "shop", "-o", "yaml")
	check("replay get without key", sealed)
	if !strings.Contains(sealed, "strom.dev/sealed") {
		t.Fatalf("sealed secret shows no placeholder:\n%s", sealed)
	}
	opened := mustCLI(t, "replay", "--file", file, "--key", s.keyFile(), "get", "secret", "db", "-n", "shop", "-o", "yaml")
	if !strings.Contains(opened, base64.StdEncoding.EncodeToString([]byte("s3cret-v2"))) {
		t.Fatalf("replay --key cannot read the secret:\n%s", opened)
	}
	if _, errOut, code := runCLI("replay", "--file", file, "--key", filepath.Join(t.TempDir(), "nope"), "get", "pods"); code == 0 || !strings.Contains(errOut, "key") {
		t.Fatalf("missing key file: %d %q", code, errOut)
	}
}

// An export from the middle of the log carries the snapshot before it as
// its base, so every point from --from on replays exactly; points before
// the base say Gone.
func TestExportFromTheMiddleHasABase(t *testing.T) {
	s := startScenarioCluster(t)
	s.write(t)
	// A snapshot as the projection writes them, at the secret's creation.
	if _, err := s.d.Projection().WriteSnapshot(context.Background()); err != nil {
		t.Fatal(err)
	}
	snaps, err := s.d.Projection().Snapshots(context.Background())
	if err != nil || len(snaps) != 1 {
		t.Fatalf("snapshots %v %v", snaps, err)
	}
	for i := 0; i < 3; i++ {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "late-" + strconv.Itoa(i), Namespace: "shop"}}
		if _, err := s.d.Writer().Apply(context.Background(), cm, events.WriteOptions{Actor: "tester", Cause: "req:late"}); err != nil {
			t.Fatal(err)
		}
	}
	logtest.Eventually(t, 10*time.Second, func() error { return s.d.Projection().Store().WaitFor(context.Background(), s.lastSeq(t)) })
	// Export from after that snapshot: records start right after it.
	file := s.export(t, "--from", seqStr(snaps[0]+1))
	replay := func(args ...string) (string, string, int) {
		return runCLI(append([]string{"replay", "--file", file, "--key", s.keyFile()}, args...)...)
	}
	out, _, code := replay("get", "ns", "-o", "name", "--at", seqStr(snaps[0]))
	if code != 0 || !strings.Contains(out, "namespace/shop") {
		t.Fatalf("the base view lacks what came before the export: %d %q", code, out)
	}
	for _, kind := range []string{"all", "cm", "ns", "nodes", "secrets", "clusterroles"} {
		if got, want := mustCLI(t, "replay", "--file", file, "--key", s.keyFile(), "get", kind, "-A", "-o", "json"), s.live(t, "get", kind, "-A", "-o", "json"); got != want {
			t.Fatalf("replayed %s %q, live %q", kind, got, want)
		}
	}
	if out := mustCLI(t, "replay", "--file", file, "log"); strings.Count(out, "\n") != 3 || !strings.Contains(out, "shop/late-2") {
		t.Fatalf("the export's records:\n%s", out)
	}
	// Without the key the base snapshot's Secrets stay sealed.
	sealed := mustCLI(t, "replay", "--file", file, "get", "secret", "db", "-n", "shop", "-o", "yaml", "--at", seqStr(snaps[0]))
	if !strings.Contains(sealed, "strom.dev/sealed") || strings.Contains(sealed, "password") {
		t.Fatalf("base snapshot secret without key:\n%s", sealed)
	}
	_, errOut, code := replay("get", "pods", "-A", "--at", "3")
	if code == 0 || !strings.Contains(errOut, "(Gone)") {
		t.Fatalf("--at before the export's base: %d %q", code, errOut)
	}
	info, _, _ := replay("stream", "info")
	if !strings.Contains(info, "Replayable:    from #"+seqStr(snaps[0])) {
		t.Fatalf("stream info of the export:\n%s", info)
	}
	// A failed export leaves no file that could pass for a whole one.
	bad := filepath.Join(t.TempDir(), "bad.stromlog")
	_, errOut, code = runCLI("--config", s.d.AdminConfig, "log", "export", "--from", "10", "--to", "5", "--file", bad)
	if code == 0 || !strings.Contains(errOut, "--from #10 is after --to #5") {
		t.Fatalf("export --from 10 --to 5: %d %q", code, errOut)
	}
	if _, err := os.Stat(bad); !os.IsNotExist(err) {
		t.Fatalf("a failed export left %s behind (%v)", bad, err)
	}
	// A whole-log export from the live cluster checks clean, snapshot
	// included.
	check := s.live(t, "stream", "check")
	if !strings.Contains(check, "#"+seqStr(snaps[0])+" ok") || !strings.HasSuffix(check, "OK\n") {
		t.Fatalf("stream check:\n%s", check)
	}
}

// --follow prints events appended after it started, as they come.
func TestLogFollow(t *testing.T) {
	s := startScenarioCluster(t)
	start := s.lastSeq(t)
	type result struct {
		out, errOut string
		code        int
	}
	done := make(chan result, 1)
	go func() {
		o, e, c := runCLI("--config", s.d.AdminConfig, "log", "-f", "--from", seqStr(start+1), "--kind", "configmaps", "--max", "3")
		done <- result{o, e, c}
	}()
	for i := 0; i < 3; i++ {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "followed-" + strconv.Itoa(i), Namespace: "default"}}
		if _, err := s.d.Writer().Apply(context.Background(), cm, events.WriteOptions{Actor: "tester", Cause: "req:follow"}); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case r := <-done:
		if r.code != 0 {
			t.Fatalf("log -f: exit %d: %s", r.code, r.errOut)
		}
		lines := strings.Split(strings.TrimSpace(r.out), "\n")
		if len(lines) != 3 {
			t.Fatalf("log -f printed %d lines:\n%s", len(lines), r.out)
		}
		for i, l := range lines {
			if !strings.Contains(l, "default/followed-"+strconv.Itoa(i)) || !strings.Contains(l, "actor=tester cause=req:follow") {
				t.Fatalf("line %d: %q", i, l)
			}
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("log -f did not print the new events within 30s")
	}
}

// stromd --replay serves a read-only control plane from a file: the usual
// admin.conf and CLI, reads and time travel answered, writes refused.
func TestStromdReplayServesReadOnly(t *testing.T) {
	d := clustertest.StartStromd(t, func(c *app.Config) { c.Replay, c.ReplayKey = recordedLog, recordedKey })
	strom := func(args ...string) (string, string, int) {
		return runCLI(append([]string{"--config", d.AdminConfig}, args...)...)
	}
	out, errOut, code := strom("get", "pods", "-n", "shop", "-o", "name")
	if code != 0 || out != "pod/web-1-b\npod/web-2-a\n" {
		t.Fatalf("get pods: %d %q %q", code, out, errOut)
	}
	out, _, code = strom("trace", "pod/web-1-a", "-n", "shop", "--why")
	if code != 0 || !strings.Contains(out, `cause "heartbeat-expired:node-a"`) {
		t.Fatalf("trace --why: %d\n%s", code, out)
	}
	var outb, errb bytes.Buffer
	code = run([]string{"--config", d.AdminConfig, "apply", "-f", "-"}, strings.NewReader("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"), &outb, &errb)
	if code == 0 || !strings.Contains(errb.String(), "(Forbidden)") || !strings.Contains(errb.String(), "read-only") {
		t.Fatalf("apply on a replay: %d %q", code, errb.String())
	}
	out, _, _ = strom("stream", "info")
	if !strings.Contains(out, "Source:        file:") {
		t.Fatalf("stream info:\n%s", out)
	}
}

// stream info lists every consumer with its lag in events and seconds,
// and the oldest replayable point.
func TestStreamInfoConsumerLag(t *testing.T) {
	d := clustertest.StartStromd(t, func(c *app.Config) { c.NoControllers = true })
	ctx := context.Background()
	js := d.JetStream()
	first, err := events.LastSeq(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	// A durable consumer that reads nothing: it falls behind by every
	// event after it was created.
	if _, err := js.CreateOrUpdateConsumer(ctx, events.StreamName, jetstream.ConsumerConfig{
		Durable: "laggard", FilterSubject: events.KindSubjects("configmaps", ""), DeliverPolicy: jetstream.DeliverNewPolicy, AckPolicy: jetstream.AckExplicitPolicy,
	}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 4; i++ {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "c" + strconv.Itoa(i), Namespace: "default"}}
		if _, err := d.Writer().Apply(ctx, cm, events.WriteOptions{Actor: "t"}); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(1100 * time.Millisecond) // the oldest pending event must be over a second old
	var info struct {
		api.StreamInfo
		Replay api.StreamExtra `json:"replay"`
	}
	out := mustCLI(t, "--config", d.AdminConfig, "stream", "info", "-o", "json")
	if err := json.Unmarshal([]byte(out), &info); err != nil {
		t.Fatal(err)
	}
	var lag *api.ConsumerInfo
	for i := range info.Consumers {
		if info.Consumers[i].Name == "laggard" {
			lag = &info.Consumers[i]
		}
	}
	if lag == nil || lag.Pending != 4 || lag.LagSeconds < 1 || lag.LagSeconds > 60 || lag.Delivered > first {
		t.Fatalf("laggard consumer: %+v (stream at #%d)", lag, first)
	}
	if !info.Replay.ReplayableOK || info.Replay.Replayable != 0 || info.Replay.Source != "live" {
		t.Fatalf("replayable: %+v", info.Replay)
	}
	text := mustCLI(t, "--config", d.AdminConfig, "stream", "info")
	if !strings.Contains(text, "laggard") || !strings.Contains(text, "Replayable:    from the beginning") {
		t.Fatalf("stream info:\n%s", text)
	}
}
