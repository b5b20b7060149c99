package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"

	"github.com/strom-project/strom/cmd/stromd/app"
	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/api"
	"github.com/strom-project/strom/test/clustertest"
)

// The Kubernetes HTTPS API (cmd/stromd/kubeapi) measured side by side with
// the NATS API over the same API core, each in the same run:
//
//	go test ./test/bench -run '^$' -bench 'KubeAPIWrite' -benchtime 10000x
//	go test ./test/bench -run '^$' -bench 'KubeAPIList' -benchtime 10x
//
// STROM_BENCH_LIST_PODS sets the pods listed (10,000). The watch fan-out
// and the process benchmarks (kubectl, footprint) are in
// kubeapi_scale_bench_test.go.

const (
	protobufType = "application/vnd.kubernetes.protobuf"
	tableAccept  = "application/json;as=Table;g=meta.k8s.io;v=v1"
)

// envInt is the integer in the environment variable name, or def.
func envInt(b *testing.B, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		b.Fatalf("$%s=%q: want a positive integer", name, v)
	}
	return n
}

// quietKlog silences k8s.io/apiserver's klog lines (each stromd start and
// stop logs some twenty), which would be interleaved with the results.
var quietKlog sync.Once

// startKubeStromd runs stromd in-process with both APIs: the NATS one and
// the Kubernetes HTTPS one on a free loopback port.
func startKubeStromd(b *testing.B, noControllers bool) *app.Stromd {
	b.Helper()
	quietKlog.Do(func() { klog.SetLogger(logr.Discard()) })
	d := clustertest.StartStromd(b, func(c *app.Config) {
		c.Logger = zap.NewNop()
		c.APIListen = "127.0.0.1:0"
		c.NoControllers = noControllers
	})
	if d.Kubeconfig == "" {
		b.Fatal("stromd started without the Kubernetes API")
	}
	return d
}

// kubeOptions say how a client-go client talks to the HTTPS API.
type kubeOptions struct {
	protobuf bool // protobuf request and response bodies, else JSON
	// ownConn gives the client its own transport, hence its own HTTP/2
	// connection, as separate kubectl-like processes have. Without it
	// every client of the same kubeconfig shares client-go's cached
	// transport: one HTTP/2 connection (more only past the server's 100
	// streams per connection).
	ownConn bool
	noGzip  bool          // Accept-Encoding identity (client-go asks for gzip by default)
	read    *atomic.Int64 // if set, counts the bytes read from the wire (TLS records)
}

// kubeConfig is the rest.Config of a kubeconfig file with o applied and
// client-go's client-side rate limit (5 QPS by default) off.
func kubeConfig(b *testing.B, kubeconfig string, o kubeOptions) *rest.Config {
	b.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		b.Fatalf("loading %s: %v", kubeconfig, err)
	}
	cfg.QPS = -1
	// Both set explicitly: with neither, client-go (0.37) sends and asks
	// for protobuf for the built-in kinds.
	if o.protobuf {
		cfg.ContentType = protobufType
		cfg.AcceptContentTypes = protobufType + ",application/json"
	} else {
		cfg.ContentType = "application/json"
		cfg.AcceptContentTypes = "application/json"
	}
	cfg.DisableCompression = o.noGzip
	if o.ownConn || o.read != nil {
		// A Dial function makes client-go build this config its own
		// transport instead of sharing the cached one.
		dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
		read := o.read
		cfg.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := dialer.DialContext(ctx, network, addr)
			if err != nil || read == nil {
				return c, err
			}
			return &countingConn{Conn: c, read: read}, nil
		}
	}
	return cfg
}

func kubeClient(b *testing.B, kubeconfig string, o kubeOptions) *kubernetes.Clientset {
	b.Helper()
	cs, err := kubernetes.NewForConfig(kubeConfig(b, kubeconfig, o))
	if err != nil {
		b.Fatal(err)
	}
	return cs
}

// countingConn counts the bytes read from a connection.
type countingConn struct {
	net.Conn
	read *atomic.Int64
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.read.Add(int64(n))
	return n, err
}

