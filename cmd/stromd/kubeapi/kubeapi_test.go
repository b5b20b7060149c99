package kubeapi_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"

	"github.com/strom-project/strom/cmd/stromd/app"
	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/api"
	"github.com/strom-project/strom/test/clustertest"
)

// startAPI runs stromd in-process with the Kubernetes HTTPS API on a free
// loopback port and returns a client-go clientset for its kubeconfig.
func startAPI(t *testing.T) (*app.Stromd, *rest.Config, kubernetes.Interface) {
	t.Helper()
	d := clustertest.StartStromd(t, func(c *app.Config) { c.APIListen = "127.0.0.1:0" })
	if d.Kubeconfig == "" || d.KubeAPI == "" {
		t.Fatalf("stromd started without the Kubernetes API (kubeconfig %q, address %q)", d.Kubeconfig, d.KubeAPI)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", d.Kubeconfig)
	if err != nil {
		t.Fatalf("loading %s: %v", d.Kubeconfig, err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d, cfg, cs
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestCRUDThroughClientGo(t *testing.T) {
	_, _, cs := startAPI(t)
	ctx := ctxT(t)
	cms := cs.CoreV1().ConfigMaps("default")

	created, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "one", Labels: map[string]string{"app": "x"}},
		Data: map[string]string{"k": "v"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if created.UID == "" || created.ResourceVersion == "" || created.CreationTimestamp.IsZero() {
		t.Fatalf("created object lacks server metadata: %+v", created.ObjectMeta)
	}
	if _, err := cms.Create(ctx, created.DeepCopy(), metav1.CreateOptions{}); !apierrors.IsAlreadyExists(err) {
		t.Fatalf("second create: want AlreadyExists, got %v", err)
	}
	got, err := cms.Get(ctx, "one", metav1.GetOptions{})
	if err != nil || got.Data["k"] != "v" || got.ResourceVersion != created.ResourceVersion {
		t.Fatalf("get: %v %+v", err, got)
	}

	// Optimistic concurrency: an update from a stale resourceVersion is a
	// 409 and changes nothing.
	got.Data["k"] = "v2"
	updated, err := cms.Update(ctx, got, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	stale := created.DeepCopy()
	stale.Data["k"] = "lost"
	if _, err := cms.Update(ctx, stale, metav1.UpdateOptions{}); !apierrors.IsConflict(err) {
		t.Fatalf("stale update: want Conflict, got %v", err)
	}
	// Unconditional update (no resourceVersion), as helm sends.
	uncond := updated.DeepCopy()
	uncond.ResourceVersion = ""
	uncond.Data["k"] = "v3"
	if _, err := cms.Update(ctx, uncond, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("unconditional update: %v", err)
	}

	// Patches of each type.
	if _, err := cms.Patch(ctx, "one", types.MergePatchType, []byte(`{"data":{"m":"1"}}`), metav1.PatchOptions{}); err != nil {
		t.Fatalf("merge patch: %v", err)
	}
	if _, err := cms.Patch(ctx, "one", types.JSONPatchType, []byte(`[{"op":"add","path":"/data/j","value":"2"}]`), metav1.PatchOptions{}); err != nil {
		t.Fatalf("json patch: %v", err)
	}
	if _, err := cms.Patch(ctx, "one", types.StrategicMergePatchType, []byte(`{"data":{"s":"3"}}`), metav1.PatchOptions{}); err != nil {
		t.Fatalf("strategic merge patch: %v", err)
	}
	got, _ = cms.Get(ctx, "one", metav1.GetOptions{})
	if got.Data["m"] != "1" || got.Data["j"] != "2" || got.Data["s"] != "3" || got.Data["k"] != "v3" {
		t.Fatalf("after patches: %v", got.Data)
	}
	if _, err := cms.Patch(ctx, "one", types.JSONPatchType, []byte(`[{"op":"test","path":"/data/k","value":"nope"}]`), metav1.PatchOptions{}); err == nil {
		t.Fatal("a JSON patch whose test fails was applied")
	}

	// Dry run writes nothing.
	if _, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "dry"}}, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}); err != nil {
		t.Fatalf("dry-run create: %v", err)
	}
	if _, err := cms.Get(ctx, "dry", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("dry-run create stored the object: %v", err)
	}

	// generateName.
	gen, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{GenerateName: "gen-"}}, metav1.CreateOptions{})
	if err != nil || !strings.HasPrefix(gen.Name, "gen-") || len(gen.Name) <= len("gen-") {
		t.Fatalf("generateName: %v %q", err, gen.GetName())
	}

	// List with a label selector, then pages.
	list, err := cms.List(ctx, metav1.ListOptions{LabelSelector: "app=x"})
	if err != nil || len(list.Items) != 1 || list.Items[0].Name != "one" {
		t.Fatalf("list app=x: %v %+v", err, list)
	}
	for i := range 5 {
		if _, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "page-" + string(rune('a'+i))}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	opts := metav1.ListOptions{Limit: 2}
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("paging does not end")
		}
		page, err := cms.List(ctx, opts)
		if err != nil {
			t.Fatalf("page %d: %v", pages, err)
		}
		if len(page.Items) > 2 {
			t.Fatalf("page of %d items with limit 2", len(page.Items))
		}
		for _, it := range page.Items {
			names = append(names, it.Name)
		}
		if page.Continue == "" {
			break
		}
		opts.Continue = page.Continue
		// A write between pages does not show in the list being paged.
		if pages == 0 {
			if _, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "zz-late"}}, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := "gen one page-a page-b page-c page-d page-e"
	if got := strings.Join(names, " "); !strings.HasPrefix(got, "gen-") || !strings.HasSuffix(got, want[len("gen"):]) || strings.Contains(got, "zz-late") {
		t.Fatalf("paged list: %s", got)
	}

	// Delete with a stale resourceVersion precondition is a conflict.
	if err := cms.Delete(ctx, "one", metav1.DeleteOptions{Preconditions: &metav1.Preconditions{ResourceVersion: ptr.To(created.ResourceVersion)}}); !apierrors.IsConflict(err) {
		t.Fatalf("delete with a stale precondition: want Conflict, got %v", err)
	}
	if err := cms.Delete(ctx, "one", metav1.DeleteOptions{}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := cms.Get(ctx, "one", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("get after delete: %v", err)
	}
	if err := cms.DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{LabelSelector: "!app"}); err != nil {
		t.Fatalf("deletecollection: %v", err)
	}
	if list, _ := cms.List(ctx, metav1.ListOptions{}); len(list.Items) != 0 {
		t.Fatalf("after deletecollection: %d left", len(list.Items))
	}
}

