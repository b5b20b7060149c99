package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"

	"github.com/strom-project/strom/cmd/stromd/app"
	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/api"
	"github.com/strom-project/strom/test/kubetools"
	"github.com/strom-project/strom/test/logtest"
)

// The Kubernetes HTTPS API at scale and as a process: a watch fan-out,
// the real kubectl against `strom get`, and stromd's own footprint.
//
//	go test ./test/bench -run '^$' -bench 'KubeAPIWatchFanout' -benchtime 1x -timeout 90m
//	go test ./test/bench -run '^$' -bench 'KubectlGetPods' -benchtime 10x
//	go test ./test/bench -run '^$' -bench 'KubeAPIFootprint' -benchtime 1x
//
// STROM_BENCH_WATCHERS (1,000) and STROM_BENCH_WATCH_EVENTS (10,000) set
// the fan-out's size, STROM_BENCH_KUBECTL_PODS the pods of KubectlGetPods
// (1,000); STROM_BENCH_BASE_TREE names a checkout of an earlier tree (e.g.
// a git worktree of fa23e6f, before the generic server) whose stromd
// KubeAPIFootprint also builds and measures.

// buildBinary builds the package pkg of the module in dir ("" for this
// module, then pkg is an import path) into a temporary directory.
func buildBinary(b *testing.B, dir, pkg, name string, ldflags ...string) string {
	b.Helper()
	out := filepath.Join(b.TempDir(), name)
	args := []string{"build", "-o", out}
	if len(ldflags) > 0 {
		args = append(args, "-ldflags="+strings.Join(ldflags, " "))
	}
	cmd := exec.Command("go", append(args, pkg)...)
	cmd.Dir = dir
	start := time.Now()
	if msg, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("building %s in %q: %v\n%s", pkg, dir, err, msg)
	}
	b.Logf("built %s (%s) in %v", pkg, orDefault(dir, "this tree"), time.Since(start).Round(time.Millisecond))
	return out
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// goMem is the Go runtime's live heap plus goroutine stacks, after a GC.
func goMem() (heap, stacks uint64, goroutines int) {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc, m.StackInuse, runtime.NumGoroutine()
}

// BenchmarkKubeAPIWatchFanout: STROM_BENCH_WATCHERS (1,000) watches of the
// ConfigMaps of one namespace over HTTPS from one client-go clientset
// (protobuf, client-go's default for built-in kinds, or JSON, as `kubectl
// get -w`; client-go multiplexes them over HTTP/2 connections and opens
// another when one has the server's 100 streams), then
// STROM_BENCH_WATCH_EVENTS (10,000) ConfigMap creations through the write
// path (events.Writer, 16 goroutines), each delivered to every watcher.
// A watch the server ends (one that fell too far behind) is resumed from
// its last resourceVersion, as client-go's RetryWatcher does; the resumes
// are counted. Reported: delivered events/s over all watchers (N×M /
// first write to last delivery), the write rate, the TCP connections, and
// the memory of an idle watcher: the Go heap (live, after a GC) plus
// goroutine stacks grown from before the watches to after they are
// established, divided by N. Client and server are one process here, so
// that is both ends of a watch; the process's RSS, logged, is no measure
// of it (it moves with what earlier runs left and what the GC returns).
// BenchmarkKubeAPIFootprint measures stromd's side alone, as RSS.
func BenchmarkKubeAPIWatchFanout(b *testing.B) {
	watchers := envInt(b, "STROM_BENCH_WATCHERS", 1000)
	writes := envInt(b, "STROM_BENCH_WATCH_EVENTS", 10000)
	for _, proto := range []bool{true, false} {
		b.Run(fmt.Sprintf("watchers=%d/events=%d/%s", watchers, writes, map[bool]string{true: "protobuf", false: "json"}[proto]), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				runWatchFanout(b, watchers, writes, proto)
			}
		})
	}
}

