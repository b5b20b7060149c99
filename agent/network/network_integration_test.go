package network

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/containerd/containerd/pkg/netns"
	cnins "github.com/containernetworking/plugins/pkg/ns"
	"github.com/strom-project/strom/test/ctrtest"
	"github.com/vishvananda/netlink"
	"go.uber.org/zap/zaptest"
)

const testCIDR = "10.244.7.0/24"

// testBridge is not the production default, so the test can also check that
// nothing appeared on the host.
const testBridge = "stromtest0"

func newTestManager(t *testing.T) (*Manager, *netns.NetNS) {
	t.Helper()
	node := ctrtest.NewNetNS(t)
	m, err := New(Config{
		PodCIDR:    testCIDR,
		CacheDir:   t.TempDir(),
		BridgeName: testBridge,
		HostNetNS:  node.GetPath(),
	}, zaptest.NewLogger(t))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return m, node
}

// podNS pins a pod network namespace, removed at the end of the test.
func podNS(t *testing.T) *netns.NetNS {
	t.Helper()
	dir := t.TempDir()
	ns, err := netns.NewNetNS(dir)
	if err != nil {
		t.Fatalf("creating pod netns: %v", err)
	}
	t.Cleanup(func() {
		if err := ns.Remove(); err != nil {
			t.Errorf("removing pod netns: %v", err)
		}
	})
	return ns
}

