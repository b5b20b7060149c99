package kubetools

import (
	"bytes"
	"fmt"
	"net/http"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/transport/spdy"
	"k8s.io/streaming/pkg/httpstream"
)

// PortForward runs client-go's port forwarder (kubectl port-forward) from
// a free port on 127.0.0.1 to the pod's port, over protocol ("websocket":
// SPDY tunnelled through a WebSocket, what kubectl 1.31+ tries first;
// "spdy"), and returns the local port. It stops with the test, which
// fails if the forwarder then reports an error.
func PortForward(t testing.TB, cfg *rest.Config, protocol, namespace, pod string, port int) int {
	t.Helper()
	local, done, stop := startPortForward(t, cfg, protocol, namespace, pod, port)
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("port forwarder: %v", err)
		}
	})
	return local
}

// StartPortForward is PortForward for tests of the forwarder's end: it
// also returns the channel on which the forwarder reports it (once), and
// the test's end stops the forwarder without waiting for it.
func StartPortForward(t testing.TB, cfg *rest.Config, protocol, namespace, pod string, port int) (int, <-chan error) {
	t.Helper()
	local, done, stop := startPortForward(t, cfg, protocol, namespace, pod, port)
	t.Cleanup(stop)
	return local, done
}

// startPortForward starts the forwarder and waits until it listens; it
// fails the test if it ends or is not ready within 30 seconds.
func startPortForward(t testing.TB, cfg *rest.Config, protocol, namespace, pod string, port int) (local int, done <-chan error, stop func()) {
	t.Helper()
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	u := cs.CoreV1().RESTClient().Post().Namespace(namespace).Resource("pods").Name(pod).SubResource("portforward").URL()
	var dialer httpstream.Dialer
	switch protocol {
	case "websocket":
		d, err := portforward.NewSPDYOverWebsocketDialerForStreaming(u, cfg)
		if err != nil {
			t.Fatal(err)
		}
		dialer = d
	case "spdy":
		transport, upgrader, err := spdy.RoundTripperFor(cfg)
		if err != nil {
			t.Fatal(err)
		}
		dialer = spdy.NewDialerForStreaming(upgrader, &http.Client{Transport: transport}, "POST", u)
	default:
		t.Fatalf("port forwarder: unknown protocol %q (want websocket or spdy)", protocol)
	}
	stopCh, ready := make(chan struct{}), make(chan struct{})
	var out, errOut bytes.Buffer
	fw, err := portforward.NewOnAddressesForStreaming(dialer, []string{"127.0.0.1"}, []string{fmt.Sprintf("0:%d", port)}, stopCh, ready, &out, &errOut)
	if err != nil {
		t.Fatal(err)
	}
	ended := make(chan error, 1)
	go func() { ended <- fw.ForwardPorts() }()
	stop = func() { close(stopCh) }
	select {
	case <-ready:
	case err := <-ended:
		stop()
		t.Fatalf("port forwarder: %v (%s)", err, errOut.String())
	case <-time.After(30 * time.Second):
		stop()
		t.Fatal("port forwarder not ready")
	}
	ports, err := fw.GetPorts()
	if err != nil {
		stop()
		t.Fatal(err)
	}
	return int(ports[0].Local), ended, stop
}