func runWatchFanout(b *testing.B, n, m int, proto bool) {
	b.StopTimer()
	d := startKubeStromd(b, true)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := d.Writer()
	opts := events.WriteOptions{Actor: "bench"}
	const ns = "fanout"
	if _, err := w.Create(ctx, &corev1.Namespace{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"},
		ObjectMeta: metav1.ObjectMeta{Name: ns}}, opts); err != nil {
		b.Fatal(err)
	}
	waitView(b, d)
	cms := kubeClient(b, d.Kubeconfig, kubeOptions{protobuf: proto}).CoreV1().ConfigMaps(ns)
	// A first request, so the client's connection exists before the
	// memory baseline.
	list, err := cms.List(ctx, metav1.ListOptions{})
	if err != nil {
		b.Fatal(err)
	}
	from := list.ResourceVersion

	heap0, stacks0, g0 := goMem()
	rss0 := rssMiB(b)
	t0 := time.Now()
	ws := openWatches(b, ctx, cms, n, from)
	established := time.Since(t0)
	heap1, stacks1, g1 := goMem()
	rss1 := rssMiB(b)
	conns := tcpConns(apiPort(b, d))

	var delivered, resumes atomic.Int64
	var remaining atomic.Int64
	remaining.Store(int64(n))
	var lastDelivery atomic.Int64 // unix nanos
	done := make(chan struct{})
	errs := make(chan error, n)
	for i := range ws {
		go func() {
			if err := consume(ctx, cms, ws[i], from, m, &delivered, &resumes); err != nil {
				errs <- err
				return
			}
			if remaining.Add(-1) == 0 {
				lastDelivery.Store(time.Now().UnixNano())
				close(done)
			}
		}()
	}

	b.StartTimer()
	start := time.Now()
	var retries atomic.Int64
	parallel(b, m, 16, func(i int) error {
		// With the machine saturated by the fan-out an append's ack can
		// take longer than JetStream's 5 s publish timeout; the append
		// may still have been made, so a retry that finds the object
		// there is done.
		for try := 0; ; try++ {
			_, err := w.Create(ctx, benchConfigMap(ns, fmt.Sprintf("w-%06d", i), i), opts)
			if err == nil || (try > 0 && events.ReasonOf(err) == events.ReasonAlreadyExists) {
				return nil
			}
			if try == 5 {
				return err
			}
			retries.Add(1)
		}
	})
	written := time.Since(start)
	timeout := time.After(30 * time.Minute)
	select {
	case <-done:
	case err := <-errs:
		b.Fatalf("a watcher failed: %v (%d of %d events delivered)", err, delivered.Load(), n*m)
	case <-timeout:
		b.Fatalf("%d of %d events delivered after 30 minutes (%d resumes)", delivered.Load(), n*m, resumes.Load())
	}
	b.StopTimer()
	total := time.Unix(0, lastDelivery.Load()).Sub(start)
	b.ReportMetric(float64(n*m)/total.Seconds(), "events/s")
	b.ReportMetric(float64(m)/written.Seconds(), "writes/s")
	// The last delivery can come before the last write's ack reaches its
	// writer: then nothing was left to deliver after the writes.
	b.ReportMetric(max(0, total.Seconds()-written.Seconds()), "s-drain-after-writes")
	b.ReportMetric(float64(resumes.Load()), "resumes")
	b.ReportMetric(float64(retries.Load()), "write-retries")
	b.ReportMetric(float64(conns), "tcp-conns")
	b.ReportMetric(established.Seconds(), "s-establish")
	b.ReportMetric((float64(heap1+stacks1)-float64(heap0+stacks0))/1024/float64(n), "KiB-heap+stack/watcher")
	b.ReportMetric(float64(g1-g0)/float64(n), "goroutines/watcher")
	b.Logf("%d watchers established in %v over %d TCP connections; heap %.1f → %.1f MiB, stacks %.1f → %.1f MiB, RSS %.1f → %.1f MiB, goroutines %d → %d; %d writes in %v, all %d deliveries after %v, %d resumes, %d write retries",
		n, established.Round(time.Millisecond), conns, float64(heap0)/(1<<20), float64(heap1)/(1<<20), float64(stacks0)/(1<<20), float64(stacks1)/(1<<20),
		rss0, rss1, g0, g1, m, written.Round(time.Millisecond), n*m, total.Round(time.Millisecond), resumes.Load(), retries.Load())
	for _, wt := range ws {
		wt.Stop()
	}
}

