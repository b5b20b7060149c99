package nodeapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	cnins "github.com/containernetworking/plugins/pkg/ns"
	"github.com/nats-io/nats.go"
	"go.uber.org/zap"

	"github.com/strom-project/strom/events/api"
)

// PodNetworks is what port forwarding needs from the pods: where a pod's
// network namespace is.
type PodNetworks interface {
	PodNetNS(ctx context.Context, uid string) (string, error)
}

// dialTimeout bounds the connection to the pod's port.
const dialTimeout = 10 * time.Second

// portForward connects to the requested port on the pod's loopback,
// inside the pod's network namespace (so a server bound to 127.0.0.1 in
// the pod is reached, as with kubelet), and pipes the connection: the
// pod's bytes as chunks to the client's inbox, the client's from the
// stdin subject. It ends when the pod's side of the connection ends or
// the client goes away.
func (s *server) portForward(ctx context.Context, pn PodNetworks, m *nats.Msg) {
	var req api.PortForwardRequest
	if err := json.Unmarshal(m.Data, &req); err != nil || req.Inbox == "" || req.UID == "" {
		respond(m, &api.Chunk{Error: "malformed port-forward request: a pod uid is required"})
		return
	}
	if req.Port < 1 || req.Port > 65535 {
		respond(m, &api.Chunk{Error: fmt.Sprintf("invalid port %d", req.Port)})
		return
	}
	netns, err := pn.PodNetNS(ctx, req.UID)
	if err != nil {
		respond(m, &api.Chunk{Error: fmt.Sprintf("pod %s/%s (uid %s) is not running on this node: %v", req.Namespace, req.Pod, req.UID, err)})
		return
	}
	conn, err := dialInNetNS(ctx, netns, int(req.Port))
	if err != nil {
		respond(m, &api.Chunk{Error: err.Error()})
		return
	}
	defer conn.Close()
	subject, pr, stop, err := stdinPipe(s.nc, s.node, nil)
	if err != nil {
		respond(m, &api.Chunk{Error: err.Error()})
		return
	}
	defer stop()
	respond(m, &api.Chunk{StdinSubject: subject})

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	out := &receiver{nc: s.nc, inbox: req.Inbox, gone: cancel}
	go func() {
		// Towards the pod; the client's EOF half-closes the connection.
		if _, err := io.Copy(conn, pr); err == nil {
			_ = conn.CloseWrite()
		}
	}()
	go func() { // a client gone while the pod is silent ends it too
		<-ctx.Done()
		_ = conn.Close()
	}()
	stopKeepAlive := keepAlive(out)
	_, err = io.Copy(out.writer("stdout"), conn)
	stopKeepAlive()
	if err != nil && ctx.Err() == nil && !errors.Is(err, net.ErrClosed) {
		s.log.Debug("port forward ended", zap.String("pod", req.Namespace+"/"+req.Pod), zap.Int32("port", req.Port), zap.Error(err))
		_ = out.send(&api.Chunk{Error: fmt.Sprintf("reading from port %d of pod %s/%s: %v", req.Port, req.Namespace, req.Pod, err)})
		return
	}
	if ctx.Err() == nil {
		_ = out.send(&api.Chunk{EOF: true})
	}
}

// dialInNetNS connects to port on the loopback of the network namespace
// at path: IPv4 first, then IPv6. The socket is made while the calling
// thread is in that namespace and stays there; each address is dialled in
// turn on this goroutine (a parallel dial would make its socket on
// another thread, in the agent's own namespace).
func dialInNetNS(ctx context.Context, path string, port int) (*net.TCPConn, error) {
	var conn net.Conn
	err := cnins.WithNetNSPath(path, func(cnins.NetNS) error {
		var errs []string
		for _, host := range []string{"127.0.0.1", "::1"} {
			d := net.Dialer{Timeout: dialTimeout}
			network := "tcp4"
			if host == "::1" {
				network = "tcp6"
			}
			c, err := d.DialContext(ctx, network, net.JoinHostPort(host, strconv.Itoa(port)))
			if err == nil {
				conn = c
				return nil
			}
			errs = append(errs, err.Error())
		}
		return errors.New(strings.Join(errs, "; "))
	})
	if err != nil {
		return nil, fmt.Errorf("connecting to port %d in the pod's network namespace: %w", port, err)
	}
	return conn.(*net.TCPConn), nil
}
