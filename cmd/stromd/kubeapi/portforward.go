package kubeapi

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	gwebsocket "github.com/gorilla/websocket"
	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	pfconst "k8s.io/apimachinery/pkg/util/portforward"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/streaming/pkg/httpstream"
	"k8s.io/streaming/pkg/httpstream/spdy"
	"k8s.io/streaming/pkg/httpstream/wsstream"

	"github.com/strom-project/strom/events/api"
)

// pods/portforward speaks kubectl's port-forward protocol,
// portforward.k8s.io: a SPDY connection on which the client opens, for
// every connection it forwards, a data stream and an error stream that
// share a requestID header and name the pod's port. kubectl 1.31+ first
// tries the same SPDY tunnelled through a WebSocket (subprotocol
// SPDY/3.1+portforward.k8s.io), then plain SPDY. Each data stream is
// piped to the pod's port by the node API (events/api.PortForward): the
// pod's node connects from inside the pod's network namespace, so the
// pod need not be reachable from the control plane.

// portForwardREST is pods/portforward.
type portForwardREST struct{ s *podStreams }

var _ rest.Connecter = (*portForwardREST)(nil)

func (r *portForwardREST) New() runtime.Object { return &corev1.Pod{} }
func (r *portForwardREST) Destroy()            {}

func (r *portForwardREST) NewConnectOptions() (runtime.Object, bool, string) {
	return &corev1.PodPortForwardOptions{}, false, ""
}

func (r *portForwardREST) ConnectMethods() []string { return []string{"GET", "POST"} }

func (r *portForwardREST) Connect(ctx context.Context, name string, opts runtime.Object, _ rest.Responder) (http.Handler, error) {
	if _, ok := opts.(*corev1.PodPortForwardOptions); !ok {
		return nil, apierrors.NewInternalError(fmt.Errorf("invalid options object: %T", opts))
	}
	pod, err := r.s.pod(ctx, name)
	if err != nil {
		return nil, err
	}
	target := api.PortForwardRequest{Namespace: pod.Namespace, Pod: pod.Name, UID: string(pod.UID)}
	return &portForwarder{s: r.s, node: pod.Spec.NodeName, target: target}, nil
}

// portForwarder is the handler of one port-forward connection.
type portForwarder struct {
	s      *podStreams
	node   string
	target api.PortForwardRequest
}

// portForwardProtocols are the SPDY port-forward protocols served.
var portForwardProtocols = []string{pfconst.PortForwardV1Name}

func (h *portForwarder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	// As with exec: the connection, not the request, bounds the session.
	ctx, cancel := context.WithCancel(context.WithoutCancel(req.Context()))
	defer cancel()
	newStreams := make(chan httpstream.Stream)
	onStream := func(s httpstream.Stream, _ <-chan struct{}) error {
		select {
		case newStreams <- s:
			return nil
		case <-ctx.Done():
			return fmt.Errorf("connection closed")
		}
	}
	var conn httpstream.Connection
	switch {
	case wsstream.IsWebSocketRequestWithTunnelingProtocol(req):
		up := gwebsocket.Upgrader{
			// Requests are authenticated by client certificate or bearer
			// token, never by a browser's cookies.
			CheckOrigin:  func(*http.Request) bool { return true },
			Subprotocols: []string{pfconst.WebsocketsSPDYTunnelingPortForwardV1},
		}
		ws, err := up.Upgrade(w, req, nil)
		if err != nil {
			h.s.log.Debug("port forward: WebSocket upgrade failed", zap.Error(err))
			return // Upgrade has answered
		}
		conn, err = spdy.NewServerConnection(portforward.NewTunnelingConnection("server", ws), onStream)
		if err != nil {
			_ = ws.Close()
			h.s.log.Debug("port forward: SPDY over WebSocket", zap.Error(err))
			return
		}
	case wsstream.IsWebSocketRequest(req):
		http.Error(w, fmt.Sprintf("unable to upgrade: port forwarding over WebSocket needs the %s subprotocol", pfconst.WebsocketsSPDYTunnelingPortForwardV1), http.StatusBadRequest)
		return
	default:
		if _, err := httpstream.Handshake(req, w, portForwardProtocols); err != nil {
			return // Handshake has answered
		}
		conn = spdy.NewResponseUpgrader().UpgradeResponse(w, req, onStream)
		if conn == nil {
			return // UpgradeResponse has answered
		}
	}
	defer conn.Close()
	conn.SetIdleTimeout(streamIdleTimeout)
	h.serve(ctx, cancel, conn, newStreams)
}

