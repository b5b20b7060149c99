package kubetools

import (
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/remotecommand"
)

// Executor is how kubectl runs exec and attach: the executor of the pod's
// subresource ("exec" or "attach", with opts its *corev1.PodExecOptions
// or *corev1.PodAttachOptions) over protocol: "websocket"
// (v5.channel.k8s.io, what kubectl tries first) or "spdy"
// (v4.channel.k8s.io).
func Executor(t testing.TB, cfg *rest.Config, protocol, namespace, pod, subresource string, opts runtime.Object) remotecommand.Executor {
	t.Helper()
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	req := cs.CoreV1().RESTClient().Post().Namespace(namespace).Resource("pods").Name(pod).SubResource(subresource).
		VersionedParams(opts, scheme.ParameterCodec)
	var ex remotecommand.Executor
	switch protocol {
	case "websocket":
		ex, err = remotecommand.NewWebSocketExecutor(cfg, "GET", req.URL().String())
	case "spdy":
		ex, err = remotecommand.NewSPDYExecutor(cfg, "POST", req.URL())
	default:
		t.Fatalf("executor: unknown protocol %q (want websocket or spdy)", protocol)
	}
	if err != nil {
		t.Fatal(err)
	}
	return ex
}
