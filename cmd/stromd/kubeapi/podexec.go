package kubeapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	rc "k8s.io/apimachinery/pkg/util/remotecommand"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/streaming/pkg/httpstream"
	"k8s.io/streaming/pkg/httpstream/spdy"
	"k8s.io/streaming/pkg/httpstream/wsstream"

	"github.com/strom-project/strom/events/api"
)

// pods/exec and pods/attach speak kubectl's remote command protocols:
// WebSocket (v5.channel.k8s.io, which adds closing stdin, and
// v4.channel.k8s.io), what kubectl 1.30+ tries first, and SPDY
// (v4/v3/v2.channel.k8s.io), its fallback. The framing is the libraries'
// (k8s.io/streaming's wsstream and spdy); this file assembles a session's
// streams (stdin, stdout, stderr, the status channel, terminal resizes)
// and hands them to the node API's exec, which runs the command on the
// pod's node.

// Timeouts of a remote command session, kubelet's.
const (
	streamIdleTimeout     = 4 * time.Hour
	streamCreationTimeout = 30 * time.Second
)

// execREST is pods/exec.
type execREST struct{ s *podStreams }

var _ rest.Connecter = (*execREST)(nil)

func (r *execREST) New() runtime.Object { return &corev1.Pod{} }
func (r *execREST) Destroy()            {}

func (r *execREST) NewConnectOptions() (runtime.Object, bool, string) {
	return &corev1.PodExecOptions{}, false, ""
}

// ConnectMethods: GET for WebSocket clients (browsers, kubectl's first
// try), POST for SPDY.
func (r *execREST) ConnectMethods() []string { return []string{"GET", "POST"} }

func (r *execREST) Connect(ctx context.Context, name string, opts runtime.Object, _ rest.Responder) (http.Handler, error) {
	eo, ok := opts.(*corev1.PodExecOptions)
	if !ok {
		return nil, apierrors.NewInternalError(fmt.Errorf("invalid options object: %T", opts))
	}
	if err := validateStreams(eo.Stdin, eo.Stdout, eo.Stderr); err != nil {
		return nil, err
	}
	if len(eo.Command) == 0 {
		return nil, apierrors.NewBadRequest("you must specify at least one command for the container")
	}
	pod, container, err := r.s.target(ctx, name, eo.Container)
	if err != nil {
		return nil, err
	}
	o := sessionOptions(eo.Stdin, eo.Stdout, eo.Stderr, eo.TTY)
	node := pod.Spec.NodeName
	req := &api.ExecRequest{Namespace: pod.Namespace, Pod: pod.Name, Container: container, Command: eo.Command, Stdin: o.stdin, TTY: o.tty}
	return &remoteCommand{opts: o, log: r.s.log, run: func(ctx context.Context, st *sessionStreams) *apierrors.StatusError {
		code, err := api.Exec(ctx, r.s.nc, node, req, api.ExecIO{Stdin: st.stdin, Stdout: st.stdout, Stderr: st.stderr, Resize: st.resize})
		return execStatus(node, code, err)
	}}, nil
}

// attachREST is pods/attach. Strom's runtime gives a container's main
// process no stdin and no terminal (spec.containers[].stdin and .tty are
// not acted on, and say so when applied), so attaching is following its
// output from now on: the container's log, which holds stdout and stderr
// together, until the run ends. A client's stdin is read and dropped, as
// kubelet does for a container without stdin; a terminal is refused.
type attachREST struct{ s *podStreams }

var _ rest.Connecter = (*attachREST)(nil)

func (r *attachREST) New() runtime.Object { return &corev1.Pod{} }
func (r *attachREST) Destroy()            {}

func (r *attachREST) NewConnectOptions() (runtime.Object, bool, string) {
	return &corev1.PodAttachOptions{}, false, ""
}

func (r *attachREST) ConnectMethods() []string { return []string{"GET", "POST"} }

