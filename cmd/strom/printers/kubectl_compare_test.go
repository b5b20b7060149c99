//go:build kubectlcompare

package printers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/strom-project/strom/events/objects"
)

// These tests run the installed kubectl against a fake API server on
// 127.0.0.1 that serves the test objects, and compare its output with
// ours byte for byte. They are built only with a tag, because kubectl's
// output moves between releases (checked with v1.32.4):
//
//	go test -tags kubectlcompare -run Kubectl ./cmd/strom/printers

func kubectlPath(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("kubectl")
	if err != nil {
		t.Fatalf("the kubectlcompare tests need kubectl on PATH: %v", err)
	}
	out, err := exec.Command(path, "version", "--client").CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl version: %v: %s", err, out)
	}
	t.Logf("comparing with %s", strings.SplitN(string(out), "\n", 2)[0])
	return path
}

// fakeAPI serves objects as a Kubernetes API server would, enough for
// kubectl describe: discovery, GET of one object, and lists.
type fakeAPI struct {
	objs []objects.Object
	now  time.Time // for the ages in tables
}

// serveTable answers as the API server does when kubectl asks for a
// Table: our columns (wide ones at priority 1) and our cells, which lets
// kubectl's own table printer lay them out.
func (f *fakeAPI) serveTable(w http.ResponseWriter, k *objects.Kind, items []any) {
	p := printers[k.Kind]
	var defs []map[string]any
	for _, c := range p.columns {
		prio := 0
		if c.Wide {
			prio = 1
		}
		def := map[string]any{"name": c.Header, "type": "string", "format": "", "description": "", "priority": prio}
		if c.Name {
			def["format"] = "name"
		}
		defs = append(defs, def)
	}
	var rows []any
	for _, it := range items {
		data, _ := json.Marshal(it)
		o := k.New()
		if err := json.Unmarshal(data, o); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		if k.Kind == "Event" {
			continue // added below in our sort order
		}
		rows = append(rows, map[string]any{"cells": p.row(o, f.now), "object": it})
	}
	if k.Kind == "Event" {
		var evs []*corev1.Event
		for _, it := range items {
			data, _ := json.Marshal(it)
			e := &corev1.Event{}
			_ = json.Unmarshal(data, e)
			evs = append(evs, e)
		}
		// kubectl shows rows in the server's order; Strom's printer sorts
		// by last seen, so serve them sorted to compare the layout.
		for _, e := range sortEvents(evs) {
			m, _ := toMap(e)
			rows = append(rows, map[string]any{"cells": p.row(e, f.now), "object": m})
		}
	}
	if rows == nil {
		rows = []any{}
	}
	json.NewEncoder(w).Encode(map[string]any{"kind": "Table", "apiVersion": "meta.k8s.io/v1",
		"metadata": map[string]any{"resourceVersion": ""}, "columnDefinitions": defs, "rows": rows})
}

// discovery lists every stored kind, as an API server's discovery does.
var discovery = func() map[string]string {
	groups := map[string][]string{}
	var order []string
	for _, k := range objects.All() {
		gv := k.APIVersion()
		if _, ok := groups[gv]; !ok {
			order = append(order, gv)
		}
		groups[gv] = append(groups[gv], fmt.Sprintf("%s:%s:%t", k.Resource, k.Kind, k.Namespaced))
	}
	d := map[string]string{
		"/api": `{"kind":"APIVersions","versions":["v1"],"serverAddressByClientCIDRs":[{"clientCIDR":"0.0.0.0/0","serverAddress":"127.0.0.1"}]}`,
	}
	var gs []string
	for _, gv := range order {
		if gv == "v1" {
			d["/api/v1"] = resourceList(gv, groups[gv]...)
			continue
		}
		d["/apis/"+gv] = resourceList(gv, groups[gv]...)
		g, v, _ := strings.Cut(gv, "/")
		gs = append(gs, fmt.Sprintf(`{"name":%q,"versions":[{"groupVersion":%q,"version":%q}],"preferredVersion":{"groupVersion":%q,"version":%q}}`, g, gv, v, gv, v))
	}
	d["/apis"] = `{"kind":"APIGroupList","apiVersion":"v1","groups":[` + strings.Join(gs, ",") + `]}`
	return d
}()

