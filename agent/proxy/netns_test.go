package proxy

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netns"
)

// This file holds the integration tests' small test bed: a network
// namespace acting as the node, with a bridge to "pod" namespaces that
// run a TCP server in-process. Everything lives in namespaces the test
// creates and deletes.

func requireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatalf("this test needs root (network namespaces and iptables); run: sudo go test ./agent/proxy/")
	}
	for _, bin := range []string{"ip", "iptables-restore", "iptables-save", "nft"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Fatalf("this test needs %s: %v", bin, err)
		}
	}
}

func run(t testing.TB, args ...string) {
	t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// testNetns creates a named network namespace with lo up and deletes it
// in t.Cleanup.
func testNetns(t testing.TB, name string) string {
	t.Helper()
	run(t, "ip", "netns", "add", name)
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
			t.Errorf("deleting netns %s: %v: %s", name, err, out)
		}
	})
	run(t, "ip", "-n", name, "link", "set", "lo", "up")
	return name
}

// inNetns runs f on a thread switched into the named namespace.
func inNetns(name string, f func() error) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		return err
	}
	defer orig.Close()
	target, err := netns.GetFromName(name)
	if err != nil {
		return fmt.Errorf("opening netns %s: %w", name, err)
	}
	defer target.Close()
	if err := netns.Set(target); err != nil {
		return err
	}
	defer func() {
		if err := netns.Set(orig); err != nil {
			panic(fmt.Sprintf("cannot return to original netns: %v", err))
		}
	}()
	return f()
}

// testBed is a node namespace with a bridge (10.244.0.1/24) and the
// service CIDR routed to it, a dummy "uplink" with nodeIP, and pods.
type testBed struct {
	t      testing.TB
	prefix string
	node   string
	nodeIP string
	pods   map[string]string // pod name -> IP
	podNS  map[string]string // pod name -> netns name
}

func newTestBed(t testing.TB) *testBed {
	requireRoot(t)
	b := &testBed{t: t, prefix: fmt.Sprintf("spx%d", os.Getpid()%100000), nodeIP: "10.100.0.2", pods: map[string]string{}, podNS: map[string]string{}}
	b.node = testNetns(t, b.prefix+"-node")
	n := b.node
	run(t, "ip", "-n", n, "link", "add", "br0", "type", "bridge")
	run(t, "ip", "-n", n, "addr", "add", "10.244.0.1/24", "dev", "br0")
	run(t, "ip", "-n", n, "link", "set", "br0", "up")
	run(t, "ip", "-n", n, "route", "add", "10.96.0.0/12", "dev", "br0")
	run(t, "ip", "netns", "exec", n, "sysctl", "-qw", "net.ipv4.ip_forward=1")
	// No dummy driver here: a veth pair whose other end stays down.
	run(t, "ip", "-n", n, "link", "add", "uplink0", "type", "veth", "peer", "name", "uplink1")
	run(t, "ip", "-n", n, "addr", "add", b.nodeIP+"/24", "dev", "uplink0")
	run(t, "ip", "-n", n, "link", "set", "uplink0", "up")
	return b
}

// addPod creates a pod namespace on the bridge with the given last
// address octet and starts a TCP server on port 8080 in it that answers
// every connection with the pod's name.
func (b *testBed) addPod(name string, octet int) string {
	t := b.t
	ns := testNetns(t, b.prefix+"-"+name)
	ip := fmt.Sprintf("10.244.0.%d", octet)
	host := fmt.Sprintf("v%s%d", b.prefix[3:], octet)
	run(t, "ip", "-n", b.node, "link", "add", host, "type", "veth", "peer", "name", "eth0", "netns", ns)
	run(t, "ip", "-n", b.node, "link", "set", host, "master", "br0", "up")
	// As the CNI bridge plugin's hairpinMode does: a pod reaching itself
	// through a service gets its packets back out of the port they came in.
	run(t, "ip", "-n", b.node, "link", "set", host, "type", "bridge_slave", "hairpin", "on")
	run(t, "ip", "-n", ns, "addr", "add", ip+"/24", "dev", "eth0")
	run(t, "ip", "-n", ns, "link", "set", "eth0", "up")
	run(t, "ip", "-n", ns, "route", "add", "default", "via", "10.244.0.1")
	var ln net.Listener
	if err := inNetns(ns, func() (err error) {
		ln, err = net.Listen("tcp4", ":8080")
		return err
	}); err != nil {
		t.Fatalf("listening in pod %s: %v", name, err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			fmt.Fprintln(c, name)
			c.Close()
		}
	}()
	b.pods[name] = ip
	b.podNS[name] = ns
	return ip
}

// dial connects from the node namespace and returns the backend's name.
func (b *testBed) dial(addr string) (string, error) { return b.dialFrom(b.node, addr) }

// dialFrom connects from namespace ns and returns the backend's name.
func (b *testBed) dialFrom(ns, addr string) (string, error) {
	var c net.Conn
	err := inNetns(ns, func() (err error) {
		c, err = net.DialTimeout("tcp4", addr, 2*time.Second)
		return err
	})
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return "", fmt.Errorf("reading from %s: %w", addr, err)
	}
	return strings.TrimSpace(line), nil
}

// hits dials addr n times and counts answers per backend.
func (b *testBed) hits(addr string, n int) (map[string]int, error) {
	got := map[string]int{}
	for i := 0; i < n; i++ {
		name, err := b.dial(addr)
		if err != nil {
			return got, fmt.Errorf("connection %d to %s: %w", i, addr, err)
		}
		got[name]++
	}
	return got, nil
}
