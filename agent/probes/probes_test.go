package probes

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestTracker(t *testing.T) {
	tests := []struct {
		name       string
		initial    Result
		succ, fail int
		in         []Result
		want       []Result
	}{
		{"readiness needs 2 successes", Failure, 2, 3, []Result{Success, Success, Failure, Success, Success}, []Result{Failure, Success, Success, Success, Success}},
		{"failure threshold 3", Success, 1, 3, []Result{Failure, Failure, Success, Failure, Failure, Failure}, []Result{Success, Success, Success, Success, Success, Failure}},
		{"threshold 1 flips at once", Unknown, 1, 1, []Result{Failure, Success}, []Result{Failure, Success}},
		{"zero thresholds mean 1", Unknown, 0, 0, []Result{Success}, []Result{Success}},
	}
	for _, tc := range tests {
		tr := NewTracker(tc.initial, tc.succ, tc.fail)
		for i, r := range tc.in {
			tr.Observe(r)
			if got := tr.Result(); got != tc.want[i] {
				t.Errorf("%s: after %d results = %v, want %v", tc.name, i+1, got, tc.want[i])
			}
		}
	}
}

func serverTarget(t *testing.T, h http.HandlerFunc) (Target, intstr.IntOrString) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	host, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	p, _ := strconv.Atoi(port)
	return Target{PodIP: host, Container: &corev1.Container{Ports: []corev1.ContainerPort{{Name: "web", ContainerPort: int32(p)}}}}, intstr.FromInt(p)
}

func TestCheckHTTP(t *testing.T) {
	var gotHeader, gotHost string
	tgt, port := serverTarget(t, func(w http.ResponseWriter, r *http.Request) {
		gotHeader, gotHost = r.Header.Get("X-Probe"), r.Host
		switch r.URL.Path {
		case "/ok":
			w.WriteHeader(200)
		case "/redirect":
			http.Redirect(w, r, "http://elsewhere.invalid/", http.StatusFound)
		default:
			w.WriteHeader(500)
			w.Write([]byte("boom"))
		}
	})
	ctx := context.Background()
	h := corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/ok", Port: intstr.FromString("web"),
		HTTPHeaders: []corev1.HTTPHeader{{Name: "X-Probe", Value: "yes"}, {Name: "Host", Value: "example"}}}}
	if r, msg := Check(ctx, h, tgt, time.Second); r != Success {
		t.Errorf("/ok = %v %s", r, msg)
	}
	if gotHeader != "yes" || gotHost != "example" {
		t.Errorf("headers: X-Probe %q Host %q", gotHeader, gotHost)
	}
	h.HTTPGet = &corev1.HTTPGetAction{Path: "/redirect", Port: port}
	if r, msg := Check(ctx, h, tgt, time.Second); r != Success {
		t.Errorf("redirect = %v %s", r, msg)
	}
	h.HTTPGet = &corev1.HTTPGetAction{Path: "/fail", Port: port}
	if r, msg := Check(ctx, h, tgt, time.Second); r != Failure || !strings.Contains(msg, "500") || !strings.Contains(msg, "boom") {
		t.Errorf("/fail = %v %q", r, msg)
	}
	h.HTTPGet = &corev1.HTTPGetAction{Path: "/ok", Port: intstr.FromString("nope")}
	if r, msg := Check(ctx, h, tgt, time.Second); r != Failure || !strings.Contains(msg, "nope") {
		t.Errorf("unknown named port = %v %q", r, msg)
	}
}