// apiPort is the port of d's Kubernetes API.
func apiPort(b *testing.B, d *app.Stromd) int {
	_, p, err := net.SplitHostPort(d.KubeAPI)
	if err != nil {
		b.Fatal(err)
	}
	port, _ := strconv.Atoi(p)
	return port
}

// tcpConns counts the established TCP connections of this network
// namespace whose local port is port: with a listener on that port, the
// server ends of its connections.
func tcpConns(port int) int {
	n := 0
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		lines := strings.Split(string(data), "\n")
		for _, line := range lines[min(1, len(lines)):] {
			fields := strings.Fields(line)
			if len(fields) < 4 || fields[3] != "01" { // 01: ESTABLISHED
				continue
			}
			_, local, _ := strings.Cut(fields[1], ":")
			if p, err := strconv.ParseUint(local, 16, 16); err == nil && int(p) == port {
				n++
			}
		}
	}
	return n
}

// benchConfigMap is a ConfigMap with ~200 bytes of data.
func benchConfigMap(ns, name string, n int) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{"app": "bench"}},
		Data:       map[string]string{"n": strconv.Itoa(n), "payload": strings.Repeat("abcdefghijklmnopqrstuvwxyz0123456789", 5)},
	}
}

// cmWrite creates the ConfigMap name, then updates it from the object the
// create returned (its resourceVersion a precondition), and returns each
// call's latency as the client sees it (request encoding and response
// decoding included).
type cmWrite func(ctx context.Context, name string, n int) (create, update time.Duration, err error)

// natsWrite writes through the NATS API with Strom's client, as the CLI.
func natsWrite(c *api.Client) cmWrite {
	return func(ctx context.Context, name string, n int) (time.Duration, time.Duration, error) {
		t0 := time.Now()
		obj, _ := json.Marshal(benchConfigMap("default", name, n))
		resp, err := c.Do(ctx, api.VerbCreate, &api.Request{Object: obj, Namespace: "default"})
		if err != nil {
			return 0, 0, fmt.Errorf("create %s: %w", name, err)
		}
		var cm corev1.ConfigMap
		if err := json.Unmarshal(resp.Object, &cm); err != nil {
			return 0, 0, err
		}
		t1 := time.Now()
		cm.APIVersion, cm.Kind = "v1", "ConfigMap"
		cm.Data["n"] = strconv.Itoa(n + 1)
		obj, _ = json.Marshal(&cm)
		if resp, err = c.Do(ctx, api.VerbUpdate, &api.Request{Object: obj, Namespace: "default"}); err != nil {
			return 0, 0, fmt.Errorf("update %s: %w", name, err)
		}
		var updated corev1.ConfigMap
		if err := json.Unmarshal(resp.Object, &updated); err != nil {
			return 0, 0, err
		}
		return t1.Sub(t0), time.Since(t1), nil
	}
}

// kubeWrite writes through the HTTPS API with client-go.
func kubeWrite(cs kubernetes.Interface) cmWrite {
	cms := cs.CoreV1().ConfigMaps("default")
	return func(ctx context.Context, name string, n int) (time.Duration, time.Duration, error) {
		t0 := time.Now()
		cm, err := cms.Create(ctx, benchConfigMap("default", name, n), metav1.CreateOptions{})
		if err != nil {
			return 0, 0, fmt.Errorf("create %s: %w", name, err)
		}
		t1 := time.Now()
		cm.Data["n"] = strconv.Itoa(n + 1)
		if _, err := cms.Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
			return 0, 0, fmt.Errorf("update %s: %w", name, err)
		}
		return t1.Sub(t0), time.Since(t1), nil
	}
}