func (r *attachREST) Connect(ctx context.Context, name string, opts runtime.Object, _ rest.Responder) (http.Handler, error) {
	ao, ok := opts.(*corev1.PodAttachOptions)
	if !ok {
		return nil, apierrors.NewInternalError(fmt.Errorf("invalid options object: %T", opts))
	}
	if err := validateStreams(ao.Stdin, ao.Stdout, ao.Stderr); err != nil {
		return nil, err
	}
	pod, container, err := r.s.target(ctx, name, ao.Container)
	if err != nil {
		return nil, err
	}
	if ao.TTY {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("container %s in pod %s has no terminal: Strom does not give a container's main process a TTY (spec.containers[].tty is not acted on)", container, name))
	}
	if !containerRunning(pod, container) {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("container %s in pod %s is not running", container, name))
	}
	node := pod.Spec.NodeName
	none := int64(0)
	req := &api.LogsRequest{Namespace: pod.Namespace, Pod: pod.Name, Container: container, Follow: true, TailLines: &none}
	o := sessionOptions(ao.Stdin, ao.Stdout, ao.Stderr, false)
	return &remoteCommand{opts: o, log: r.s.log, run: func(ctx context.Context, st *sessionStreams) *apierrors.StatusError {
		if st.stdin != nil {
			go func() { _, _ = io.Copy(io.Discard, st.stdin) }()
		}
		s, err := api.Open(ctx, r.s.nc, api.LogsSubject(node), req, func(inbox string) { req.Inbox = inbox })
		if err != nil {
			return nodeStatus(node, err)
		}
		defer s.Close()
		out := st.stdout
		if out == nil {
			out = st.stderr
		}
		if _, err := s.Copy(ctx, out, out); err != nil && ctx.Err() == nil {
			return nodeStatus(node, err)
		}
		return successStatus()
	}}, nil
}

// containerRunning tells whether the pod's status has the container
// running.
func containerRunning(pod *corev1.Pod, name string) bool {
	for _, list := range [][]corev1.ContainerStatus{pod.Status.ContainerStatuses, pod.Status.InitContainerStatuses, pod.Status.EphemeralContainerStatuses} {
		for _, cs := range list {
			if cs.Name == name {
				return cs.State.Running != nil
			}
		}
	}
	return false
}

// validateStreams is kubelet's rule: a session needs a stream.
func validateStreams(stdin, stdout, stderr bool) error {
	if !stdin && !stdout && !stderr {
		return apierrors.NewBadRequest("you must specify at least 1 of stdin, stdout, stderr")
	}
	return nil
}

// sessionOpts are the options of a remote command session.
type sessionOpts struct{ stdin, stdout, stderr, tty bool }

// sessionOptions applies kubelet's rule: with a terminal, stderr goes to
// stdout (the terminal has one output).
func sessionOptions(stdin, stdout, stderr, tty bool) sessionOpts {
	return sessionOpts{stdin: stdin, stdout: stdout, stderr: stderr && !tty, tty: tty}
}

// successStatus is the status of a session that ended well.
func successStatus() *apierrors.StatusError {
	return &apierrors.StatusError{ErrStatus: metav1.Status{Status: metav1.StatusSuccess}}
}

// execStatus is the status channel's message for an exec's outcome: a
// non-zero exit code is kubelet's NonZeroExitCode failure with an
// ExitCode cause, which kubectl turns into its own exit code.
func execStatus(node string, code int, err error) *apierrors.StatusError {
	if err != nil {
		var ne *api.NodeError
		if errors.As(err, &ne) {
			return apierrors.NewInternalError(fmt.Errorf("error executing command in container: %s", ne.Message))
		}
		return nodeStatus(node, err)
	}
	if code == 0 {
		return successStatus()
	}
	return &apierrors.StatusError{ErrStatus: metav1.Status{
		Status:  metav1.StatusFailure,
		Reason:  rc.NonZeroExitCodeReason,
		Message: fmt.Sprintf("command terminated with non-zero exit code: exit status %d", code),
		Details: &metav1.StatusDetails{Causes: []metav1.StatusCause{{Type: rc.ExitCodeCauseType, Message: strconv.Itoa(code)}}},
	}}
}

// sessionStreams are a session's streams, whichever the protocol; a
// stream the client did not ask for is nil.
type sessionStreams struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	resize         <-chan api.TerminalSize // with a terminal
}

// remoteCommand is the handler of one exec or attach: it upgrades the
// connection, runs the session and reports its status.
type remoteCommand struct {
	opts sessionOpts
	run  func(context.Context, *sessionStreams) *apierrors.StatusError
	log  *zap.Logger
}

func (h *remoteCommand) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	// The session lives as long as its connection, not as the request:
	// the connection is hijacked, and the request's context ends with the
	// handler (or the server's request timeout).
	ctx, cancel := context.WithCancel(context.WithoutCancel(req.Context()))
	defer cancel()
	if wsstream.IsWebSocketRequest(req) {
		h.serveWebSocket(ctx, cancel, w, req)
		return
	}
	h.serveSPDY(ctx, cancel, w, req)
}