// openWatches opens n watches of cms from resourceVersion rv, 32 at a
// time; each is established (the server has registered it) when Watch
// returns.
func openWatches(b *testing.B, ctx context.Context, cms typedcorev1.ConfigMapInterface, n int, rv string) []watch.Interface {
	b.Helper()
	ws := make([]watch.Interface, n)
	parallel(b, n, 32, func(i int) error {
		var err error
		ws[i], err = cms.Watch(ctx, metav1.ListOptions{ResourceVersion: rv})
		return err
	})
	return ws
}

// consume reads a watch until it has seen want events, resuming it from
// its last resourceVersion whenever the server ends it.
func consume(ctx context.Context, cms typedcorev1.ConfigMapInterface, w watch.Interface, rv string, want int, delivered, resumes *atomic.Int64) error {
	got := 0
	defer func() { w.Stop() }()
	for got < want {
		ev, ok := <-w.ResultChan()
		if ok && ev.Type != watch.Error {
			if ev.Type == watch.Bookmark {
				continue
			}
			cm, isCM := ev.Object.(*corev1.ConfigMap)
			if !isCM {
				return fmt.Errorf("watch event %s of %T", ev.Type, ev.Object)
			}
			rv = cm.ResourceVersion
			got++
			delivered.Add(1)
			continue
		}
		// Ended by the server (an Error event, or the stream closed):
		// watch again from the last event seen.
		w.Stop()
		resumes.Add(1)
		var err error
		for try := 0; ; try++ {
			if w, err = cms.Watch(ctx, metav1.ListOptions{ResourceVersion: rv}); err == nil {
				break
			}
			if try == 20 {
				return fmt.Errorf("resuming the watch from %s: %w", rv, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return nil
}

// BenchmarkKubectlGetPods: wall time of `kubectl get pods` (and `-A`), the
// real kubectl (test/tools/bin), against `strom get pods` with the same
// STROM_BENCH_KUBECTL_PODS (1,000) Pending pods in an in-process stromd
// (no controllers). Each op is one run of the command, output read and
// discarded. kubectl's discovery cache is warmed first (what every run
// after a user's first sees); kubectl/get-pods-cold-cache runs with an
// empty cache every time. kubectl lists in chunks of 500 as a Table;
// strom lists in pages of 2,000 and formats the objects itself. Also
// reported: the client process's CPU and this process's (stromd's).
func BenchmarkKubectlGetPods(b *testing.B) {
	n := envInt(b, "STROM_BENCH_KUBECTL_PODS", 1000)
	kubectl := kubetools.Kubectl(b)
	strom := buildBinary(b, "", "github.com/strom-project/strom/cmd/strom", "strom")
	d := startKubeStromd(b, true)
	createPods(b, d, n)
	cache := b.TempDir()
	kube := func(cacheDir string, args ...string) *exec.Cmd {
		return exec.Command(kubectl, append([]string{"--kubeconfig", d.Kubeconfig, "--cache-dir", cacheDir}, args...)...)
	}
	if out, err := kube(cache, "get", "pods").CombinedOutput(); err != nil { // warms the discovery cache
		b.Fatalf("kubectl get pods: %v\n%s", err, out)
	}
	cases := []struct {
		name string
		cmd  func() *exec.Cmd
	}{
		{"kubectl/get-pods", func() *exec.Cmd { return kube(cache, "get", "pods") }},
		{"kubectl/get-pods-A", func() *exec.Cmd { return kube(cache, "get", "pods", "-A") }},
		{"kubectl/get-pods-cold-cache", func() *exec.Cmd { return kube(b.TempDir(), "get", "pods") }},
		{"strom/get-pods", func() *exec.Cmd { return exec.Command(strom, "--config", d.AdminConfig, "get", "pods") }},
		{"strom/get-pods-A", func() *exec.Cmd { return exec.Command(strom, "--config", d.AdminConfig, "get", "pods", "-A") }},
	}
	for _, c := range cases {
		b.Run(fmt.Sprintf("pods=%d/%s", n, c.name), func(b *testing.B) {
			var wall, child, server time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				cmd := c.cmd()
				var out, errOut bytes.Buffer
				cmd.Stdout, cmd.Stderr = &out, &errOut
				quiesce()
				cpu0 := selfCPU()
				b.StartTimer()
				t0 := time.Now()
				err := cmd.Run()
				el := time.Since(t0)
				b.StopTimer()
				server += selfCPU() - cpu0
				if err != nil {
					b.Fatalf("%v: %v\n%s", cmd.Args, err, errOut.Bytes())
				}
				if lines := bytes.Count(out.Bytes(), []byte("\n")); lines != n+1 { // a header, then one line a pod
					b.Fatalf("%v printed %d lines, want %d:\n%.2000s", cmd.Args, lines, n+1, out.Bytes())
				}
				wall += el
				child += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
				b.StartTimer()
			}
			b.StopTimer()
			per := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(b.N) }
			b.ReportMetric(per(wall), "ms/run")
			b.ReportMetric(per(child), "ms-cpu-client/run")
			b.ReportMetric(per(server), "ms-cpu-stromd/run")
		})
	}
}

// stromdProc is a stromd binary running as its own process.
type stromdProc struct {
	cmd     *exec.Cmd
	dataDir string
	logPath string
	exited  chan struct{} // closed once the process has been waited for
}

// startStromdProc starts bin (with a fresh data dir, NATS on a free port,
// no agent, and args) and waits until it serves (admin.conf is written
// last, once both APIs answer).
func startStromdProc(b *testing.B, bin string, args ...string) *stromdProc {
	b.Helper()
	dir := b.TempDir()
	p := &stromdProc{dataDir: dir, logPath: filepath.Join(dir, "stromd.log"), exited: make(chan struct{})}
	logf, err := os.Create(p.logPath)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { logf.Close() })
	p.cmd = exec.Command(bin, append([]string{"--data-dir", dir, "--listen", "127.0.0.1:0", "--no-agent", "--log-level", "warn"}, args...)...)
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	if err := p.cmd.Start(); err != nil {
		b.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); close(p.exited) }()
	b.Cleanup(p.stop)
	logtest.Eventually(b, 2*time.Minute, func() error {
		select {
		case <-p.exited:
			log, _ := os.ReadFile(p.logPath)
			b.Fatalf("stromd exited (%v): %s", p.cmd.ProcessState, log)
		default:
		}
		_, err := os.Stat(filepath.Join(dir, "admin.conf"))
		return err
	})
	return p
}