// BenchmarkKubeAPIWrite: b.N times, a create of a new ~200-byte ConfigMap
// then an update of it (2 writes, each one event), from 1 or 64
// concurrent clients, through the HTTPS API with client-go (JSON or
// protobuf bodies; with 64 clients each on its own HTTP/2 connection, as
// 64 kubectl processes, or all sharing one, as the goroutines of one
// client-go program) and, as the peer, through the NATS API with Strom's
// client (each client its own NATS connection, as the CLI). Each
// sub-benchmark has a fresh stromd (controllers running, as in
// BenchmarkWritePath).
func BenchmarkKubeAPIWrite(b *testing.B) {
	for _, clients := range []int{1, 64} {
		b.Run(fmt.Sprintf("clients=%d/nats", clients), func(b *testing.B) {
			d := startKubeStromd(b, false)
			writers := make([]cmWrite, clients)
			for i, c := range adminClients(b, d, clients) {
				writers[i] = natsWrite(c)
			}
			runWrites(b, writers, 0)
		})
		for _, proto := range []bool{false, true} {
			conns := []bool{true}
			if clients > 1 {
				conns = append(conns, false)
			}
			for _, own := range conns {
				name := fmt.Sprintf("clients=%d/https-%s/conn=%s", clients, map[bool]string{false: "json", true: "protobuf"}[proto],
					map[bool]string{true: "own", false: "shared"}[own])
				b.Run(name, func(b *testing.B) {
					d := startKubeStromd(b, false)
					writers := make([]cmWrite, clients)
					var shared *kubernetes.Clientset
					for i := range writers {
						if own || shared == nil {
							shared = kubeClient(b, d.Kubeconfig, kubeOptions{protobuf: proto, ownConn: own})
						}
						writers[i] = kubeWrite(shared)
					}
					runWrites(b, writers, apiPort(b, d))
				})
			}
		}
	}
}