// serveWebSocket serves the v5 and v4 channel protocols: channels 0-2 are
// stdin, stdout and stderr, 3 the status, 4 the terminal size; v5 clients
// close stdin with the CLOSE signal (255).
func (h *remoteCommand) serveWebSocket(ctx context.Context, cancel context.CancelFunc, w http.ResponseWriter, req *http.Request) {
	channels := []wsstream.ChannelType{
		rc.StreamStdIn:  channelIf(h.opts.stdin, wsstream.ReadChannel),
		rc.StreamStdOut: channelIf(h.opts.stdout, wsstream.WriteChannel),
		rc.StreamStdErr: channelIf(h.opts.stderr, wsstream.WriteChannel),
		rc.StreamErr:    wsstream.WriteChannel,
		rc.StreamResize: wsstream.ReadChannel,
	}
	conn := wsstream.NewConn(map[string]wsstream.ChannelProtocolConfig{
		rc.StreamProtocolV5Name: {Binary: true, Channels: channels},
		rc.StreamProtocolV4Name: {Binary: true, Channels: channels},
	})
	conn.SetIdleTimeout(streamIdleTimeout)
	_, streams, err := conn.Open(w, req)
	if err != nil {
		h.log.Debug("remote command: WebSocket upgrade failed", zap.Error(err))
		return
	}
	defer conn.Close()
	// An empty message on the first channel the client reads says the
	// session is open.
	first := rc.StreamErr
	switch {
	case h.opts.stdout:
		first = rc.StreamStdOut
	case h.opts.stderr:
		first = rc.StreamStdErr
	}
	if _, err := streams[first].Write(nil); err != nil {
		return
	}
	st := &sessionStreams{}
	if h.opts.stdin {
		st.stdin = streams[rc.StreamStdIn]
	}
	if h.opts.stdout {
		st.stdout = streams[rc.StreamStdOut]
	}
	if h.opts.stderr {
		st.stderr = streams[rc.StreamStdErr]
	}
	// Clients never close the resize channel: its end is the
	// connection's, which ends the session.
	st.resize = readResizes(ctx, streams[rc.StreamResize], h.opts.tty, cancel)
	status := h.run(ctx, st)
	conn.SetWriteDeadline(10 * time.Second)
	if err := writeStatusV4(streams[rc.StreamErr], status); err != nil {
		h.log.Debug("remote command: writing the status", zap.Error(err))
	}
}

func channelIf(on bool, t wsstream.ChannelType) wsstream.ChannelType {
	if on {
		return t
	}
	return wsstream.IgnoreChannel
}

// readResizes decodes terminal sizes from r (JSON objects, one after the
// other) into the returned channel when tty is set, and drops them
// otherwise; when r ends, done is called.
func readResizes(ctx context.Context, r io.Reader, tty bool, done func()) <-chan api.TerminalSize {
	var sizes chan api.TerminalSize
	if tty {
		sizes = make(chan api.TerminalSize)
	}
	go func() {
		defer done()
		if sizes != nil {
			defer close(sizes)
		}
		dec := json.NewDecoder(r)
		for {
			var sz api.TerminalSize
			if err := dec.Decode(&sz); err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrClosedPipe) {
					// Not JSON: nothing more to understand, but the
					// channel must still be read to its end.
					_, _ = io.Copy(io.Discard, r)
				}
				return
			}
			if sizes == nil {
				continue
			}
			select {
			case sizes <- sz:
			case <-ctx.Done():
				return
			}
		}
	}()
	if sizes == nil {
		return nil
	}
	return sizes
}

// writeStatusV4 writes the status as v4 and v5 do: its JSON.
func writeStatusV4(w io.Writer, status *apierrors.StatusError) error {
	data, err := json.Marshal(status.Status())
	if err != nil {
		return err
	}
	_, err = w.Write(data)
	return err
}

// writeStatusV2 writes the status as v2 and v3 do: nothing on success,
// else the error's text.
func writeStatusV2(w io.Writer, status *apierrors.StatusError) error {
	if status.Status().Status == metav1.StatusSuccess {
		return nil
	}
	_, err := w.Write([]byte(status.Error()))
	return err
}

// spdyProtocols are the SPDY remote command protocols served, preferred
// first.
var spdyProtocols = []string{rc.StreamProtocolV4Name, rc.StreamProtocolV3Name, rc.StreamProtocolV2Name}

