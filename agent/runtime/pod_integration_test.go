package runtime

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/strom-project/strom/agent/network"
	"github.com/strom-project/strom/test/ctrtest"
)

// TestHTTPServerPod runs the whole pod path: sandbox, CNI inside a node
// namespace, container, HTTP from the node to the pod IP, teardown.
func TestHTTPServerPod(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	node := ctrtest.NewNetNS(t)
	net0, err := network.New(network.Config{
		PodCIDR:    "10.244.9.0/24",
		CacheDir:   t.TempDir(),
		BridgeName: "stromrt0",
		HostNetNS:  node.GetPath(),
	}, nil)
	if err != nil {
		t.Fatalf("network.New: %v", err)
	}
	_, podCIDR, _ := net.ParseCIDR("10.244.9.0/24")

	start := time.Now()
	sb := e.sandbox(t, "uid-web", "web-0")
	ip, err := net0.Setup(ctx, sb.PodUID, sb.NetNSPath, nil)
	if err != nil {
		t.Fatalf("network Setup: %v", err)
	}
	// Registered after e.sandbox, so it runs before the sandbox removal.
	t.Cleanup(func() {
		if err := net0.Teardown(ctx, sb.PodUID, sb.NetNSPath); err != nil {
			t.Errorf("network Teardown: %v", err)
		}
	})
	if !podCIDR.Contains(ip) {
		t.Fatalf("pod IP %v not in %v", ip, podCIDR)
	}
	if sb, err = e.rt.SetSandboxIP(ctx, sb.PodUID, ip.String()); err != nil {
		t.Fatalf("SetSandboxIP: %v", err)
	}
	img, err := e.rt.EnsureImage(ctx, "strom.test/httpserver:1", PullIfNotPresent, nil)
	if err != nil {
		t.Fatalf("EnsureImage: %v", err)
	}
	id := e.run(t, sb, ContainerConfig{Name: "web", Image: img.Name, Env: []string{"PORT=9090"},
		Resources: Resources{MemoryLimitBytes: 64 << 20, CPULimitMillis: 500}})
	running := time.Since(start)

	url := fmt.Sprintf("http://%s:9090/", ip)
	deadline := time.Now().Add(15 * time.Second)
	var body string
	for {
		body, err = ctrtest.HTTPGetIn(node.GetPath(), url)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s from the node: %v", url, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	serving := time.Since(start)
	if strings.TrimSpace(body) != "web-0" {
		t.Fatalf("GET / = %q, want the pod's hostname web-0", body)
	}
	if h, err := ctrtest.HTTPGetIn(node.GetPath(), url+"healthz"); err != nil || strings.TrimSpace(h) != "ok" {
		t.Errorf("GET /healthz = %q %v", h, err)
	}
	t.Logf("pod start (sandbox+CNI+create+start): %v; first HTTP answer after %v", running, serving)

	// The container sees its own IP in /etc/hosts and on eth0.
	if _, out := e.exec(t, id, "cat", "/etc/hosts"); !strings.Contains(out, ip.String()+"\tweb-0") {
		t.Errorf("/etc/hosts = %q", out)
	}
	if _, out := e.exec(t, id, "ip", "-4", "addr", "show", "eth0"); !strings.Contains(out, ip.String()+"/24") {
		t.Errorf("eth0 = %q", out)
	}
	// The server stops cleanly on SIGTERM well within the grace period.
	stopStart := time.Now()
	if err := e.rt.StopContainer(ctx, id, 10*time.Second); err != nil {
		t.Fatalf("StopContainer: %v", err)
	}
	st, err := e.rt.ContainerStatus(ctx, id)
	if err != nil || st.ExitCode != 0 || time.Since(stopStart) > 5*time.Second {
		t.Errorf("after stop: %+v %v (took %v)", st, err, time.Since(stopStart))
	}
}

// TestPodStartLatency starts pods one after another through the whole path
// (sandbox, CNI, create, start) and reports the latency distribution. Each
// pod must be running within Kubernetes' 5 s pod-startup SLO.
func TestPodStartLatency(t *testing.T) {
	const pods = 20
	e := newEnv(t)
	ctx := context.Background()
	node := ctrtest.NewNetNS(t)
	nw, err := network.New(network.Config{PodCIDR: "10.244.10.0/24", CacheDir: t.TempDir(), BridgeName: "stromlat0", HostNetNS: node.GetPath()}, nil)
	if err != nil {
		t.Fatalf("network.New: %v", err)
	}
	var starts, stops []time.Duration
	var phase [4]time.Duration // sandbox, network, create, start
	for i := 0; i < pods; i++ {
		uid := fmt.Sprintf("lat-%02d", i)
		t0 := time.Now()
		sb, err := e.rt.CreateSandbox(ctx, SandboxConfig{PodUID: uid, Namespace: "bench", Name: uid})
		if err != nil {
			t.Fatalf("CreateSandbox: %v", err)
		}
		t1 := time.Now()
		phase[0] += t1.Sub(t0)
		ip, err := nw.Setup(ctx, uid, sb.NetNSPath, nil)
		if err != nil {
			t.Fatalf("Setup: %v", err)
		}
		t2 := time.Now()
		phase[1] += t2.Sub(t1)
		if sb, err = e.rt.SetSandboxIP(ctx, uid, ip.String()); err != nil {
			t.Fatalf("SetSandboxIP: %v", err)
		}
		id, err := e.rt.CreateContainer(ctx, sb, ContainerConfig{Name: "main", Image: busybox, Command: []string{"sleep", "3600"}})
		if err != nil {
			t.Fatalf("CreateContainer: %v", err)
		}
		t3 := time.Now()
		phase[2] += t3.Sub(t2)
		if err := e.rt.StartContainer(ctx, id); err != nil {
			t.Fatalf("StartContainer: %v", err)
		}
		phase[3] += time.Since(t3)
		st, err := e.rt.ContainerStatus(ctx, id)
		if err != nil || st.State != StateRunning {
			t.Fatalf("status: %+v %v", st, err)
		}
		starts = append(starts, time.Since(t0))

		t4 := time.Now()
		if err := e.rt.StopContainer(ctx, id, 0); err != nil {
			t.Fatalf("StopContainer: %v", err)
		}
		if err := e.rt.RemoveContainer(ctx, id); err != nil {
			t.Fatalf("RemoveContainer: %v", err)
		}
		if err := nw.Teardown(ctx, uid, sb.NetNSPath); err != nil {
			t.Fatalf("Teardown: %v", err)
		}
		if err := e.rt.RemoveSandbox(ctx, uid); err != nil {
			t.Fatalf("RemoveSandbox: %v", err)
		}
		stops = append(stops, time.Since(t4))
	}
	sortDurations(starts)
	sortDurations(stops)
	t.Logf("pod start over %d pods: p50 %v p90 %v max %v", pods, starts[pods/2], starts[pods*9/10], starts[pods-1])
	t.Logf("mean per phase: sandbox %v, CNI %v, create %v, start %v",
		phase[0]/pods, phase[1]/pods, phase[2]/pods, phase[3]/pods)
	t.Logf("pod kill+teardown over %d pods: p50 %v p90 %v max %v", pods, stops[pods/2], stops[pods*9/10], stops[pods-1])
	// Times are reported, not asserted: speed is for benchmarks.
}

func sortDurations(d []time.Duration) {
	for i := 1; i < len(d); i++ {
		for j := i; j > 0 && d[j] < d[j-1]; j-- {
			d[j], d[j-1] = d[j-1], d[j]
		}
	}
}