// runWrites runs b.N create+update pairs over the writers and reports the
// rate and the latencies; port, if not 0, is the HTTPS API's, whose
// connections it counts.
func runWrites(b *testing.B, writers []cmWrite, port int) {
	ctx := context.Background()
	// One pair per client first: connections up, TLS handshakes and
	// client-go's first request done before the clock starts.
	for c, w := range writers {
		if _, _, err := w(ctx, fmt.Sprintf("warm-%d", c), 0); err != nil {
			b.Fatal(err)
		}
	}
	creates := make([][]time.Duration, len(writers))
	updates := make([][]time.Duration, len(writers))
	var next atomic.Int64
	var failed atomic.Bool
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for c, w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !failed.Load() {
				i := int(next.Add(1))
				if i > b.N {
					return
				}
				tc, tu, err := w(ctx, fmt.Sprintf("cm-%d-%d", c, i), i)
				if err != nil {
					failed.Store(true)
					b.Error(err)
					return
				}
				creates[c] = append(creates[c], tc)
				updates[c] = append(updates[c], tu)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	var all, cr, up []time.Duration
	for c := range writers {
		cr = append(cr, creates[c]...)
		up = append(up, updates[c]...)
	}
	all = append(append(all, cr...), up...)
	for _, s := range [][]time.Duration{all, cr, up} {
		sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(2*float64(b.N)/elapsed.Seconds(), "writes/s")
	b.ReportMetric(ms(percentile(all, 0.50)), "p50-ms")
	b.ReportMetric(ms(percentile(all, 0.99)), "p99-ms")
	b.ReportMetric(ms(percentile(cr, 0.99)), "create-p99-ms")
	b.ReportMetric(ms(percentile(up, 0.99)), "update-p99-ms")
	if port != 0 {
		b.ReportMetric(float64(tcpConns(port)), "tcp-conns")
	}
}

// createPods creates n pods (metadata and one container; no node, so they
// stay Pending) in namespace default with the write path, in parallel,
// and waits until the view holds them.
func createPods(b *testing.B, d *app.Stromd, n int) {
	b.Helper()
	ctx := context.Background()
	w := d.Writer()
	opts := events.WriteOptions{Actor: "bench"}
	start := time.Now()
	parallel(b, n, 64, func(i int) error {
		_, err := w.Create(ctx, benchPod(fmt.Sprintf("p-%05d", i)), opts)
		return err
	})
	waitView(b, d)
	b.Logf("%d pods created in %v", n, time.Since(start).Round(time.Millisecond))
}

// waitView waits until d's view has applied the last event of the log.
func waitView(b *testing.B, d *app.Stromd) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	last, err := events.LastSeq(ctx, d.JetStream())
	if err != nil {
		b.Fatal(err)
	}
	if err := d.Projection().Store().WaitFor(ctx, last); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkKubeAPIList lists STROM_BENCH_LIST_PODS (10,000) Pending pods
// of one namespace, each op one whole list as a client gets it: through
// the HTTPS API with client-go's typed List (JSON; JSON without gzip;
// protobuf; the bodies gzip-compressed when the client asks for it, as
// client-go does by default), as a Table (what kubectl asks for, decoded
// into a metav1.Table), and through the NATS API with Strom's client
// (ListAll: pages of 2,000, as `strom get`), each item decoded. Reported:
// ms per list, the body's bytes (uncompressed) and the bytes read from the
// connection per list (TLS records, compressed when gzip; NATS: the
// client's InBytes).
func BenchmarkKubeAPIList(b *testing.B) {
	n := envInt(b, "STROM_BENCH_LIST_PODS", 10000)
	d := startKubeStromd(b, true)
	createPods(b, d, n)
	ctx := context.Background()
	type variant struct {
		name   string
		opts   kubeOptions
		accept string
	}
	for _, v := range []variant{
		{"https-json", kubeOptions{}, "application/json"},
		{"https-json-nogzip", kubeOptions{noGzip: true}, "application/json"},
		{"https-protobuf", kubeOptions{protobuf: true}, protobufType},
		{"https-table", kubeOptions{}, tableAccept},
	} {
		b.Run(fmt.Sprintf("pods=%d/%s", n, v.name), func(b *testing.B) {
			var read atomic.Int64
			v.opts.read = &read
			cs := kubeClient(b, d.Kubeconfig, v.opts)
			// The body's size, and a first request before the clock.
			body, err := cs.CoreV1().RESTClient().Get().Namespace("default").Resource("pods").SetHeader("Accept", v.accept).DoRaw(ctx)
			if err != nil {
				b.Fatal(err)
			}
			list := func() (int, error) {
				if v.accept == tableAccept {
					raw, err := cs.CoreV1().RESTClient().Get().Namespace("default").Resource("pods").SetHeader("Accept", v.accept).DoRaw(ctx)
					if err != nil {
						return 0, err
					}
					var t metav1.Table
					if err := json.Unmarshal(raw, &t); err != nil {
						return 0, err
					}
					return len(t.Rows), nil
				}
				l, err := cs.CoreV1().Pods("default").List(ctx, metav1.ListOptions{})
				if err != nil {
					return 0, err
				}
				return len(l.Items), nil
			}
			read.Store(0)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				got, err := list()
				if err != nil {
					b.Fatal(err)
				}
				if got != n {
					b.Fatalf("listed %d pods, want %d", got, n)
				}
			}
			b.StopTimer()
			reportList(b, len(body), read.Load())
		})
	}
	b.Run(fmt.Sprintf("pods=%d/nats", n), func(b *testing.B) {
		c := clustertest.AdminClient(b, d)
		list := func() (int, int, error) {
			resp, err := c.ListAll(ctx, api.Request{Resource: "pods", Namespace: "default"})
			if err != nil {
				return 0, 0, err
			}
			size := 0
			for _, item := range resp.Items {
				var p corev1.Pod
				if err := json.Unmarshal(item, &p); err != nil {
					return 0, 0, err
				}
				size += len(item)
			}
			return len(resp.Items), size, nil
		}
		_, size, err := list()
		if err != nil {
			b.Fatal(err)
		}
		in0 := c.Conn().Stats().InBytes
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			got, _, err := list()
			if err != nil {
				b.Fatal(err)
			}
			if got != n {
				b.Fatalf("listed %d pods, want %d", got, n)
			}
		}
		b.StopTimer()
		reportList(b, size, int64(c.Conn().Stats().InBytes-in0))
	})
}

func reportList(b *testing.B, body int, wire int64) {
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/list")
	b.ReportMetric(float64(body), "body-bytes")
	b.ReportMetric(float64(wire)/float64(b.N), "wire-bytes/list")
}