// serve pairs the client's streams by request and forwards each pair
// until the connection closes, which ends the forwards (cancel).
func (h *portForwarder) serve(ctx context.Context, cancel context.CancelFunc, conn httpstream.Connection, in <-chan httpstream.Stream) {
	pairs := map[string]*streamPair{}
	var mu sync.Mutex
	done := func(id string) {
		mu.Lock()
		defer mu.Unlock()
		delete(pairs, id)
	}
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()
	for {
		select {
		case <-conn.CloseChan():
			return
		case s := <-in:
			id := requestID(s)
			mu.Lock()
			p := pairs[id]
			if p == nil {
				p = &streamPair{id: id, ready: make(chan struct{})}
				pairs[id] = p
				wg.Add(1)
				go func() { defer wg.Done(); h.expire(conn, p, done) }()
			}
			complete, err := p.add(s)
			mu.Unlock()
			if err != nil {
				p.fail(err.Error())
				continue
			}
			if complete {
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer done(p.id)
					h.forward(ctx, conn, p)
				}()
			}
		}
	}
}

// expire drops a pair whose second stream does not come in time.
func (h *portForwarder) expire(conn httpstream.Connection, p *streamPair, done func(string)) {
	select {
	case <-p.ready:
	case <-conn.CloseChan():
	case <-time.After(streamCreationTimeout):
		p.fail("timed out waiting for the data and error streams of request " + p.id)
		done(p.id)
	}
}

// requestID names the connection a stream belongs to: its requestID
// header, or for clients that send none, kubelet's rule (a data stream
// follows its error stream, two stream ids later).
func requestID(s httpstream.Stream) string {
	if id := s.Headers().Get(corev1.PortForwardRequestIDHeader); id != "" {
		return id
	}
	if s.Headers().Get(corev1.StreamType) == corev1.StreamTypeData {
		return strconv.FormatUint(uint64(s.Identifier())-2, 10)
	}
	return strconv.FormatUint(uint64(s.Identifier()), 10)
}

// streamPair is one forwarded connection's data and error streams.
type streamPair struct {
	id                    string
	dataStream, errStream httpstream.Stream
	ready                 chan struct{}
	once                  sync.Once
}

// add takes one of the pair's streams; complete says both are there.
func (p *streamPair) add(s httpstream.Stream) (complete bool, err error) {
	switch t := s.Headers().Get(corev1.StreamType); t {
	case corev1.StreamTypeError:
		if p.errStream != nil {
			_ = s.Reset()
			return false, fmt.Errorf("error stream of request %s already received", p.id)
		}
		p.errStream = s
	case corev1.StreamTypeData:
		if p.dataStream != nil {
			_ = s.Reset()
			return false, fmt.Errorf("data stream of request %s already received", p.id)
		}
		p.dataStream = s
	default:
		_ = s.Reset()
		return false, fmt.Errorf("invalid stream type %q", t)
	}
	if p.dataStream != nil && p.errStream != nil {
		p.once.Do(func() { close(p.ready) })
		return true, nil
	}
	return false, nil
}

// fail reports msg on the pair's error stream (if it has one) and closes
// its streams.
func (p *streamPair) fail(msg string) {
	if p.errStream != nil {
		_, _ = p.errStream.Write([]byte(msg))
		_ = p.errStream.Close()
	}
	if p.dataStream != nil {
		_ = p.dataStream.Reset()
	}
}

// forward pipes the pair's data stream to the pod's port through its
// node; a failure is written to the error stream in kubelet's words.
func (h *portForwarder) forward(ctx context.Context, conn httpstream.Connection, p *streamPair) {
	defer conn.RemoveStreams(p.dataStream, p.errStream)
	portStr := p.dataStream.Headers().Get(corev1.PortHeader)
	port, err := parsePort(portStr)
	if err != nil {
		p.fail(err.Error())
		return
	}
	req := h.target
	req.Port = port
	if err := api.PortForward(ctx, h.s.nc, h.node, &req, p.dataStream); err != nil && ctx.Err() == nil {
		msg := nodeStatus(h.node, err).Status().Message
		p.fail(fmt.Sprintf("error forwarding port %d to pod %s, uid %s: %s", port, h.target.Pod, h.target.UID, msg))
		return
	}
	_ = p.dataStream.Close()
	_ = p.errStream.Close()
}

// parsePort reads a port header.
func parsePort(s string) (int32, error) {
	if s == "" {
		return 0, fmt.Errorf("%q header is required", corev1.PortHeader)
	}
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("invalid port %q: must be between 1 and 65535", s)
	}
	return int32(n), nil
}

// decodePortForwardOptions reads PodPortForwardOptions: ports, repeated
// or comma-separated.
func decodePortForwardOptions(q url.Values, o *corev1.PodPortForwardOptions) error {
	for _, v := range q["ports"] {
		for _, s := range strings.Split(v, ",") {
			s = strings.TrimSpace(s)
			if s == "" {
				continue
			}
			p, err := parsePort(s)
			if err != nil {
				return fmt.Errorf("ports: %w", err)
			}
			o.Ports = append(o.Ports, p)
		}
	}
	return nil
}