// serveSPDY serves the SPDY protocols: the client opens one stream per
// channel, named by its streamType header.
func (h *remoteCommand) serveSPDY(ctx context.Context, cancel context.CancelFunc, w http.ResponseWriter, req *http.Request) {
	protocol, err := httpstream.Handshake(req, w, spdyProtocols)
	if err != nil {
		return // Handshake has answered
	}
	newStreams := make(chan spdyStream)
	conn := spdy.NewResponseUpgrader().UpgradeResponse(w, req, func(s httpstream.Stream, replySent <-chan struct{}) error {
		select {
		case newStreams <- spdyStream{s, replySent}:
			return nil
		case <-ctx.Done():
			return fmt.Errorf("session ended")
		}
	})
	if conn == nil {
		return // UpgradeResponse has answered
	}
	defer conn.Close()
	conn.SetIdleTimeout(streamIdleTimeout)
	go func() {
		<-conn.CloseChan()
		cancel()
	}()
	streams, err := collectStreams(ctx, newStreams, h.opts, protocol != rc.StreamProtocolV2Name, time.After(streamCreationTimeout))
	go refuseStreams(ctx, newStreams)
	if err != nil {
		h.log.Debug("remote command: waiting for the client's streams", zap.Error(err))
		if s := streams["error"]; s != nil {
			_ = writeStatus(protocol, s, apierrors.NewBadRequest(err.Error()))
		}
		return
	}
	st := &sessionStreams{}
	if s := streams["stdin"]; s != nil {
		st.stdin = s
	}
	if s := streams["stdout"]; s != nil {
		st.stdout = s
	}
	if s := streams["stderr"]; s != nil {
		st.stderr = s
	}
	if s := streams["resize"]; s != nil {
		st.resize = readResizes(ctx, s, h.opts.tty, func() {})
	}
	status := h.run(ctx, st)
	// The output is complete before the status says the session ended.
	for _, name := range []string{"stdout", "stderr"} {
		if s := streams[name]; s != nil {
			_ = s.Close()
		}
	}
	if err := writeStatus(protocol, streams["error"], status); err != nil {
		h.log.Debug("remote command: writing the status", zap.Error(err))
	}
	_ = streams["error"].Close()
}

func writeStatus(protocol string, w io.Writer, status *apierrors.StatusError) error {
	if protocol == rc.StreamProtocolV4Name {
		return writeStatusV4(w, status)
	}
	return writeStatusV2(w, status)
}

// refuseStreams takes the streams a client opens once its session has
// what it needs, until the session ends, and leaves them unused: the
// connection's close ends them. (client-go opens a stream for every
// writer it is given, asked for in the URL or not; resetting one would
// leave it waiting.)
func refuseStreams(ctx context.Context, in <-chan spdyStream) {
	for {
		select {
		case <-in:
		case <-ctx.Done():
			return
		}
	}
}

type spdyStream struct {
	httpstream.Stream
	replySent <-chan struct{}
}

// collectStreams waits for the streams a session needs (by streamType:
// error always, stdin/stdout/stderr as asked, resize with a terminal when
// the protocol has it) and for their replies to be sent.
func collectStreams(ctx context.Context, in <-chan spdyStream, o sessionOpts, hasResize bool, expired <-chan time.Time) (map[string]httpstream.Stream, error) {
	want := map[string]bool{"error": true, "stdin": o.stdin, "stdout": o.stdout, "stderr": o.stderr, "resize": o.tty && hasResize}
	n := 0
	for _, w := range want {
		if w {
			n++
		}
	}
	got := map[string]httpstream.Stream{}
	var replies []<-chan struct{}
	for len(got) < n {
		select {
		case s := <-in:
			t := s.Headers().Get(corev1.StreamType)
			if !want[t] {
				continue // unused, as with kubelet; the connection's close ends it
			}
			got[t] = s.Stream
			replies = append(replies, s.replySent)
		case <-expired:
			return got, fmt.Errorf("timed out waiting for client to create streams")
		case <-ctx.Done():
			return got, ctx.Err()
		}
	}
	for _, r := range replies {
		select {
		case <-r:
		case <-expired:
			return got, fmt.Errorf("timed out waiting for the stream replies to be sent")
		case <-ctx.Done():
			return got, ctx.Err()
		}
	}
	return got, nil
}

// decodeExecOptions reads PodExecOptions from a query (its JSON names, as
// client-go writes them).
func decodeExecOptions(q url.Values, o *corev1.PodExecOptions) error {
	o.Container = q.Get("container")
	o.Command = q["command"]
	o.Stdin = boolParam(q, "stdin")
	o.Stdout = boolParam(q, "stdout")
	o.Stderr = boolParam(q, "stderr")
	o.TTY = boolParam(q, "tty")
	return nil
}

func decodeAttachOptions(q url.Values, o *corev1.PodAttachOptions) error {
	o.Container = q.Get("container")
	o.Stdin = boolParam(q, "stdin")
	o.Stdout = boolParam(q, "stdout")
	o.Stderr = boolParam(q, "stderr")
	o.TTY = boolParam(q, "tty")
	return nil
}