func TestCheckHTTPTimeout(t *testing.T) {
	release := make(chan struct{})
	tgt, port := serverTarget(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	start := time.Now()
	r, _ := Check(context.Background(), corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/", Port: port}}, tgt, 200*time.Millisecond)
	if r != Failure || time.Since(start) > 2*time.Second {
		t.Errorf("slow server = %v after %v", r, time.Since(start))
	}
}

func TestCheckTCP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	tgt := Target{PodIP: "127.0.0.1"}
	h := corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt(port)}}
	if r, msg := Check(context.Background(), h, tgt, time.Second); r != Success {
		t.Errorf("open port = %v %s", r, msg)
	}
	ln.Close()
	if r, _ := Check(context.Background(), h, tgt, time.Second); r != Failure {
		t.Errorf("closed port = %v", r)
	}
	// The dialer is the target's: a custom one sees the address.
	var dialed string
	tgt.Dial = func(ctx context.Context, nw, addr string) (net.Conn, error) {
		dialed = addr
		return nil, errors.New("refused by test")
	}
	if r, msg := Check(context.Background(), h, tgt, time.Second); r != Failure || !strings.Contains(msg, "refused by test") || dialed != net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) {
		t.Errorf("custom dial = %v %q %q", r, msg, dialed)
	}
}

func TestCheckExecAndHooks(t *testing.T) {
	var mu sync.Mutex
	var cmds []string
	tgt := Target{Exec: func(ctx context.Context, cmd []string) (int, string, error) {
		mu.Lock()
		cmds = append(cmds, strings.Join(cmd, " "))
		mu.Unlock()
		switch cmd[0] {
		case "ok":
			return 0, "", nil
		case "slow":
			<-ctx.Done()
			return -1, "", ctx.Err()
		}
		return 2, "bad thing", nil
	}}
	ctx := context.Background()
	exec := func(c ...string) corev1.ProbeHandler {
		return corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: c}}
	}
	if r, _ := Check(ctx, exec("ok"), tgt, time.Second); r != Success {
		t.Errorf("ok = %v", r)
	}
	if r, msg := Check(ctx, exec("fail"), tgt, time.Second); r != Failure || !strings.Contains(msg, "exited with 2: bad thing") {
		t.Errorf("fail = %v %q", r, msg)
	}
	if r, msg := Check(ctx, exec("slow"), tgt, 50*time.Millisecond); r != Failure || !strings.Contains(msg, "timed out") {
		t.Errorf("slow = %v %q", r, msg)
	}
	if r, _ := Check(ctx, corev1.ProbeHandler{GRPC: &corev1.GRPCAction{Port: 1}}, tgt, time.Second); r != Failure {
		t.Errorf("grpc = %v", r)
	}
	if err := RunHook(ctx, &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: []string{"ok"}}}, tgt); err != nil {
		t.Errorf("hook ok: %v", err)
	}
	if err := RunHook(ctx, &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: []string{"fail"}}}, tgt); err == nil {
		t.Errorf("failing hook: no error")
	}
	hctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := RunHook(hctx, &corev1.LifecycleHandler{Sleep: &corev1.SleepAction{Seconds: 10}}, tgt); err == nil {
		t.Errorf("sleep hook outlived its context")
	}
}

func TestWorkerReportsChanges(t *testing.T) {
	var mu sync.Mutex
	healthy := true
	tgt := Target{Exec: func(ctx context.Context, cmd []string) (int, string, error) {
		mu.Lock()
		defer mu.Unlock()
		if healthy {
			return 0, "", nil
		}
		return 1, "unhealthy", nil
	}}
	changes := make(chan Result, 10)
	w := NewWorker(Liveness, corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"x"}}}, PeriodSeconds: 1, FailureThreshold: 1},
		tgt, func(k Kind, r Result, msg string) { changes <- r })
	if r, _ := w.Result(); r != Success {
		t.Fatalf("liveness starts as %v", r)
	}
	w.Start(context.Background())
	defer w.Stop()
	mu.Lock()
	healthy = false
	mu.Unlock()
	select {
	case r := <-changes:
		if r != Failure {
			t.Fatalf("change = %v", r)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("no change reported")
	}
	if r, msg := w.Result(); r != Failure || !strings.Contains(msg, "unhealthy") {
		t.Errorf("result = %v %q", r, msg)
	}
}