func TestServerSideApplyKeepsManagedFields(t *testing.T) {
	_, _, cs := startAPI(t)
	ctx := ctxT(t)
	deps := cs.AppsV1().Deployments("default")
	manifest := func(replicas int, withPort bool) []byte {
		port := ""
		if withPort {
			port = `,"ports":[{"containerPort":80}]`
		}
		return []byte(`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","labels":{"a":"b"}},"spec":{"replicas":` +
			string(rune('0'+replicas)) + `,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"c","image":"busybox"` + port + `}]}}}}`)
	}
	if _, err := deps.Patch(ctx, "web", types.ApplyPatchType, manifest(2, true), metav1.PatchOptions{FieldManager: "alice"}); err != nil {
		t.Fatalf("first apply: %v", err)
	}
	d, err := deps.Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.ManagedFields) == 0 || d.ManagedFields[0].Manager != "alice" || d.ManagedFields[0].Operation != metav1.ManagedFieldsOperationApply {
		t.Fatalf("managedFields after apply: %+v", d.ManagedFields)
	}
	// A second apply that leaves the port out removes it (it is owned by
	// alice alone), as only managedFields make possible.
	if _, err := deps.Patch(ctx, "web", types.ApplyPatchType, manifest(2, false), metav1.PatchOptions{FieldManager: "alice"}); err != nil {
		t.Fatalf("second apply: %v", err)
	}
	d, _ = deps.Get(ctx, "web", metav1.GetOptions{})
	if ports := d.Spec.Template.Spec.Containers[0].Ports; len(ports) != 0 {
		t.Fatalf("the removed port is still there: %+v", ports)
	}
	// Another manager changing alice's field conflicts, naming alice.
	_, err = deps.Patch(ctx, "web", types.ApplyPatchType, manifest(5, false), metav1.PatchOptions{FieldManager: "bob"})
	if !apierrors.IsConflict(err) || !strings.Contains(err.Error(), `"alice"`) {
		t.Fatalf("bob's apply: want a conflict naming alice, got %v", err)
	}
	if _, err := deps.Patch(ctx, "web", types.ApplyPatchType, manifest(5, false), metav1.PatchOptions{FieldManager: "bob", Force: ptr.To(true)}); err != nil {
		t.Fatalf("forced apply: %v", err)
	}
	d, _ = deps.Get(ctx, "web", metav1.GetOptions{})
	if *d.Spec.Replicas != 5 {
		t.Fatalf("replicas after bob's forced apply: %d", *d.Spec.Replicas)
	}

	// The scale subresource, read-modify-write as clients do it (the
	// deployment controller writes status meanwhile, a conflict).
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		sc, err := deps.GetScale(ctx, "web", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if sc.Spec.Replicas != 5 || sc.Status.Selector != "app=web" {
			t.Fatalf("scale: %+v", sc)
		}
		sc.Spec.Replicas = 1
		_, err = deps.UpdateScale(ctx, "web", sc, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatalf("update scale: %v", err)
	}
	d, _ = deps.Get(ctx, "web", metav1.GetOptions{})
	if *d.Spec.Replicas != 1 {
		t.Fatalf("replicas after scale: %d", *d.Spec.Replicas)
	}
}