func resourceList(gv string, specs ...string) string {
	var rs []string
	for _, s := range specs {
		p := strings.Split(s, ":")
		rs = append(rs, fmt.Sprintf(`{"name":%q,"singularName":%q,"namespaced":%s,"kind":%q,"verbs":["get","list"]}`,
			p[0], strings.ToLower(p[1]), p[2], p[1]))
	}
	return fmt.Sprintf(`{"kind":"APIResourceList","apiVersion":"v1","groupVersion":%q,"resources":[%s]}`, gv, strings.Join(rs, ","))
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if d, ok := discovery[r.URL.Path]; ok {
		fmt.Fprint(w, d)
		return
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if parts[0] == "apis" && len(parts) > 2 {
		parts = parts[3:]
	} else if parts[0] == "api" && len(parts) > 1 {
		parts = parts[2:]
	} else {
		http.NotFound(w, r)
		return
	}
	ns := ""
	if len(parts) >= 2 && parts[0] == "namespaces" && len(parts) > 2 {
		ns, parts = parts[1], parts[2:]
	}
	resource, name := parts[0], ""
	if len(parts) > 1 {
		name = parts[1]
	}
	var items []any
	var kind *objects.Kind
	for _, o := range f.objs {
		k, _ := objects.KindOf(o)
		if k.Resource != resource || (ns != "" && o.GetNamespace() != ns) || (name != "" && o.GetName() != name) {
			continue
		}
		if !matchesFieldSelector(o, r.URL.Query().Get("fieldSelector")) {
			continue
		}
		kind = k
		m, _ := toMap(o)
		items = append(items, m)
	}
	if name != "" {
		if len(items) == 0 {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprintf(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404,"message":"%s %q not found"}`, resource, name)
			return
		}
		json.NewEncoder(w).Encode(items[0])
		return
	}
	if strings.Contains(r.Header.Get("Accept"), "as=Table") && kind != nil {
		f.serveTable(w, kind, items)
		return
	}
	listKind := "List"
	apiVersion := "v1"
	if kind != nil {
		listKind, apiVersion = kind.Kind+"List", kind.APIVersion()
	}
	if items == nil {
		items = []any{}
	}
	json.NewEncoder(w).Encode(map[string]any{"kind": listKind, "apiVersion": apiVersion, "metadata": map[string]any{}, "items": items})
}

// matchesFieldSelector understands the selectors kubectl describe sends:
// involvedObject.name for events, spec.nodeName for a node's pods.
func matchesFieldSelector(o objects.Object, sel string) bool {
	for _, term := range strings.Split(sel, ",") {
		k, v, ok := strings.Cut(term, "=")
		if !ok {
			continue
		}
		if strings.HasSuffix(k, "!") {
			if p, ok := o.(*corev1.Pod); ok && k == "status.phase!" && string(p.Status.Phase) == v {
				return false
			}
			continue
		}
		switch k {
		case "involvedObject.name":
			if e, ok := o.(*corev1.Event); ok && e.InvolvedObject.Name != v {
				return false
			}
		case "spec.nodeName":
			if p, ok := o.(*corev1.Pod); ok && p.Spec.NodeName != v {
				return false
			}
		}
	}
	return true
}

func TestKubectlDescribeCompare(t *testing.T) {
	kubectl := kubectlPath(t)
	// Ages are computed by kubectl from its own clock: start just after a
	// second boundary so both sides round the same.
	saved := now
	defer func() { now = saved }()
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second + 20*time.Millisecond)))
	now = time.Now().Truncate(time.Second)

	pod := describePod()
	dep, rss := describeDeployment()
	for _, rs := range rss {
		rs.Labels = map[string]string{"app": "web"}
	}
	svc := fixtureCore()["service"][0].(*corev1.Service).DeepCopy()
	svc.Spec.SessionAffinity = corev1.ServiceAffinityNone
	node := fixtureNodes()[0].(*corev1.Node)
	ns := fixtureCore()["namespace"][0].(*corev1.Namespace)
	cm := &corev1.ConfigMap{ObjectMeta: meta("default", "one", time.Hour), Data: map[string]string{"k": "v\n"}}
	sec := &corev1.Secret{ObjectMeta: meta("default", "pw", time.Hour), Type: corev1.SecretTypeOpaque, Data: map[string][]byte{"password": []byte("hunter2")}}
	var evs []objects.Object
	for _, e := range fixtureEvents() {
		evs = append(evs, e)
	}
	pods := fixturePods()
	rs := fixtureWorkloads()["replicaset"][0].(*appsv1.ReplicaSet)
	for _, o := range pods {
		o.SetLabels(map[string]string{"app": "web"})
	}
	// The API server defaults these; the fixture leaves them out.
	np := fixtureCore()["service"][1].(*corev1.Service)
	np.Spec.Ports[0].TargetPort = intstr.FromInt32(np.Spec.Ports[0].Port)
	np.Spec.SessionAffinity = corev1.ServiceAffinityNone
	eps := fixtureCore()["endpoints"][0]
	all := append([]objects.Object{pod, dep, svc, node, ns, cm, sec, rs, np, eps}, evs...)
	all = append(all, pods[1:]...)
	for _, rs := range rss {
		all = append(all, rs)
	}
	// Round-trip through JSON so both sides see second-precision times.
	for i, o := range all {
		m, _ := toMap(o)
		data, _ := json.Marshal(m)
		k, _ := objects.KindOf(o)
		fresh := k.New()
		if err := json.Unmarshal(data, fresh); err != nil {
			t.Fatal(err)
		}
		all[i] = fresh
	}
	srv := httptest.NewServer(&fakeAPI{objs: all})
	defer srv.Close()
	cache := t.TempDir()

	cases := []describeCase{
		{[]string{"pod", pod.Name}, all[0], Related{Events: fixtureEvents()}},
		{[]string{"deployment", "web"}, all[1], Related{ReplicaSets: typedRSs(all[len(all)-len(rss):])}},
		{[]string{"service", "web"}, all[2], Related{}},
		{[]string{"node", "node-1"}, all[3], Related{Pods: typedPods(all)}},
		{[]string{"namespace", "default"}, all[4], Related{}},
		{[]string{"configmap", "one"}, all[5], Related{}},
		{[]string{"secret", "pw"}, all[6], Related{}},
		{[]string{"replicaset", rs.Name}, all[7], Related{Pods: typedPods(all)}},
		{[]string{"service", np.GetName()}, all[8], Related{}},
	}
	for i := 1; i < len(pods); i++ {
		cases = append(cases, describeCase{[]string{"pod", pods[i].GetName()}, findObj(all, "Pod", pods[i].GetName()), Related{}})
	}
	for _, c := range cases {
		// kubectl reads its own clock: start each comparison just after a
		// second boundary and describe at that second.
		time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second + 20*time.Millisecond)))
		var buf bytes.Buffer
		if err := DescribeRelated(&buf, c.obj, c.rel, time.Now().Truncate(time.Second)); err != nil {
			t.Fatal(err)
		}
		mine := buf.String()
		args := append([]string{"--server", srv.URL, "--cache-dir", filepath.Join(cache, "c"), "-n", "default", "describe"}, c.args...)
		cmd := exec.Command(kubectl, args...)
		cmd.Env = append(os.Environ(), "KUBECONFIG=/dev/null")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		theirs, err := cmd.Output()
		if err != nil {
			t.Errorf("kubectl describe %v: %v: %s", c.args, err, stderr.String())
			continue
		}
		// Strom stores no node leases, so the fake server has none either.
		theirsText := dropLines(string(theirs), "Lease:")
		if theirsText != mine {
			t.Errorf("describe %v differs from kubectl:\n--- kubectl ---\n%s\n--- strom ---\n%s", c.args, theirsText, mine)
		}
	}
}

func typedRSs(objs []objects.Object) []*appsv1.ReplicaSet {
	var out []*appsv1.ReplicaSet
	for _, o := range objs {
		out = append(out, o.(*appsv1.ReplicaSet))
	}
	return out
}

func dropLines(s, prefix string) string {
	var out []string
	for _, l := range strings.SplitAfter(s, "\n") {
		if !strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "")
}

type describeCase struct {
	args []string
	obj  objects.Object
	rel  Related
}

func typedPods(objs []objects.Object) []*corev1.Pod {
	var out []*corev1.Pod
	for _, o := range objs {
		if p, ok := o.(*corev1.Pod); ok {
			out = append(out, p)
		}
	}
	return out
}

func findObj(objs []objects.Object, kind, name string) objects.Object {
	for _, o := range objs {
		if k, _ := objects.KindOf(o); k.Kind == kind && o.GetName() == name {
			return o
		}
	}
	return nil
}

// TestKubectlTableCompare checks our table layout against kubectl's own
// table printer: the fake server hands kubectl our cells, so this covers
// alignment, wide columns, -A, --no-headers and kind prefixes, not the
// cell values (those follow kubectl's printers, see the golden tests).
func TestKubectlTableCompare(t *testing.T) {
	kubectl := kubectlPath(t)
	f := allTableFixtures()
	var all []objects.Object
	for _, objs := range f {
		for _, o := range objs {
			m, _ := toMap(o)
			data, _ := json.Marshal(m)
			k, _ := objects.KindOf(o)
			fresh := k.New()
			if err := json.Unmarshal(data, fresh); err != nil {
				t.Fatal(err)
			}
			all = append(all, fresh)
		}
	}
	// A pod in a second namespace, for -A.
	extra := f["pod"][0].DeepCopyObject().(*corev1.Pod)
	extra.Namespace, extra.Name = "kube-system", "dns-1"
	all = append(all, extra)
	srv := httptest.NewServer(&fakeAPI{objs: all, now: now})
	defer srv.Close()
	cache := t.TempDir()
	byKind := func(kind, ns string) []objects.Object {
		var out []objects.Object
		for _, o := range all {
			if k, _ := objects.KindOf(o); k.Kind == kind && (ns == "" || !k.Namespaced || o.GetNamespace() == ns) {
				out = append(out, o)
			}
		}
		return out
	}
	type tc struct {
		args []string
		objs []objects.Object
		opts TableOptions
	}
	var cases []tc
	for _, k := range objects.All() {
		for _, wide := range []bool{false, true} {
			args := []string{"get", k.Resource, "-n", "default"}
			if wide {
				args = append(args, "-o", "wide")
			}
			cases = append(cases, tc{args, byKind(k.Kind, "default"), TableOptions{Wide: wide, Now: now}})
		}
	}
	cases = append(cases,
		tc{[]string{"get", "pods", "-A"}, byKind("Pod", ""), TableOptions{ShowNamespace: true, Now: now}},
		tc{[]string{"get", "nodes", "-A"}, byKind("Node", ""), TableOptions{ShowNamespace: true, Now: now}},
		tc{[]string{"get", "pods", "-n", "default", "--no-headers"}, byKind("Pod", "default"), TableOptions{NoHeaders: true, Now: now}},
		tc{[]string{"get", "pods,services,deployments", "-n", "default"},
			append(append(byKind("Pod", "default"), byKind("Service", "default")...), byKind("Deployment", "default")...),
			TableOptions{ShowKind: true, Now: now}},
		tc{[]string{"get", "pods,nodes", "-A", "-o", "wide"}, append(byKind("Pod", ""), byKind("Node", "")...),
			TableOptions{ShowKind: true, ShowNamespace: true, Wide: true, Now: now}},
		tc{[]string{"get", "nodes,pods,namespaces", "-A"}, append(append(byKind("Node", ""), byKind("Pod", "")...), byKind("Namespace", "")...),
			TableOptions{ShowKind: true, ShowNamespace: true, Now: now}},
		tc{[]string{"get", "services,events", "-n", "default", "-o", "wide"}, append(byKind("Service", "default"), byKind("Event", "default")...),
			TableOptions{ShowKind: true, Wide: true, Now: now}},
		tc{[]string{"get", "services,events", "-n", "default"}, append(byKind("Service", "default"), byKind("Event", "default")...),
			TableOptions{ShowKind: true, Now: now}},
		tc{[]string{"get", "nodes,namespaces", "-A"}, append(byKind("Node", ""), byKind("Namespace", "")...),
			TableOptions{ShowKind: true, ShowNamespace: true, Now: now}},
	)
	for _, c := range cases {
		var buf bytes.Buffer
		if err := PrintTable(&buf, c.objs, c.opts); err != nil {
			t.Fatal(err)
		}
		args := append([]string{"--server", srv.URL, "--cache-dir", filepath.Join(cache, "c")}, c.args...)
		cmd := exec.Command(kubectl, args...)
		cmd.Env = append(os.Environ(), "KUBECONFIG=/dev/null")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		theirs, err := cmd.Output()
		if err != nil {
			t.Errorf("kubectl %v: %v: %s", c.args, err, stderr.String())
			continue
		}
		if string(theirs) != buf.String() {
			t.Errorf("kubectl %v differs:\n--- kubectl ---\n%s\n--- strom ---\n%s", c.args, theirs, buf.String())
		}
	}
}
