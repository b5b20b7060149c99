package kubeapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"

	"github.com/nats-io/nats.go"
	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/conversion"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/strom-project/strom/events/api"
)

// The pods' streaming subresources (log here, exec and attach in
// podexec.go, portforward in portforward.go) are thin transports over the
// node agents' own API (events/api/nodeapi.go), the one the CLI uses too:
// what runs on the node is implemented once, in agent/nodeapi. This side
// reads the pod, picks the container as kube-apiserver does, speaks
// kubectl's protocols, and maps the node's answers to API statuses.

// installPodSubresources adds the pods' streaming subresources (log, exec,
// attach, portforward), served through the node agents' API.
func installPodSubresources(m map[string]rest.Storage, pods *resource, cfg Config) {
	if cfg.NodeConn == nil {
		return // no node connection: no pod streams
	}
	if err := addPodOptionConversions(pods.scheme); err != nil {
		cfg.Logger.Error("pod streams not served: registering their options", zap.Error(err))
		return
	}
	s := &podStreams{pods: pods, nc: cfg.NodeConn, log: cfg.Logger}
	m["pods/log"] = &logREST{s: s}
	m["pods/exec"] = &execREST{s: s}
	m["pods/attach"] = &attachREST{s: s}
	m["pods/portforward"] = &portForwardREST{s: s}
}

// podStreams reaches the pods' nodes for the streaming subresources.
type podStreams struct {
	pods *resource
	nc   *nats.Conn
	log  *zap.Logger
}

// defaultContainerAnnotation names the container kubectl picks when none
// is given; Strom honours it on the server side too.
const defaultContainerAnnotation = "kubectl.kubernetes.io/default-container"

// pod reads a pod that is bound to a node: not found is 404, not yet on
// a node is kube-apiserver's 400.
func (s *podStreams) pod(ctx context.Context, name string) (*corev1.Pod, error) {
	obj, err := s.pods.Get(ctx, name, &metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return nil, apierrors.NewInternalError(fmt.Errorf("pods %q: stored as %T", name, obj))
	}
	if pod.Spec.NodeName == "" {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("pod %s does not have a host assigned", name))
	}
	return pod, nil
}

// target reads the pod and picks its container (chooseContainer).
func (s *podStreams) target(ctx context.Context, name, container string) (*corev1.Pod, string, error) {
	pod, err := s.pod(ctx, name)
	if err != nil {
		return nil, "", err
	}
	c, err := chooseContainer(pod, container)
	if err != nil {
		return nil, "", err
	}
	return pod, c, nil
}

// chooseContainer is kube-apiserver's container choice: a named container
// must be one of the pod's (app, init or ephemeral); without a name, the
// kubectl.kubernetes.io/default-container annotation's when it names one,
// else the only app container; several without a default is an error
// listing them all, in kube-apiserver's words.
func chooseContainer(pod *corev1.Pod, name string) (string, error) {
	var all []string
	for _, c := range pod.Spec.InitContainers {
		all = append(all, c.Name)
	}
	for _, c := range pod.Spec.Containers {
		all = append(all, c.Name)
	}
	for _, c := range pod.Spec.EphemeralContainers {
		all = append(all, c.Name)
	}
	has := func(n string) bool {
		for _, c := range all {
			if c == n {
				return true
			}
		}
		return false
	}
	if name != "" {
		if !has(name) {
			return "", apierrors.NewBadRequest(fmt.Sprintf("container %s is not valid for pod %s", name, pod.Name))
		}
		return name, nil
	}
	if d := pod.Annotations[defaultContainerAnnotation]; d != "" && has(d) {
		return d, nil
	}
	switch len(pod.Spec.Containers) {
	case 1:
		return pod.Spec.Containers[0].Name, nil
	case 0:
		return "", apierrors.NewBadRequest(fmt.Sprintf("a container name must be specified for pod %s", pod.Name))
	default:
		return "", apierrors.NewBadRequest(fmt.Sprintf("a container name must be specified for pod %s, choose one of: %s", pod.Name, all))
	}
}

// nodeStatus maps an error of the node API to an API status: a node that
// does not answer is 503, what the node refused (no such container run,
// not running …) is 400 as kubelet's refusals are, anything else 500.
func nodeStatus(node string, err error) *apierrors.StatusError {
	var se *apierrors.StatusError
	var ne *api.NodeError
	switch {
	case errors.As(err, &se):
		return se
	case errors.Is(err, api.ErrNoAgent):
		return apierrors.NewServiceUnavailable(fmt.Sprintf("node %s: %v", node, err))
	case errors.As(err, &ne):
		return apierrors.NewBadRequest(ne.Message)
	default:
		return apierrors.NewInternalError(fmt.Errorf("node %s: %w", node, err))
	}
}

