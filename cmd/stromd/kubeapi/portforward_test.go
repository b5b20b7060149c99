package kubeapi_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/strom-project/strom/test/kubetools"
)

func TestPortForward(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("port forwarding enters a network namespace: needs root")
	}
	e := startStreams(t)
	e.pod(t, "web", "n1", "app")
	// The "pod's" server: the node API connects to it in this process's
	// network namespace (nodePods.PodNetNS).
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s %s %d", r.Method, r.URL.Path, len(body))
	})}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	podPort := ln.Addr().(*net.TCPAddr).Port
	big := strings.Repeat("x", 3<<20)
	for _, p := range protocols {
		t.Run(p, func(t *testing.T) {
			local, done := kubetools.StartPortForward(t, e.cfg, p, "default", "web", podPort)
			defer func() {
				select {
				case err := <-done:
					t.Errorf("port forwarder ended early: %v", err)
				default:
				}
			}()
			c := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
			resp, err := c.Get(fmt.Sprintf("http://127.0.0.1:%d/hello", local))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(body) != "GET /hello 0" {
				t.Errorf("through the forwarded port: %q", body)
			}
			start := time.Now()
			resp, err = c.Post(fmt.Sprintf("http://127.0.0.1:%d/upload", local), "text/plain", strings.NewReader(big))
			if err != nil {
				t.Fatal(err)
			}
			body, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			if want := fmt.Sprintf("POST /upload %d", len(big)); string(body) != want {
				t.Errorf("upload: %q, want %q", body, want)
			}
			el := time.Since(start)
			t.Logf("%s: 3 MiB through the forwarded port in %v (%.1f MiB/s)", p, el, 3/el.Seconds())
		})
	}
}

func TestPortForwardRefusedPort(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("port forwarding enters a network namespace: needs root")
	}
	e := startStreams(t)
	e.pod(t, "web", "n1", "app")
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	local, done := kubetools.StartPortForward(t, e.cfg, "spdy", "default", "web", closed)
	conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", local))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	// The forwarder closes the local connection when the pod side fails,
	// and (client-go 1.31+, as kubectl) stops on the error.
	if n, err := conn.Read(make([]byte, 1)); err == nil {
		t.Errorf("read %d bytes from a refused port", n)
	}
	select {
	case err := <-done:
		if err == nil {
			t.Errorf("the forwarder did not report the refused port")
		}
	case <-time.After(20 * time.Second):
		t.Errorf("the forwarder did not stop on the refused port")
	}
}