// serveIn starts an HTTP server answering body on port inside a namespace.
func serveIn(t *testing.T, ns *netns.NetNS, port int, body string) {
	t.Helper()
	var ln net.Listener
	err := ns.Do(func(cnins.NetNS) error {
		var err error
		ln, err = net.Listen("tcp", fmt.Sprintf(":%d", port))
		return err
	})
	if err != nil {
		t.Fatalf("listening in %s: %v", ns.GetPath(), err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, body)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
}

func waitBody(t *testing.T, nsPath, url, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := ctrtest.HTTPGetIn(nsPath, url)
		if err == nil && got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s from %s: %q %v, want %q", url, nsPath, got, err, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestSetupTeardownTwoPods(t *testing.T) {
	m, node := newTestManager(t)
	ctx := context.Background()
	_, subnet, _ := net.ParseCIDR(testCIDR)

	p1, p2 := podNS(t), podNS(t)
	start := time.Now()
	ip1, err := m.Setup(ctx, "pod-1", p1.GetPath(), []PortMapping{{HostPort: 30080, ContainerPort: 8080}})
	if err != nil {
		t.Fatalf("Setup pod-1: %v", err)
	}
	t.Logf("first pod network setup took %v", time.Since(start))
	t.Cleanup(func() {
		if err := m.Teardown(ctx, "pod-1", p1.GetPath()); err != nil {
			t.Errorf("Teardown pod-1: %v", err)
		}
	})
	start = time.Now()
	ip2, err := m.Setup(ctx, "pod-2", p2.GetPath(), nil)
	if err != nil {
		t.Fatalf("Setup pod-2: %v", err)
	}
	t.Logf("second pod network setup took %v", time.Since(start))
	t.Cleanup(func() {
		if err := m.Teardown(ctx, "pod-2", p2.GetPath()); err != nil {
			t.Errorf("Teardown pod-2: %v", err)
		}
	})
	if !subnet.Contains(ip1) || !subnet.Contains(ip2) || ip1.Equal(ip2) {
		t.Fatalf("pod IPs %v and %v, want distinct addresses in %s", ip1, ip2, testCIDR)
	}
	again, err := m.Setup(ctx, "pod-1", p1.GetPath(), nil)
	if err != nil || !again.Equal(ip1) {
		t.Fatalf("second Setup of pod-1 = %v %v, want %v", again, err, ip1)
	}
	if cached, ok := m.PodIP("pod-1"); !ok || !cached.Equal(ip1) {
		t.Errorf("PodIP(pod-1) = %v %v", cached, ok)
	}

	serveIn(t, p1, 8080, "pod-1 here")
	// Node -> pod, pod -> pod across the bridge, and the hostPort on the
	// node's bridge address.
	waitBody(t, node.GetPath(), fmt.Sprintf("http://%s:8080/", ip1), "pod-1 here")
	waitBody(t, p2.GetPath(), fmt.Sprintf("http://%s:8080/", ip1), "pod-1 here")
	gw, _ := Gateway(testCIDR)
	waitBody(t, node.GetPath(), fmt.Sprintf("http://%s:30080/", gw), "pod-1 here")
	// Hairpin: the pod reaches itself through the hostPort.
	waitBody(t, p1.GetPath(), fmt.Sprintf("http://%s:30080/", gw), "pod-1 here")

	// The bridge and veths are in the node namespace, not on the host.
	if _, err := netlink.LinkByName(testBridge); err == nil {
		t.Fatalf("bridge %s appeared in the host namespace", testBridge)
	}
	var bridgeAddrs []netlink.Addr
	err = node.Do(func(cnins.NetNS) error {
		br, err := netlink.LinkByName(testBridge)
		if err != nil {
			return err
		}
		bridgeAddrs, err = netlink.AddrList(br, netlink.FAMILY_V4)
		return err
	})
	if err != nil || len(bridgeAddrs) == 0 || !bridgeAddrs[0].IP.Equal(gw) {
		t.Fatalf("bridge in node ns: addrs %v err %v, want %v", bridgeAddrs, err, gw)
	}

	// Teardown releases the IP and is idempotent.
	ipamFile := filepath.Join(m.Config().CacheDir, "ipam", "strom", ip2.String())
	if _, err := os.Stat(ipamFile); err != nil {
		t.Fatalf("host-local has no allocation file for %v: %v", ip2, err)
	}
	if err := m.Teardown(ctx, "pod-2", p2.GetPath()); err != nil {
		t.Fatalf("Teardown pod-2: %v", err)
	}
	if _, err := os.Stat(ipamFile); !os.IsNotExist(err) {
		t.Errorf("IP %v still allocated after teardown: %v", ip2, err)
	}
	if err := m.Teardown(ctx, "pod-2", p2.GetPath()); err != nil {
		t.Errorf("second Teardown: %v", err)
	}
	if _, ok := m.PodIP("pod-2"); ok {
		t.Errorf("PodIP still cached after teardown")
	}
	var links []string
	err = p2.Do(func(cnins.NetNS) error {
		ls, err := netlink.LinkList()
		for _, l := range ls {
			links = append(links, l.Attrs().Name)
		}
		return err
	})
	if err != nil || strings.Contains(strings.Join(links, ","), "eth0") {
		t.Errorf("pod-2 links after teardown: %v %v", links, err)
	}
}

func TestTeardownAfterNamespaceIsGone(t *testing.T) {
	m, _ := newTestManager(t)
	ctx := context.Background()
	dir := t.TempDir()
	ns, err := netns.NewNetNS(dir)
	if err != nil {
		t.Fatalf("netns: %v", err)
	}
	ip, err := m.Setup(ctx, "pod-gone", ns.GetPath(), nil)
	if err != nil {
		ns.Remove()
		t.Fatalf("Setup: %v", err)
	}
	if err := ns.Remove(); err != nil {
		t.Fatalf("removing netns: %v", err)
	}
	if err := m.Teardown(ctx, "pod-gone", ns.GetPath()); err != nil {
		t.Fatalf("Teardown with the namespace gone: %v", err)
	}
	ipamFile := filepath.Join(m.Config().CacheDir, "ipam", "strom", ip.String())
	if _, err := os.Stat(ipamFile); !os.IsNotExist(err) {
		t.Errorf("IP %v still allocated: %v", ip, err)
	}
	if err := m.Teardown(ctx, "never-set-up", ""); err != nil {
		t.Errorf("Teardown of an unknown pod: %v", err)
	}
}

func TestRouteToBridge(t *testing.T) {
	m, node := newTestManager(t)
	if err := m.RouteToBridge("10.96.0.0/16"); err != nil {
		t.Fatalf("RouteToBridge: %v", err)
	}
	if err := m.RouteToBridge("10.96.0.0/16"); err != nil {
		t.Fatalf("RouteToBridge again: %v", err)
	}
	routes := func() []string {
		var out []string
		err := node.Do(func(cnins.NetNS) error {
			br, err := netlink.LinkByName(testBridge)
			if err != nil {
				return err
			}
			rs, err := netlink.RouteList(br, netlink.FAMILY_V4)
			for _, r := range rs {
				if r.Dst != nil {
					out = append(out, r.Dst.String())
				}
			}
			return err
		})
		if err != nil {
			t.Fatalf("listing routes in node ns: %v", err)
		}
		return out
	}
	if got := routes(); len(got) != 1 || got[0] != "10.96.0.0/16" {
		t.Fatalf("routes via %s = %v", testBridge, got)
	}
	if rs, _ := netlink.RouteGet(net.ParseIP("10.96.0.1")); len(rs) > 0 {
		if l, err := netlink.LinkByIndex(rs[0].LinkIndex); err == nil && l.Attrs().Name == testBridge {
			t.Fatalf("the host routes 10.96.0.1 via %s", testBridge)
		}
	}
	// A pod set up afterwards joins the pre-made bridge.
	p := podNS(t)
	ctx := context.Background()
	if _, err := m.Setup(ctx, "pod-r", p.GetPath(), nil); err != nil {
		t.Fatalf("Setup after RouteToBridge: %v", err)
	}
	t.Cleanup(func() {
		if err := m.Teardown(ctx, "pod-r", p.GetPath()); err != nil {
			t.Errorf("Teardown: %v", err)
		}
	})
	if err := m.RemoveRouteToBridge("10.96.0.0/16"); err != nil {
		t.Fatalf("RemoveRouteToBridge: %v", err)
	}
	if got := routes(); len(got) != 1 || got[0] != testCIDR {
		t.Fatalf("routes after removal = %v, want only the pod CIDR", got)
	}
	if err := m.RemoveRouteToBridge("10.96.0.0/16"); err != nil {
		t.Errorf("removing twice: %v", err)
	}
}