// logREST is pods/log: the container's log as text/plain, flushed as it
// comes with follow (kube-apiserver's LogREST).
type logREST struct{ s *podStreams }

var (
	_ rest.GetterWithOptions = (*logREST)(nil)
	_ rest.StorageMetadata   = (*logREST)(nil)
)

func (r *logREST) New() runtime.Object { return &corev1.Pod{} }
func (r *logREST) Destroy()            {}

func (r *logREST) ProducesMIMETypes(string) []string   { return []string{"text/plain"} }
func (r *logREST) ProducesObject(string) interface{}   { return "" }
func (r *logREST) OverrideMetricsVerb(v string) string { return overrideGet(v) }

func (r *logREST) NewGetOptions() (runtime.Object, bool, string) {
	return &corev1.PodLogOptions{}, false, ""
}

func (r *logREST) Get(ctx context.Context, name string, opts runtime.Object) (runtime.Object, error) {
	lo, ok := opts.(*corev1.PodLogOptions)
	if !ok {
		return nil, apierrors.NewInternalError(fmt.Errorf("invalid options object: %T", opts))
	}
	if errs := validateLogOptions(lo); len(errs) > 0 {
		return nil, apierrors.NewInvalid(schema.GroupKind{Kind: "PodLogOptions"}, name, errs)
	}
	pod, container, err := r.s.target(ctx, name, lo.Container)
	if err != nil {
		return nil, err
	}
	return &logStream{s: r.s, node: pod.Spec.NodeName, req: logsRequest(pod, container, lo), flush: lo.Follow}, nil
}

// overrideGet counts a streaming GET as CONNECT in the request metrics,
// as kube-apiserver does.
func overrideGet(verb string) string {
	if verb == "GET" {
		return "CONNECT"
	}
	return verb
}

// logsRequest is the node API's request for PodLogOptions.
func logsRequest(pod *corev1.Pod, container string, lo *corev1.PodLogOptions) *api.LogsRequest {
	req := &api.LogsRequest{
		Namespace: pod.Namespace, Pod: pod.Name, Container: container,
		Previous: lo.Previous, Follow: lo.Follow, Timestamps: lo.Timestamps, TailLines: lo.TailLines,
	}
	if lo.TailLines != nil && *lo.TailLines > 0 {
		req.Tail = int(*lo.TailLines) // what an agent without TailLines reads
	}
	if lo.SinceSeconds != nil {
		req.SinceSeconds = *lo.SinceSeconds
	}
	if lo.SinceTime != nil {
		t := lo.SinceTime.Time
		req.SinceTime = &t
	}
	if lo.LimitBytes != nil {
		req.LimitBytes = *lo.LimitBytes
	}
	return req
}

// validateLogOptions is kube-apiserver's ValidatePodLogOptions, plus
// Strom's one limit: the log keeps stdout and stderr together.
func validateLogOptions(o *corev1.PodLogOptions) field.ErrorList {
	var errs field.ErrorList
	if o.TailLines != nil && *o.TailLines < 0 {
		errs = append(errs, field.Invalid(field.NewPath("tailLines"), *o.TailLines, "must be greater than or equal to 0"))
	}
	if o.LimitBytes != nil && *o.LimitBytes < 1 {
		errs = append(errs, field.Invalid(field.NewPath("limitBytes"), *o.LimitBytes, "must be greater than 0"))
	}
	switch {
	case o.SinceSeconds != nil && o.SinceTime != nil:
		errs = append(errs, field.Forbidden(field.NewPath(""), "at most one of `sinceTime` or `sinceSeconds` may be specified"))
	case o.SinceSeconds != nil && *o.SinceSeconds < 1:
		errs = append(errs, field.Invalid(field.NewPath("sinceSeconds"), *o.SinceSeconds, "must be greater than 0"))
	}
	if o.Stream != nil && *o.Stream != corev1.LogStreamAll {
		if *o.Stream != corev1.LogStreamStdout && *o.Stream != corev1.LogStreamStderr {
			errs = append(errs, field.NotSupported(field.NewPath("stream"), *o.Stream, []string{corev1.LogStreamStdout, corev1.LogStreamStderr, corev1.LogStreamAll}))
		} else {
			errs = append(errs, field.Invalid(field.NewPath("stream"), *o.Stream, "Strom's container logs keep stdout and stderr together: only \"All\" is served"))
		}
	}
	return errs
}

// logStream is the log as a rest.ResourceStreamer: InputStream asks the
// node first, so a refusal (no such run, no agent) is an API status; the
// log then streams until its end (or, with follow, the run's end or the
// client leaving).
type logStream struct {
	s     *podStreams
	node  string
	req   *api.LogsRequest
	flush bool
}

