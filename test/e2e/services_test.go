package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/containerd/containerd/pkg/netns"
	cnins "github.com/containernetworking/plugins/pkg/ns"
	corev1 "k8s.io/api/core/v1"

	"github.com/strom-project/strom/agent"
	"github.com/strom-project/strom/agent/proxy"
	"github.com/strom-project/strom/events/api"
	"github.com/strom-project/strom/test/ctrtest"
	"github.com/strom-project/strom/test/logtest"
)

// svcNode is a real node with the service proxy and node-local DNS on.
type svcNode struct {
	*realNode
	mode string // proxy mode
}

func startServiceNode(t testing.TB, mode string) *svcNode {
	t.Helper()
	ctrtest.RequireRoot(t)
	for _, bin := range []string{"iptables-restore", "nft"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Fatalf("the service proxy needs %s (scripts/install-deps.sh installs it): %v", bin, err)
		}
	}
	// Names outside the cluster go to a closed port on the node's own
	// loopback: nothing leaves the test's network namespace.
	return &svcNode{mode: mode, realNode: startRealNode(t, &agent.ServicesConfig{
		NodeIP: "10.99.0.1", DNSUpstreams: []string{"127.0.0.1:9"}, Resync: 5 * time.Second, ProxyMode: mode,
	})}
}

func dialIn(ctx context.Context, node *netns.NetNS, network, addr string) (net.Conn, error) {
	var c net.Conn
	err := node.Do(func(cnins.NetNS) error {
		var err error
		c, err = (&net.Dialer{Timeout: 2 * time.Second}).DialContext(ctx, network, addr)
		return err
	})
	return c, err
}

// get fetches http://addr/ from the node's netns, a new connection each
// time (so the proxy picks an endpoint each time).
func (n *svcNode) get(addr string) (string, error) {
	tr := &http.Transport{DisableKeepAlives: true, DialContext: func(ctx context.Context, network, a string) (net.Conn, error) {
		return dialIn(ctx, n.netns, network, a)
	}}
	c := &http.Client{Transport: tr, Timeout: 3 * time.Second}
	resp, err := c.Get("http://" + addr + "/")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return strings.TrimSpace(string(b)), err
}

// spread sends count requests and returns how many each host answered.
func (n *svcNode) spread(t testing.TB, addr string, count int) map[string]int {
	t.Helper()
	got := map[string]int{}
	for i := 0; i < count; i++ {
		host, err := n.get(addr)
		if err != nil {
			t.Fatalf("request %d to %s: %v", i, addr, err)
		}
		got[host]++
	}
	return got
}

func (n *svcNode) getObj(t testing.TB, resource, name string, into any) error {
	resp, err := n.admin.Do(context.Background(), api.VerbGet, &api.Request{Resource: resource, Namespace: "default", Name: name})
	if err != nil {
		return err
	}
	return json.Unmarshal(resp.Object, into)
}

// readyIPs returns the ready and not-ready addresses of an Endpoints.
func (n *svcNode) endpointIPs(t testing.TB, name string) (ready, notReady []string, err error) {
	var ep corev1.Endpoints
	if err := n.getObj(t, "endpoints", name, &ep); err != nil {
		return nil, nil, err
	}
	for _, ss := range ep.Subsets {
		for _, a := range ss.Addresses {
			ready = append(ready, a.TargetRef.Name)
		}
		for _, a := range ss.NotReadyAddresses {
			notReady = append(notReady, a.TargetRef.Name)
		}
	}
	sort.Strings(ready)
	sort.Strings(notReady)
	return ready, notReady, nil
}

func webPod(name string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: %s, labels: {app: web}}
spec:
  nodeName: node-1
  hostname: %s
  subdomain: web-headless
  terminationGracePeriodSeconds: 2
  containers:
  - name: web
    image: strom.test/httpserver:1
    ports: [{name: http, containerPort: 8080}]
    readinessProbe:
      httpGet: {path: /healthz, port: http}
      periodSeconds: 1
