package probes

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Result is the outcome of a probe.
type Result int

// Probe results.
const (
	Unknown Result = iota
	Success
	Failure
)

func (r Result) String() string {
	switch r {
	case Success:
		return "success"
	case Failure:
		return "failure"
	}
	return "unknown"
}

// ExecFunc runs cmd in the probed container and returns its exit code and
// combined output.
type ExecFunc func(ctx context.Context, cmd []string) (exitCode int, output string, err error)

// DialFunc opens a connection from the node.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// Target is what a probe or hook acts on.
type Target struct {
	PodIP     string
	Container *corev1.Container // resolves named ports
	Exec      ExecFunc
	Dial      DialFunc // nil: a plain net.Dialer on the node
}

func (t Target) dial() DialFunc {
	if t.Dial != nil {
		return t.Dial
	}
	var d net.Dialer
	return d.DialContext
}

// maxOutput bounds what a probe keeps of a command's output or HTTP body.
const maxOutput = 1024

// Check runs one probe handler with the given timeout and returns its
// result and, on failure, a message saying why.
func Check(ctx context.Context, h corev1.ProbeHandler, t Target, timeout time.Duration) (Result, string) {
	if timeout <= 0 {
		timeout = time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	switch {
	case h.Exec != nil:
		return checkExec(ctx, h.Exec.Command, t)
	case h.TCPSocket != nil:
		return checkTCP(ctx, h.TCPSocket, t)
	case h.HTTPGet != nil:
		return checkHTTP(ctx, h.HTTPGet, t)
	case h.GRPC != nil:
		return Failure, "grpc probes are not supported"
	}
	return Failure, "probe has no handler"
}

func checkExec(ctx context.Context, cmd []string, t Target) (Result, string) {
	if t.Exec == nil {
		return Failure, "exec probe: no exec available"
	}
	code, out, err := t.Exec(ctx, cmd)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
			return Failure, fmt.Sprintf("command %q timed out", strings.Join(cmd, " "))
		}
		return Failure, fmt.Sprintf("exec %q: %v", strings.Join(cmd, " "), err)
	}
	if code != 0 {
		return Failure, fmt.Sprintf("command %q exited with %d: %s", strings.Join(cmd, " "), code, trim(out))
	}
	return Success, ""
}

func checkTCP(ctx context.Context, a *corev1.TCPSocketAction, t Target) (Result, string) {
	port, err := ResolvePort(a.Port, t.Container)
	if err != nil {
		return Failure, err.Error()
	}
	host := a.Host
	if host == "" {
		host = t.PodIP
	}
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	conn, err := t.dial()(ctx, "tcp", addr)
	if err != nil {
		return Failure, fmt.Sprintf("dial tcp %s: %v", addr, err)
	}
	conn.Close()
	return Success, ""
}

// httpGet performs the request of an HTTPGetAction and returns the status
// code and the start of the body.
func httpGet(ctx context.Context, a *corev1.HTTPGetAction, t Target) (int, string, error) {
	port, err := ResolvePort(a.Port, t.Container)
	if err != nil {
		return 0, "", err
	}
	host := a.Host
	if host == "" {
		host = t.PodIP
	}
	scheme := strings.ToLower(string(a.Scheme))
	if scheme == "" {
		scheme = "http"
	}
	if scheme != "http" {
		return 0, "", fmt.Errorf("scheme %s is not supported", a.Scheme)
	}
	path := a.Path
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	url := fmt.Sprintf("%s://%s%s", scheme, net.JoinHostPort(host, strconv.Itoa(port)), path)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", fmt.Errorf("building request %s: %w", url, err)
	}
	req.Header.Set("User-Agent", "strom-probe/1.0")
	for _, h := range a.HTTPHeaders {
		if strings.EqualFold(h.Name, "host") {
			req.Host = h.Value
			continue
		}
		req.Header.Add(h.Name, h.Value)
	}
	client := &http.Client{
		Transport: &http.Transport{DialContext: t.dial(), DisableKeepAlives: true},
		// Redirects are answers too: a 3xx counts as success, as in kubelet
		// for redirects to another host.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", fmt.Errorf("GET %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxOutput))
	return resp.StatusCode, string(body), nil
}

func checkHTTP(ctx context.Context, a *corev1.HTTPGetAction, t Target) (Result, string) {
	code, body, err := httpGet(ctx, a, t)
	if err != nil {
		return Failure, err.Error()
	}
	if code >= 200 && code < 400 {
		return Success, ""
	}
	return Failure, fmt.Sprintf("HTTP probe failed with statuscode: %d: %s", code, trim(body))
}

// ResolvePort turns a numeric or named port into a number, looking named
// ports up in the container's ports.
func ResolvePort(p intstr.IntOrString, c *corev1.Container) (int, error) {
	if p.Type == intstr.Int {
		if p.IntVal <= 0 || p.IntVal > 65535 {
			return 0, fmt.Errorf("invalid port %d", p.IntVal)
		}
		return int(p.IntVal), nil
	}
	if n, err := strconv.Atoi(p.StrVal); err == nil && n > 0 && n <= 65535 {
		return n, nil
	}
	if c != nil {
		for _, cp := range c.Ports {
			if cp.Name == p.StrVal {
				return int(cp.ContainerPort), nil
			}
		}
	}
	return 0, fmt.Errorf("port %q not found in container ports", p.StrVal)
}

func trim(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 256 {
		s = s[:256] + "..."
	}
	return s
}