// stop ends the process (SIGTERM, then SIGKILL after 20 s) and waits.
func (p *stromdProc) stop() {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// status reads a "kB" field of the process's /proc status (VmRSS, VmHWM,
// RssAnon, RssFile) in MiB.
func (p *stromdProc) status(b *testing.B, field string) float64 {
	b.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			if err != nil {
				b.Fatalf("%s %q: %v", field, v, err)
			}
			return kb / 1024
		}
	}
	b.Fatalf("no %s in /proc/%d/status", field, p.cmd.Process.Pid)
	return 0
}

// serve sends the requests a first user does: a NATS list, and an HTTPS
// list when kubeconfig is set.
func (p *stromdProc) serve(b *testing.B, kubeconfig string) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg, err := api.LoadConfig(filepath.Join(p.dataDir, "admin.conf"))
	if err != nil {
		b.Fatal(err)
	}
	c, err := api.Dial(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Do(ctx, api.VerbList, &api.Request{Resource: "pods", AllNamespaces: true}); err != nil {
		b.Fatal(err)
	}
	if kubeconfig != "" {
		if _, err := kubeClient(b, kubeconfig, kubeOptions{}).CoreV1().Pods("").List(ctx, metav1.ListOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkKubeAPIFootprint measures the cost of the Kubernetes HTTPS API
// (k8s.io/apiserver's generic server) in stromd as its own process (the
// benchmark's RSS would include the test binary's): VmRSS after it serves
// a first request of each API and 5 s idle, with the API off
// (--api-listen "") and on, and, with it on, once STROM_BENCH_WATCHERS
// (1,000) watches of ConfigMaps are established and 5 s idle (stromd's
// side of a watch alone); then the stripped (-s -w) size of the binary.
// With STROM_BENCH_BASE_TREE, the same for that tree's stromd (an older
// one has no --api-listen and serves no HTTPS API).
func BenchmarkKubeAPIFootprint(b *testing.B) {
	const idle = 5 * time.Second
	watchers := envInt(b, "STROM_BENCH_WATCHERS", 1000)
	base := os.Getenv("STROM_BENCH_BASE_TREE")
	stromd := buildBinary(b, "", "github.com/strom-project/strom/cmd/stromd", "stromd")
	var baseBin string
	if base != "" {
		baseBin = buildBinary(b, base, "./cmd/stromd", "stromd-base")
	}
	rss := func(b *testing.B, bin string, api bool, args ...string) {
		for i := 0; i < b.N; i++ {
			p := startStromdProc(b, bin, args...)
			kubeconfig := ""
			if api {
				kubeconfig = filepath.Join(p.dataDir, app.KubeconfigFile)
			}
			p.serve(b, kubeconfig)
			time.Sleep(idle)
			idleRSS := p.status(b, "VmRSS")
			b.ReportMetric(idleRSS, "MiB-rss-idle")
			// Anonymous (heap, stacks) and file-backed (the binary's
			// pages touched) parts of it.
			b.ReportMetric(p.status(b, "RssAnon"), "MiB-rss-anon")
			b.ReportMetric(p.status(b, "RssFile"), "MiB-rss-file")
			b.ReportMetric(p.status(b, "VmHWM"), "MiB-rss-peak")
			if api {
				ctx, cancel := context.WithCancel(context.Background())
				cms := kubeClient(b, kubeconfig, kubeOptions{}).CoreV1().ConfigMaps("default")
				ws := openWatches(b, ctx, cms, watchers, "")
				time.Sleep(idle)
				withWatches := p.status(b, "VmRSS")
				b.ReportMetric(withWatches, fmt.Sprintf("MiB-rss-%d-watches", watchers))
				b.ReportMetric((withWatches-idleRSS)*1024/float64(watchers), "KiB-rss/watch")
				for _, w := range ws {
					w.Stop()
				}
				cancel()
			}
			p.stop()
		}
	}
	b.Run("rss/api=off", func(b *testing.B) { rss(b, stromd, false, "--api-listen=") })
	b.Run("rss/api=on", func(b *testing.B) { rss(b, stromd, true, "--api-listen", "127.0.0.1:0") })
	if base != "" {
		b.Run("rss/base", func(b *testing.B) { rss(b, baseBin, false) })
	}
	b.Run("stripped-size", func(b *testing.B) {
		size := func(dir, pkg string) float64 {
			st, err := os.Stat(buildBinary(b, dir, pkg, "stromd-stripped", "-s", "-w"))
			if err != nil {
				b.Fatal(err)
			}
			return float64(st.Size()) / (1 << 20)
		}
		now := size("", "github.com/strom-project/strom/cmd/stromd")
		b.ReportMetric(now, "MiB")
		if base != "" {
			was := size(base, "./cmd/stromd")
			b.ReportMetric(was, "MiB-base")
			b.ReportMetric(now-was, "MiB-added")
		}
	})
}