`, name, name)
}

func keys(m map[string]int) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestServicesEndToEnd(t *testing.T) {
	for _, mode := range []string{proxy.ModeIPTables, proxy.ModeNFTables} {
		t.Run(mode, func(t *testing.T) { testServicesEndToEnd(t, mode) })
	}
}

func testServicesEndToEnd(t *testing.T, mode string) {
	n := startServiceNode(t, mode)
	n.apply(t, webPod("web-0")+"---\n"+webPod("web-1")+"---\n"+webPod("web-2")+`---
apiVersion: v1
kind: Pod
metadata: {name: web-unready, labels: {app: web}}
spec:
  nodeName: node-1
  terminationGracePeriodSeconds: 1
  containers:
  - name: web
    image: strom.test/httpserver:1
    ports: [{name: http, containerPort: 8080}]
    readinessProbe:
      tcpSocket: {port: 9999}
      periodSeconds: 1
---
apiVersion: v1
kind: Pod
metadata: {name: client}
spec:
  nodeName: node-1
  terminationGracePeriodSeconds: 1
  containers:
  - {name: c, image: strom.test/busybox:1, command: [sleep, "3600"]}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]
---
apiVersion: v1
kind: Service
metadata: {name: web-headless}
spec:
  clusterIP: None
  selector: {app: web}
  ports: [{name: http, port: 8080, targetPort: http}]
