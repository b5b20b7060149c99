package app

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/api"
)

// The holes a node's credential opened (issue "Security", item 0), each
// closed and tested from the attacker's side.

func startSecured(t *testing.T) *Stromd {
	t.Helper()
	d, err := Start(context.Background(), Config{DataDir: t.TempDir(), Listen: "127.0.0.1:0", NoAgent: true, NodeName: "n1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Stop)
	return d
}

func dial(t *testing.T, c *api.Config) *api.Client {
	t.Helper()
	cl, err := api.Dial(c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func adminOf(t *testing.T, d *Stromd) *api.Client {
	t.Helper()
	c, err := api.LoadConfig(d.AdminConfig)
	if err != nil {
		t.Fatal(err)
	}
	return dial(t, c)
}

func nodeOf(t *testing.T, d *Stromd, node string) *api.Client {
	t.Helper()
	c, err := d.NodeConfig(node)
	if err != nil {
		t.Fatal(err)
	}
	return dial(t, c)
}

func do(t *testing.T, c *api.Client, verb string, req *api.Request) (*api.Response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return c.Do(ctx, verb, req)
}

func must(t *testing.T, c *api.Client, verb string, req *api.Request) *api.Response {
	t.Helper()
	resp, err := do(t, c, verb, req)
	if err != nil {
		t.Fatalf("%s %s/%s: %v", verb, req.Resource, req.Name, err)
	}
	return resp
}

func obj(s string) *api.Request { return &api.Request{Object: json.RawMessage(s)} }

// agent.conf holds this node's own credential, never the server's or a
// shared one; a node's credential is refused everything but its node's
// business, with kube-apiserver's Forbidden.
func TestNodeCredentialServesOnlyItsNode(t *testing.T) {
	d := startSecured(t)
	cfg, err := api.LoadConfig(d.AgentConfig)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.User != api.NodeUser("n1") {
		t.Fatalf("agent.conf user %q, want node n1's own", cfg.User)
	}
	admin := adminOf(t, d)
	for _, o := range []string{
		`{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"other"}}`,
		`{"apiVersion":"v1","kind":"Secret","metadata":{"name":"mounted"},"stringData":{"k":"v"}}`,
		`{"apiVersion":"v1","kind":"Secret","metadata":{"name":"unrelated"},"stringData":{"k":"v"}}`,
		`{"apiVersion":"v1","kind":"Secret","metadata":{"name":"elsewhere","namespace":"other"},"stringData":{"k":"v"}}`,
		`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"own"},"spec":{"nodeName":"n1","containers":[{"name":"c","image":"x"}],"volumes":[{"name":"s","secret":{"secretName":"mounted"}}]}}`,
		`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"theirs"},"spec":{"nodeName":"n2","containers":[{"name":"c","image":"x","envFrom":[{"secretRef":{"name":"unrelated"}}]}]}}`,
	} {
		must(t, admin, api.VerbApply, obj(o))
	}
	node := dial(t, cfg)

	// What its agent needs works.
	must(t, node, api.VerbApply, obj(`{"apiVersion":"v1","kind":"Node","metadata":{"name":"n1"}}`))
	must(t, node, api.VerbGet, &api.Request{Resource: "secrets", Namespace: "default", Name: "mounted"})
	if r := must(t, node, api.VerbList, &api.Request{Resource: "pods", AllNamespaces: true, FieldSelector: "spec.nodeName=n1"}); len(r.Items) != 1 {
		t.Fatalf("node n1 lists %d of its pods, want 1", len(r.Items))
	}
	must(t, node, api.VerbGet, &api.Request{Resource: "pods", Namespace: "default", Name: "own"})
	must(t, node, api.VerbList, &api.Request{Resource: "services", AllNamespaces: true})
	own := must(t, admin, api.VerbGet, &api.Request{Resource: "pods", Namespace: "default", Name: "own"})
	var pod map[string]any
	_ = json.Unmarshal(own.Object, &pod)
	pod["status"] = map[string]any{"phase": "Running"}
	data, _ := json.Marshal(pod)
	must(t, node, api.VerbStatus, &api.Request{Object: data})

	// What an attacker with it tried is refused, naming the node.
	refused := []struct {
		what string
		verb string
		req  *api.Request
		msg  string
	}{
		{"create a Deployment", api.VerbApply, obj(`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"evil"},"spec":{"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"x"}]}}}}`),
			`deployments.apps "evil" is forbidden: User "system:node:n1" cannot patch resource "deployments" in API group "apps" in the namespace "default"`},
		{"delete another node's pod", api.VerbDelete, &api.Request{Resource: "pods", Namespace: "default", Name: "theirs"}, `pods "theirs" is forbidden`},
		{"read another node's pod", api.VerbGet, &api.Request{Resource: "pods", Namespace: "default", Name: "theirs"}, `only pods bound to itself`},
		{"delete a namespace", api.VerbDelete, &api.Request{Resource: "namespaces", Name: "other"}, `namespaces "other" is forbidden`},
		{"read a Secret no pod of it mounts", api.VerbGet, &api.Request{Resource: "secrets", Namespace: "default", Name: "unrelated"}, `no relationship found between node "n1" and this object`},
		{"read a Secret of another namespace", api.VerbGet, &api.Request{Resource: "secrets", Namespace: "other", Name: "elsewhere"}, `secrets "elsewhere" is forbidden`},
		{"list every Secret", api.VerbList, &api.Request{Resource: "secrets", AllNamespaces: true}, `secrets is forbidden`},
		{"list every pod", api.VerbList, &api.Request{Resource: "pods", AllNamespaces: true}, `may list only its own pods`},
		{"register as another node", api.VerbApply, obj(`{"apiVersion":"v1","kind":"Node","metadata":{"name":"n2"}}`), `only its own Node object`},
		{"create a pod", api.VerbCreate, obj(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"nodeName":"n1","containers":[{"name":"c","image":"x"}]}}`), `only static pods`},
		{"read the log", api.VerbHistory, &api.Request{Resource: "secrets", Namespace: "default", Name: "unrelated"}, `serves only its node`},
		{"read the past", api.VerbGet, &api.Request{Resource: "pods", Namespace: "default", Name: "own", At: "1"}, `may not read history`},
		{"ask for a node credential", api.VerbJoin, &api.Request{Params: map[string]string{"node": "n2"}}, `only a joining node`},
	}
	for _, r := range refused {
		_, err := do(t, node, r.verb, r.req)
		if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), r.msg) {
			t.Errorf("%s: %v, want Forbidden containing %q", r.what, err, r.msg)
		}
	}
	// Nothing was written by the refused requests.
	for _, k := range []struct{ res, ns, name string }{{"pods", "default", "theirs"}, {"namespaces", "", "other"}} {
		r := must(t, admin, api.VerbGet, &api.Request{Resource: k.res, Namespace: k.ns, Name: k.name})
		if strings.Contains(string(r.Object), "deletionTimestamp") {
			t.Errorf("%s %s is being deleted after a refused delete", k.res, k.name)
		}
	}
	if _, err := do(t, admin, api.VerbGet, &api.Request{Resource: "deployments", Namespace: "default", Name: "evil"}); !apierrors.IsNotFound(err) {
		t.Errorf("the refused Deployment: %v, want NotFound", err)
	}
	// Writes the node made are recorded as system:node:n1.
	h := must(t, admin, api.VerbHistory, &api.Request{Resource: "nodes", Name: "n1"})
	if len(h.History) == 0 || h.History[0].Actor != "system:node:n1" {
		t.Errorf("node n1's own write recorded as %+v, want actor system:node:n1", h.History)
	}
}

// A wrong node password, a node user for a name it is not, and the old
// shared "agent" user are refused at connect.
func TestNodeCredentialsAreOwnAndUnforgeable(t *testing.T) {
	d := startSecured(t)
	n1, _ := d.NodeConfig("n1")
	n2, _ := d.NodeConfig("n2")
	if n1.Password == n2.Password {
		t.Fatal("two nodes share a password")
	}
	for _, c := range []*api.Config{
		{Server: d.URL, User: n2.User, Password: n1.Password},
		{Server: d.URL, User: "agent", Password: n1.Password},
		{Server: d.URL, User: "stromd", Password: n1.Password},
		{Server: d.URL, User: api.AdminUser, Password: n1.Password},
	} {
		if cl, err := api.Dial(c); err == nil {
			cl.Close()
			t.Errorf("user %q connected with node n1's password", c.User)
		}
	}
}

// Every user may subscribe to its own inbox only: a node cannot read the
// admin's replies (a Secret in clear) or anyone's exec input.
func TestRepliesAndStdinArePrivate(t *testing.T) {
	d := startSecured(t)
	admin := adminOf(t, d)
	must(t, admin, api.VerbApply, obj(`{"apiVersion":"v1","kind":"Secret","metadata":{"name":"top"},"stringData":{"password":"hunter2"}}`))
	n1, _ := d.NodeConfig("n1")

	var mu sync.Mutex
	var violations []string
	nc, err := nats.Connect(d.URL, nats.UserInfo(n1.User, n1.Password), nats.CustomInboxPrefix(api.InboxPrefix(n1.User)),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			mu.Lock()
			violations = append(violations, err.Error())
			mu.Unlock()
		}))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	var seen sync.Map
	for _, subj := range []string{"_INBOX.>", api.InboxPrefix(api.AdminUser) + ".>", api.StdinPrefix + ">", api.StdinPrefix + "n2.>", "strom.node.n2.>", "strom.api.>"} {
		if _, err := nc.Subscribe(subj, func(m *nats.Msg) { seen.Store(m.Subject, string(m.Data)) }); err != nil {
			t.Fatal(err)
		}
	}
	_ = nc.Flush()
	r := must(t, admin, api.VerbGet, &api.Request{Resource: "secrets", Namespace: "default", Name: "top"})
	if !strings.Contains(string(r.Object), "aHVudGVyMg==") { // hunter2, merged from stringData into data
		t.Fatalf("the admin's own read: %s", r.Object)
	}
	time.Sleep(200 * time.Millisecond)
	seen.Range(func(k, v any) bool {
		t.Errorf("node n1 read %s: %.80s", k, v)
		return true
	})
	mu.Lock()
	defer mu.Unlock()
	if len(violations) != 6 {
		t.Errorf("%d permission violations for 6 foreign subscriptions: %v", len(violations), violations)
	}
}

// A node renews its own heartbeat only: it can neither keep another
// node's lease alive nor delete it, and it cannot read the event log.
func TestNodeWritesOnlyItsOwnLeaseAndNoLog(t *testing.T) {
	d := startSecured(t)
	n1, _ := d.NodeConfig("n1")
	nc, err := nats.Connect(d.URL, nats.UserInfo(n1.User, n1.Password), nats.CustomInboxPrefix(api.InboxPrefix(n1.User)))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	kv, err := js.KeyValue(ctx, events.LeaseBucket)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, events.LeaseKey("n1"), []byte("{}")); err != nil {
		t.Fatalf("own heartbeat: %v", err)
	}
	short := func() (context.Context, context.CancelFunc) { return context.WithTimeout(ctx, time.Second) }
	c1, cancel1 := short()
	defer cancel1()
	if _, err := kv.Put(c1, events.LeaseKey("n2"), []byte("{}")); err == nil {
		t.Error("node n1 renewed node n2's heartbeat")
	}
	c2, cancel2 := short()
	defer cancel2()
	if err := kv.Delete(c2, events.LeaseKey("n2")); err == nil {
		t.Error("node n1 deleted node n2's heartbeat")
	}
	c3, cancel3 := short()
	defer cancel3()
	if _, err := js.Stream(c3, events.StreamName); err == nil {
		t.Error("node n1 reads the event stream")
	}
	// The admin sees only n1's key.
	admin, _ := jetstream.New(d.Conn())
	akv, err := admin.KeyValue(ctx, events.LeaseBucket)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := akv.Get(ctx, events.LeaseKey("n2")); !errors.Is(err, jetstream.ErrKeyNotFound) {
		t.Errorf("node n2's key after n1's attempts: %v", err)
	}
}

// A client cannot write an audit trail it made up: the server sets the
// cause; a client may only name a request id, kept in its own namespace.
func TestCausesAreSetByTheServer(t *testing.T) {
	d := startSecured(t)
	admin := adminOf(t, d)
	cm := func(name string) json.RawMessage {
		return json.RawMessage(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"` + name + `"}}`)
	}
	must(t, admin, api.VerbApply, &api.Request{Object: cm("a")})
	must(t, admin, api.VerbApply, &api.Request{Object: cm("b"), Cause: "req:batch-1"})
	// An id that looks like an event's becomes a request of the admin's.
	must(t, admin, api.VerbApply, &api.Request{Object: cm("e"), Cause: "0123456789abcdef-controller"})
	for _, forged := range []string{"seq:5", "req:node:n2/x", "system:gc", "01234.5", "req:"} {
		if _, err := do(t, admin, api.VerbApply, &api.Request{Object: cm("c"), Cause: forged}); !apierrors.IsBadRequest(err) {
			t.Errorf("cause %q: %v, want BadRequest", forged, err)
		}
	}
	causeOf := func(name string) string {
		h := must(t, admin, api.VerbHistory, &api.Request{Resource: "configmaps", Namespace: "default", Name: name})
		return h.History[len(h.History)-1].Cause
	}
	if c := causeOf("a"); !strings.HasPrefix(c, "req:") || strings.Contains(c, "/") {
		t.Errorf("a write without a cause has %q, want a fresh req:<id>", c)
	}
	if c := causeOf("b"); c != "req:admin/batch-1" {
		t.Errorf("a named request has cause %q, want req:admin/batch-1", c)
	}
	if c := causeOf("e"); c != "req:admin/0123456789abcdef-controller" {
		t.Errorf("an event-like cause is kept as %q, want it in the admin's request namespace", c)
	}
	if _, err := do(t, admin, api.VerbGet, &api.Request{Resource: "configmaps", Namespace: "default", Name: "c"}); !apierrors.IsNotFound(err) {
		t.Errorf("a write with a forged cause was stored: %v", err)
	}
}

// A machine with the join token gets its node's own credential and
// nothing else; a wrong token does not connect.
func TestJoinTokenIssuesANodeCredential(t *testing.T) {
	d := startSecured(t)
	data, err := os.ReadFile(d.JoinToken)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(d.JoinToken); st.Mode().Perm() != 0o600 {
		t.Errorf("join-token mode %v", st.Mode().Perm())
	}
	token := strings.TrimSpace(string(data))
	if cl, err := api.Dial(&api.Config{Server: d.URL, User: api.JoinUser, Password: token + "x"}); err == nil {
		cl.Close()
		t.Fatal("a wrong join token connected")
	}
	join := dial(t, &api.Config{Server: d.URL, User: api.JoinUser, Password: token})
	if _, err := do(t, join, api.VerbList, &api.Request{Resource: "pods", AllNamespaces: true}); err == nil {
		t.Error("the join user listed pods")
	}
	if _, err := do(t, join, api.VerbJoin, &api.Request{Params: map[string]string{"node": "Bad_Name"}}); !apierrors.IsInvalid(err) {
		t.Errorf("join with a bad node name: %v, want Invalid", err)
	}
	resp := must(t, join, api.VerbJoin, &api.Request{Params: map[string]string{"node": "n7.example"}})
	var res api.JoinResult
	if err := json.Unmarshal(resp.Data, &res); err != nil {
		t.Fatal(err)
	}
	want, _ := d.NodeConfig("n7.example")
	if res.User != want.User || res.Password != want.Password {
		t.Fatalf("join gave %q, want node n7.example's credential", res.User)
	}
	node := dial(t, &api.Config{Server: d.URL, User: res.User, Password: res.Password})
	must(t, node, api.VerbApply, obj(`{"apiVersion":"v1","kind":"Node","metadata":{"name":"n7.example"}}`))
}

// On an external NATS, agent.conf never gets stromd's own user: refused
// when asked for, and not written at all without a user of the agents'.
func TestAgentConfigIsNeverTheServers(t *testing.T) {
	ns := startUserNATS(t)
	dir := t.TempDir()
	_, err := Start(context.Background(), Config{DataDir: dir, NATSURL: ns, NATSUser: "strom", NATSPassword: "pw",
		AgentNATSUser: "strom", NoAgent: true, NoControllers: true})
	if err == nil || !strings.Contains(err.Error(), "--agent-nats-user") {
		t.Fatalf("agent user = server user: %v, want an error naming --agent-nats-user", err)
	}
	d, err := Start(context.Background(), Config{DataDir: t.TempDir(), NATSURL: ns, NATSUser: "strom", NATSPassword: "pw", NoAgent: true, NoControllers: true})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	if _, err := os.Stat(d.AgentConfig); !os.IsNotExist(err) {
		t.Fatalf("agent.conf written with no agent user of its own: %v", err)
	}
}

// startUserNATS is an external JetStream server with one user, strom/pw.
func startUserNATS(t *testing.T) string {
	t.Helper()
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, JetStream: true,
		StoreDir: t.TempDir(), NoSigs: true, NoLog: true, Users: []*server.User{{Username: "strom", Password: "pw"}}})
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server not ready")
	}
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	return s.ClientURL()
}