var _ rest.ResourceStreamer = (*logStream)(nil)

func (l *logStream) GetObjectKind() schema.ObjectKind { return schema.EmptyObjectKind }
func (l *logStream) DeepCopyObject() runtime.Object {
	c := *l
	return &c
}

func (l *logStream) InputStream(ctx context.Context, _, _ string) (io.ReadCloser, bool, string, error) {
	ctx, cancel := context.WithCancel(ctx)
	st, err := api.Open(ctx, l.s.nc, api.LogsSubject(l.node), l.req, func(inbox string) { l.req.Inbox = inbox })
	if err != nil {
		cancel()
		return nil, false, "", nodeStatus(l.node, err)
	}
	pr, pw := io.Pipe()
	go func() {
		defer st.Close()
		_, err := st.Copy(ctx, pw, pw)
		if err != nil && ctx.Err() == nil {
			l.s.log.Debug("pod log stream ended", zap.String("pod", l.req.Namespace+"/"+l.req.Pod), zap.Error(err))
		}
		_ = pw.CloseWithError(err)
	}()
	return &cancelReader{PipeReader: pr, cancel: cancel}, l.flush, "text/plain", nil
}

// cancelReader ends the stream's context when the reader is closed.
type cancelReader struct {
	*io.PipeReader
	cancel context.CancelFunc
}

func (c *cancelReader) Close() error {
	c.cancel()
	return c.PipeReader.Close()
}

// addPodOptionConversions teaches the scheme to read the streaming
// subresources' options from a URL query (what kube-apiserver has
// generated conversions for); a value that does not parse is a 400
// naming the parameter.
func addPodOptionConversions(s *runtime.Scheme) error {
	conv := []struct {
		out any
		f   func(q url.Values, out any) error
	}{
		{(*corev1.PodLogOptions)(nil), func(q url.Values, out any) error { return decodeLogOptions(q, out.(*corev1.PodLogOptions)) }},
		{(*corev1.PodExecOptions)(nil), func(q url.Values, out any) error { return decodeExecOptions(q, out.(*corev1.PodExecOptions)) }},
		{(*corev1.PodAttachOptions)(nil), func(q url.Values, out any) error { return decodeAttachOptions(q, out.(*corev1.PodAttachOptions)) }},
		{(*corev1.PodPortForwardOptions)(nil), func(q url.Values, out any) error {
			return decodePortForwardOptions(q, out.(*corev1.PodPortForwardOptions))
		}},
	}
	for _, c := range conv {
		f := c.f
		if err := s.AddConversionFunc((*url.Values)(nil), c.out, func(a, b any, _ conversion.Scope) error {
			return f(*a.(*url.Values), b)
		}); err != nil {
			return err
		}
	}
	return nil
}

func decodeLogOptions(q url.Values, o *corev1.PodLogOptions) error {
	o.Container = q.Get("container")
	o.Follow = boolParam(q, "follow")
	o.Previous = boolParam(q, "previous")
	o.Timestamps = boolParam(q, "timestamps")
	o.InsecureSkipTLSVerifyBackend = boolParam(q, "insecureSkipTLSVerifyBackend")
	var err error
	if o.SinceSeconds, err = int64Param(q, "sinceSeconds"); err != nil {
		return err
	}
	if o.TailLines, err = int64Param(q, "tailLines"); err != nil {
		return err
	}
	if o.LimitBytes, err = int64Param(q, "limitBytes"); err != nil {
		return err
	}
	if v := q.Get("sinceTime"); v != "" {
		var t metav1.Time
		if err := t.UnmarshalQueryParameter(v); err != nil {
			return fmt.Errorf("sinceTime: %q is not an RFC 3339 time", v)
		}
		o.SinceTime = &t
	}
	if v := q.Get("stream"); v != "" {
		o.Stream = &v
	}
	return nil
}

// boolParam reads a boolean query parameter as Kubernetes does: absent,
// "0" or "false" is false, any other value true.
func boolParam(q url.Values, key string) bool {
	v, ok := q[key]
	if !ok || len(v) == 0 {
		return false
	}
	return v[0] != "0" && !strings.EqualFold(v[0], "false")
}

// int64Param reads an integer query parameter; absent is nil.
func int64Param(q url.Values, key string) (*int64, error) {
	v, ok := q[key]
	if !ok || len(v) == 0 {
		return nil, nil
	}
	n, err := strconv.ParseInt(v[0], 10, 64)
	if err != nil {
		return nil, fmt.Errorf("%s: %q is not an integer", key, v[0])
	}
	return &n, nil
}