---
apiVersion: v1
kind: Service
metadata: {name: nothing}
spec:
  selector: {app: nobody}
  ports: [{port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: badport}
spec:
  selector: {app: web}
  ports: [{name: metrics, port: 9090, targetPort: metrics}]
`)
	var svc corev1.Service
	if err := n.getObj(t, "services", "web", &svc); err != nil {
		t.Fatal(err)
	}
	clusterIP, nodePort := svc.Spec.ClusterIP, svc.Spec.Ports[0].NodePort
	if !strings.HasPrefix(clusterIP, "10.43.") || nodePort < 30000 {
		t.Fatalf("allocation: clusterIP %q nodePort %d", clusterIP, nodePort)
	}
	want3 := []string{"web-0", "web-1", "web-2"}
	logtest.Eventually(t, 90*time.Second, func() error {
		ready, notReady, err := n.endpointIPs(t, "web")
		if err != nil {
			return err
		}
		if fmt.Sprint(ready) != fmt.Sprint(want3) || fmt.Sprint(notReady) != "[web-unready]" {
			return fmt.Errorf("endpoints ready %v notReady %v", ready, notReady)
		}
		return nil
	})
	cipAddr := net.JoinHostPort(clusterIP, "80")
	logtest.Eventually(t, 10*time.Second, func() error { _, err := n.get(cipAddr); return err })

	// The rules follow the endpoints.
	for _, name := range want3 {
		p, err := n.pod(t, name)
		if err != nil {
			t.Fatal(err)
		}
		logtest.Eventually(t, 5*time.Second, func() error { return n.rulesMention(p.Status.PodIP, true) })
	}
	// ClusterIP from the node: 60 requests reach all 3 ready pods and
	// never the unready one.
	if got := n.spread(t, cipAddr, 60); fmt.Sprint(keys(got)) != fmt.Sprint(want3) {
		t.Fatalf("ClusterIP spread %v, want exactly %v", got, want3)
	}
	// NodePort on a node address (the bridge's) and on 127.0.0.1.
	var node corev1.Node
	resp, err := n.admin.Do(context.Background(), api.VerbGet, &api.Request{Resource: "nodes", Name: "node-1"})
	if err != nil || json.Unmarshal(resp.Object, &node) != nil {
		t.Fatalf("node: %v", err)
	}
	gw := strings.TrimSuffix(node.Spec.PodCIDR, "0/24") + "1"
	for _, host := range []string{gw, "127.0.0.1"} {
		if got := n.spread(t, net.JoinHostPort(host, fmt.Sprint(nodePort)), 60); fmt.Sprint(keys(got)) != fmt.Sprint(want3) {
			t.Fatalf("NodePort on %s: spread %v, want %v", host, got, want3)
		}
	}

	// A service selecting nothing rejects at once (connection refused,
	// not a timeout).
	var nothing corev1.Service
	if err := n.getObj(t, "services", "nothing", &nothing); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = n.get(net.JoinHostPort(nothing.Spec.ClusterIP, "80"))
	if err == nil || !strings.Contains(err.Error(), "refused") || time.Since(start) > time.Second {
		t.Fatalf("service without endpoints: %v after %v, want connection refused at once", err, time.Since(start))
	}
	// Bad allocations fail at apply time with the field named, and
	// leave the rules of other services alone (checked by the requests
	// that follow).
	for manifest, field := range map[string]string{
		"apiVersion: v1\nkind: Service\nmetadata: {name: taken}\nspec: {clusterIP: " + clusterIP + ", ports: [{port: 80}]}\n":                     "spec.clusterIP",
		"apiVersion: v1\nkind: Service\nmetadata: {name: outside}\nspec: {clusterIP: 192.0.2.1, ports: [{port: 80}]}\n":                           "spec.clusterIP",
		fmt.Sprintf("apiVersion: v1\nkind: Service\nmetadata: {name: np}\nspec: {type: NodePort, ports: [{port: 80, nodePort: %d}]}\n", nodePort): "nodePort",
		"apiVersion: v1\nkind: Service\nmetadata: {name: np2}\nspec: {type: NodePort, ports: [{port: 80, nodePort: 80}]}\n":                       "nodePort",
	} {
		out, err := exec.Command(filepath.Join(binDir, "strom"), "--config", n.config, "apply", "-f", writeTemp(t, manifest)).CombinedOutput()
		if err == nil || !strings.Contains(string(out), field) {
			t.Fatalf("apply of a bad service: %v %s, want an error naming %s", err, out, field)
		}
	}
	// A LoadBalancer service gets the node's address as its ingress.
	n.apply(t, "apiVersion: v1\nkind: Service\nmetadata: {name: lb}\nspec: {type: LoadBalancer, selector: {app: web}, ports: [{port: 81, targetPort: http}]}\n")
	logtest.Eventually(t, 10*time.Second, func() error {
		var lb corev1.Service
		if err := n.getObj(t, "services", "lb", &lb); err != nil {
			return err
		}
		if ing := lb.Status.LoadBalancer.Ingress; len(ing) != 1 || ing[0].IP != "10.99.0.1" {
			return fmt.Errorf("lb ingress %+v", ing)
		}
		return nil
	})
	// A targetPort name no pod has: an Event on the Service.
	logtest.Eventually(t, 10*time.Second, func() error {
		resp, err := n.admin.ListAll(context.Background(), api.Request{Resource: "events", Namespace: "default"})
		if err != nil {
			return err
		}
		for _, item := range resp.Items {
			var ev corev1.Event
			if json.Unmarshal(item, &ev) == nil && ev.InvolvedObject.Name == "badport" && ev.Reason == "FailedToResolvePort" && strings.Contains(ev.Message, "metrics") {
				return nil
			}
		}
		return fmt.Errorf("no FailedToResolvePort event for service badport")
	})

	// DNS from inside a pod: the service by full name and by short name
	// (search path), and the headless service's pod IPs.
	logtest.Eventually(t, 60*time.Second, func() error {
		p, err := n.pod(t, "client")
		if err != nil {
			return err
		}
		if p.Status.Phase != corev1.PodRunning {
			return fmt.Errorf("client phase %q", p.Status.Phase)
		}
		return nil
	})
	for _, url := range []string{"http://web.default.svc.cluster.local", "http://web"} {
		out, err := n.strom(t, "exec", "client", "--", "wget", "-qO-", url)
		host := strings.TrimSpace(out)
		if err != nil || (host != "web-0" && host != "web-1" && host != "web-2") {
			diag, _ := n.strom(t, "exec", "client", "--", "sh", "-c", "cat /etc/resolv.conf; nslookup web.default.svc.cluster.local; ip route")
			t.Fatalf("wget %s in a pod: %v %q\n%s", url, err, out, diag)
		}
	}
	podIPs := map[string]string{}
	for _, name := range want3 {
		p, err := n.pod(t, name)
		if err != nil {
			t.Fatal(err)
		}
		podIPs[name] = p.Status.PodIP
	}
	out, err := n.strom(t, "exec", "client", "--", "nslookup", "web-headless.default.svc.cluster.local")
	if err != nil {
		t.Fatalf("nslookup headless: %v %s", err, out)
	}
	for name, ip := range podIPs {
		if !strings.Contains(out, ip) {
			t.Fatalf("headless lookup lacks %s (%s):\n%s", name, ip, out)
		}
	}
	if ip := unreadyIP(t, n); strings.Contains(out, ip) {
		t.Fatalf("headless lookup lists the unready pod %s:\n%s", ip, out)
	}
	out, err = n.strom(t, "exec", "client", "--", "nslookup", "web-0.web-headless.default.svc.cluster.local")
	if err != nil || !strings.Contains(out, podIPs["web-0"]) {
		t.Fatalf("hostname.subdomain lookup: %v\n%s", err, out)
	}

	// A deleted pod leaves the endpoints within a second, then the rules.
	start = time.Now()
	if out, err := n.strom(t, "delete", "pod", "web-2"); err != nil {
		t.Fatalf("delete: %v %s", err, out)
	}
	logtest.Eventually(t, time.Second, func() error {
		ready, _, err := n.endpointIPs(t, "web")
		if err != nil {
			return err
		}
		if fmt.Sprint(ready) != "[web-0 web-1]" {
			return fmt.Errorf("ready %v", ready)
		}
		return nil
	})
	t.Logf("deleted pod left the endpoints after %v", time.Since(start))
	logtest.Eventually(t, time.Second, func() error {
		return n.rulesMention(podIPs["web-2"], false)
	})
	if got := n.spread(t, cipAddr, 30); fmt.Sprint(keys(got)) != "[web-0 web-1]" {
		t.Fatalf("after delete: spread %v", got)
	}
	// A new pod joins.
	n.apply(t, webPod("web-3"))
	logtest.Eventually(t, 60*time.Second, func() error {
		ready, _, err := n.endpointIPs(t, "web")
		if err != nil {
			return err
		}
		if fmt.Sprint(ready) != "[web-0 web-1 web-3]" {
			return fmt.Errorf("ready %v", ready)
		}
		return nil
	})
	p3, err := n.pod(t, "web-3")
	if err != nil {
		t.Fatal(err)
	}
	logtest.Eventually(t, 5*time.Second, func() error { return n.rulesMention(p3.Status.PodIP, true) })
	logtest.Eventually(t, 5*time.Second, func() error {
		got := n.spread(t, cipAddr, 30)
		if fmt.Sprint(keys(got)) != "[web-0 web-1 web-3]" {
			return fmt.Errorf("spread %v", got)
		}
		return nil
	})
}

func unreadyIP(t testing.TB, n *svcNode) string {
	p, err := n.pod(t, "web-unready")
	if err != nil || p.Status.PodIP == "" {
		t.Fatalf("web-unready: %v", err)
	}
	return p.Status.PodIP
}

// rulesMention checks whether the node's rules DNAT to ip: the nat
// table's rules in iptables mode, the backend maps of table ip strom in
// nftables mode.
func (n *svcNode) rulesMention(ip string, want bool) error {
	args, pattern := []string{"iptables-save", "-t", "nat"}, "--to-destination "+ip+":"
	if n.mode == proxy.ModeNFTables {
		args, pattern = []string{"nft", "list", "table", "ip", proxy.NFTTable}, ": "+ip+" . "
	}
	var out []byte
	err := n.netns.Do(func(cnins.NetNS) error {
		var err error
		out, err = exec.Command(args[0], args[1:]...).Output()
		return err
	})
	if err != nil {
		return fmt.Errorf("%s: %w", args[0], err)
	}
	has := bytes.Contains(out, []byte(pattern))
	if has != want {
		return fmt.Errorf("nat rules mention %s: %v, want %v", ip, has, want)
	}
	return nil
}