func TestWatch(t *testing.T) {
	_, _, cs := startAPI(t)
	ctx := ctxT(t)
	cms := cs.CoreV1().ConfigMaps("default")
	first, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "w1"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// A watch from the first object's resourceVersion replays what came
	// after it from the log, then follows live changes.
	if _, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "w2"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	w, err := cms.Watch(ctx, metav1.ListOptions{ResourceVersion: first.ResourceVersion})
	if err != nil {
		t.Fatalf("watch: %v", err)
	}
	defer w.Stop()
	if _, err := cms.Patch(ctx, "w1", types.MergePatchType, []byte(`{"data":{"a":"b"}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := cms.Delete(ctx, "w2", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	want := []string{"ADDED w2", "MODIFIED w1", "DELETED w2"}
	for i, wt := range want {
		select {
		case ev := <-w.ResultChan():
			cm, ok := ev.Object.(*corev1.ConfigMap)
			if !ok {
				t.Fatalf("event %d: %s %T", i, ev.Type, ev.Object)
			}
			if got := string(ev.Type) + " " + cm.Name; got != wt {
				t.Fatalf("event %d: got %s, want %s", i, got, wt)
			}
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", wt, ctx.Err())
		}
	}

	// Watch-list: the initial objects, then a bookmark marking their end.
	wl, err := cms.Watch(ctx, metav1.ListOptions{SendInitialEvents: ptr.To(true), AllowWatchBookmarks: true,
		ResourceVersionMatch: metav1.ResourceVersionMatchNotOlderThan})
	if err != nil {
		t.Fatalf("watch-list: %v", err)
	}
	defer wl.Stop()
	var initial []string
	for done := false; !done; {
		select {
		case ev := <-wl.ResultChan():
			m, _ := ev.Object.(*corev1.ConfigMap)
			switch ev.Type {
			case watch.Added:
				initial = append(initial, m.Name)
			case watch.Bookmark:
				if m.Annotations["k8s.io/initial-events-end"] != "true" || m.ResourceVersion == "" {
					t.Fatalf("bookmark without the end mark: %+v", m.ObjectMeta)
				}
				done = true
			default:
				t.Fatalf("unexpected %s during the initial events", ev.Type)
			}
		case <-ctx.Done():
			t.Fatal("no initial-events bookmark")
		}
	}
	if strings.Join(initial, ",") != "w1" {
		t.Fatalf("initial events: %v", initial)
	}

	// A watch from a resourceVersion ahead of the log is refused.
	_, err = cms.Watch(ctx, metav1.ListOptions{ResourceVersion: "999999999"})
	if err == nil {
		t.Fatal("a watch from the future was accepted")
	}
}

func TestTimeTravelList(t *testing.T) {
	_, _, cs := startAPI(t)
	ctx := ctxT(t)
	cms := cs.CoreV1().ConfigMaps("default")
	a, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "a"}, Data: map[string]string{"v": "1"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cms.Patch(ctx, "a", types.MergePatchType, []byte(`{"data":{"v":"2"}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "b"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	then, err := cms.List(ctx, metav1.ListOptions{ResourceVersion: a.ResourceVersion, ResourceVersionMatch: metav1.ResourceVersionMatchExact})
	if err != nil {
		t.Fatalf("list at %s: %v", a.ResourceVersion, err)
	}
	if len(then.Items) != 1 || then.Items[0].Data["v"] != "1" || then.ResourceVersion != a.ResourceVersion {
		t.Fatalf("the list as of #%s: rv %s, %+v", a.ResourceVersion, then.ResourceVersion, then.Items)
	}
	now, _ := cms.List(ctx, metav1.ListOptions{})
	if len(now.Items) != 2 {
		t.Fatalf("the latest list has %d items", len(now.Items))
	}
}

func TestTableAndDiscovery(t *testing.T) {
	_, cfg, cs := startAPI(t)
	ctx := ctxT(t)
	if _, err := cs.AppsV1().Deployments("default").Create(ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	body, code := raw(t, cfg, "GET", "/apis/apps/v1/namespaces/default/deployments", "application/json;as=Table;g=meta.k8s.io;v=v1", "", nil)
	if code != 200 {
		t.Fatalf("table: %d %s", code, body)
	}
	var table metav1.Table
	if err := json.Unmarshal(body, &table); err != nil {
		t.Fatal(err)
	}
	var cols []string
	for _, c := range table.ColumnDefinitions {
		if c.Priority == 0 {
			cols = append(cols, c.Name)
		}
	}
	if strings.Join(cols, ",") != "Name,Ready,Up-to-date,Available,Age" || len(table.Rows) != 1 || table.Rows[0].Cells[0] != "web" {
		t.Fatalf("deployment table: columns %v, rows %+v", cols, table.Rows)
	}

	// Discovery lists the kinds with their verbs and short names.
	res, err := cs.Discovery().ServerResourcesForGroupVersion("apps/v1")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range res.APIResources {
		if r.Name == "deployments" {
			found = true
			if strings.Join(r.ShortNames, ",") != "deploy" || !strings.Contains(strings.Join(r.Verbs, ","), "watch") || strings.Join(r.Categories, ",") != "all" {
				t.Fatalf("deployments in discovery: %+v", r)
			}
		}
	}
	if !found {
		t.Fatalf("no deployments in apps/v1 discovery: %+v", res.APIResources)
	}
	v, err := cs.Discovery().ServerVersion()
	if err != nil || !strings.HasPrefix(v.GitVersion, "v1.37.2") {
		t.Fatalf("server version: %v %+v", err, v)
	}
}

// raw sends one request with the admin's credentials.
func raw(t *testing.T, cfg *rest.Config, method, path, accept, contentType string, body []byte) ([]byte, int) {
	t.Helper()
	tr, err := rest.TransportFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(method, cfg.Host+path, bytes.NewReader(body))
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return out, resp.StatusCode
}

func TestBadRequests(t *testing.T) {
	d, cfg, cs := startAPI(t)
	ctx := ctxT(t)
	cmPath := "/api/v1/namespaces/default/configmaps"

	// No credentials: 401, and nothing listens without TLS.
	insecure := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err := insecure.Get("https://" + d.KubeAPI + cmPath)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unauthenticated: %d", resp.StatusCode)
	}
	if resp, err := http.Get("http://" + d.KubeAPI + cmPath); err == nil {
		resp.Body.Close()
		if resp.StatusCode < 400 {
			t.Fatalf("plain HTTP answered %d", resp.StatusCode)
		}
	}

	cases := []struct {
		name, method, path, ctype string
		body                      string
		code                      int
		says                      string
	}{
		{"malformed JSON", "POST", cmPath, "application/json", `{"apiVersion":"v1","kind":"ConfigMap",`, 400, ""},
		{"unknown field, strict", "POST", cmPath + "?fieldValidation=Strict", "application/json",
			`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"s"},"bogus":1}`, 400, `unknown field "bogus"`},
		{"unsupported media type", "POST", cmPath, "text/plain", `hello`, 415, ""},
		{"invalid name", "POST", cmPath, "application/json", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"Not_OK"}}`, 422, "metadata.name"},
		{"body over the limit", "POST", cmPath, "application/json",
			`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"big"},"data":{"x":"` + strings.Repeat("x", 4<<20) + `"}}`, 413, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body, code := raw(t, cfg, c.method, c.path, "application/json", c.ctype, []byte(c.body))
			var st metav1.Status
			if err := json.Unmarshal(body, &st); err != nil || st.Kind != "Status" {
				t.Fatalf("%s: the answer is not a Status: %v %s", c.name, err, body)
			}
			if code != c.code || int(st.Code) != c.code || !strings.Contains(st.Message, c.says) {
				t.Fatalf("%s: got %d %s; want %d containing %q", c.name, code, body, c.code, c.says)
			}
		})
	}
	// Nothing was written by any of them.
	list, err := cs.CoreV1().ConfigMaps("default").List(ctx, metav1.ListOptions{})
	if err != nil || len(list.Items) != 0 {
		t.Fatalf("bad requests left objects: %v %d", err, len(list.Items))
	}
}

// warnings collects the Warning headers client-go receives.
type warnings struct {
	mu   sync.Mutex
	list []string
}

func (w *warnings) HandleWarningHeader(_ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.list = append(w.list, text)
}

func (w *warnings) all() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.list, "\n")
}

func TestWarningsAndEviction(t *testing.T) {
	_, cfg, _ := startAPI(t)
	ctx := ctxT(t)
	w := &warnings{}
	cfg = rest.CopyConfig(cfg)
	cfg.WarningHandler = w
	cs := kubernetes.NewForConfigOrDie(cfg)

	// A kind stored but not acted on says so in a Warning header.
	if _, err := cs.CoreV1().ResourceQuotas("default").Create(ctx, &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: "q"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(w.all(), "stored but not acted on") {
		t.Fatalf("warnings after creating a ResourceQuota: %q", w.all())
	}

	// pods/eviction: a PodDisruptionBudget that allows no disruption
	// refuses it with 429; without one the pod goes.
	pod := func(name string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": name}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}
	}
	for _, n := range []string{"guarded", "free"} {
		if _, err := cs.CoreV1().Pods("default").Create(ctx, pod(n), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// The guarded pod is Running and Ready (written through the status
	// subresource, which changes nothing else).
	// The scheduler writes the pod's status meanwhile (no node fits): a
	// read-modify-write retried on a conflict, as clients do it.
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		g, err := cs.CoreV1().Pods("default").Get(ctx, "guarded", metav1.GetOptions{})
		if err != nil {
			return err
		}
		g.Status.Phase = corev1.PodRunning
		g.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
		g.Spec.Containers[0].Image = "changed-through-status"
		_, err = cs.CoreV1().Pods("default").UpdateStatus(ctx, g, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatalf("update status: %v", err)
	}
	g, _ := cs.CoreV1().Pods("default").Get(ctx, "guarded", metav1.GetOptions{})
	if g.Status.Phase != corev1.PodRunning || g.Spec.Containers[0].Image != "busybox" {
		t.Fatalf("after the status update: phase %s, image %s", g.Status.Phase, g.Spec.Containers[0].Image)
	}
	one := intstr.FromInt32(1)
	if _, err := cs.PolicyV1().PodDisruptionBudgets("default").Create(ctx, &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Name: "pdb"},
		Spec:       policyv1.PodDisruptionBudgetSpec{MinAvailable: &one, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "guarded"}}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	err = cs.CoreV1().Pods("default").EvictV1(ctx, &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Name: "guarded"}})
	if !apierrors.IsTooManyRequests(err) {
		t.Fatalf("eviction against the budget: want 429, got %v", err)
	}
	if err := cs.CoreV1().Pods("default").EvictV1(ctx, &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Name: "free"}}); err != nil {
		t.Fatalf("eviction: %v", err)
	}
	if _, err := cs.CoreV1().Pods("default").Get(ctx, "free", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("the evicted pod (on no node) is still there: %v", err)
	}
	if _, err := cs.CoreV1().Pods("default").Get(ctx, "guarded", metav1.GetOptions{}); err != nil {
		t.Fatalf("the guarded pod: %v", err)
	}
}

func TestKubeconfigVerb(t *testing.T) {
	d, _, _ := startAPI(t)
	resp, err := clustertest.AdminClient(t, d).Do(ctxT(t), api.VerbKubeconfig, &api.Request{})
	if err != nil {
		t.Fatalf("kubeconfig verb: %v", err)
	}
	var kc api.KubeconfigResult
	if err := json.Unmarshal(resp.Data, &kc); err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(d.Kubeconfig)
	if err != nil || kc.Kubeconfig != string(file) {
		t.Fatalf("the verb's kubeconfig differs from %s (%v)", d.Kubeconfig, err)
	}
	if st, err := os.Stat(d.Kubeconfig); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("kubeconfig mode: %v %v", st.Mode(), err)
	}
	agentCfg, err := api.LoadConfig(d.AgentConfig)
	if err != nil {
		t.Fatal(err)
	}
	agent, err := api.Dial(agentCfg)
	if err != nil {
		t.Fatal(err)
	}
	defer agent.Close()
	if _, err := agent.Do(ctxT(t), api.VerbKubeconfig, &api.Request{}); !apierrors.IsForbidden(err) {
		t.Fatalf("the agent's credential read the admin kubeconfig: %v", err)
	}
}

// A watch from a resourceVersion the log no longer holds ends with 410
// Expired, so informers list again (as after etcd's compaction).
func TestWatchTooOldIsGone(t *testing.T) {
	d, _, cs := startAPI(t)
	ctx := ctxT(t)
	cms := cs.CoreV1().ConfigMaps("default")
	a, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "a"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "b"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	c, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "c"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	seqC, _ := strconv.ParseUint(c.ResourceVersion, 10, 64)
	st, err := d.JetStream().Stream(ctx, events.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	// Retention drops everything before c's event, b's among it: a watch
	// from a's resourceVersion would miss b.
	if err := st.Purge(ctx, jetstream.WithPurgeSequence(seqC)); err != nil {
		t.Fatalf("purging the log: %v", err)
	}
	w, err := cms.Watch(ctx, metav1.ListOptions{ResourceVersion: a.ResourceVersion})
	if err != nil {
		if !apierrors.IsResourceExpired(err) && !apierrors.IsGone(err) {
			t.Fatalf("watch from a purged resourceVersion: %v", err)
		}
		return
	}
	defer w.Stop()
	select {
	case ev, ok := <-w.ResultChan():
		if !ok || ev.Type != watch.Error {
			t.Fatalf("want an ERROR event, got %v %s %T", ok, ev.Type, ev.Object)
		}
		if err := apierrors.FromObject(ev.Object); !apierrors.IsResourceExpired(err) {
			t.Fatalf("want 410 Expired, got %v", err)
		}
	case <-ctx.Done():
		t.Fatal("no error event")
	}
}

// pods/binding assigns a pending pod to a node once, as a scheduler other
// than Strom's does it.
func TestBinding(t *testing.T) {
	_, _, cs := startAPI(t)
	ctx := ctxT(t)
	pods := cs.CoreV1().Pods("default")
	if _, err := pods.Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"},
		Spec: corev1.PodSpec{SchedulerName: "my-scheduler", Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	bind := func(node string) error {
		return pods.Bind(ctx, &corev1.Binding{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Target: corev1.ObjectReference{Kind: "Node", Name: node}}, metav1.CreateOptions{})
	}
	if err := bind(""); !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "target.name") {
		t.Fatalf("a binding without a target: want Invalid naming target.name, got %v", err)
	}
	if err := bind("node-a"); err != nil {
		t.Fatalf("bind: %v", err)
	}
	p, err := pods.Get(ctx, "p", metav1.GetOptions{})
	if err != nil || p.Spec.NodeName != "node-a" {
		t.Fatalf("after the binding: %v, nodeName %q", err, p.Spec.NodeName)
	}
	if err := bind("node-b"); !apierrors.IsConflict(err) || !strings.Contains(err.Error(), `already assigned to node "node-a"`) {
		t.Fatalf("a second binding: want Conflict, got %v", err)
	}
}
