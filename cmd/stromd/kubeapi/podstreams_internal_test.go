package kubeapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/strom-project/strom/events/api"
)

func pod(annotations map[string]string, init []string, containers ...string) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Annotations: annotations}}
	for _, c := range init {
		p.Spec.InitContainers = append(p.Spec.InitContainers, corev1.Container{Name: c})
	}
	for _, c := range containers {
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: c})
	}
	return p
}

func TestChooseContainer(t *testing.T) {
	def := map[string]string{defaultContainerAnnotation: "b"}
	for _, tc := range []struct {
		name string
		pod  *corev1.Pod
		asks string
		want string
		err  string
	}{
		{"the only one", pod(nil, nil, "a"), "", "a", ""},
		{"named", pod(nil, nil, "a", "b"), "b", "b", ""},
		{"an init container by name", pod(nil, []string{"setup"}, "a"), "setup", "setup", ""},
		{"the annotation's", pod(def, nil, "a", "b"), "", "b", ""},
		{"a name wins over the annotation", pod(def, nil, "a", "b"), "a", "a", ""},
		{"an annotation naming nothing is ignored", pod(map[string]string{defaultContainerAnnotation: "zz"}, nil, "a"), "", "a", ""},
		{"several", pod(nil, []string{"setup"}, "a", "b"), "", "", "a container name must be specified for pod p, choose one of: [setup a b]"},
		{"unknown", pod(nil, nil, "a"), "c", "", "container c is not valid for pod p"},
		{"none", pod(nil, nil), "", "", "a container name must be specified for pod p"},
	} {
		got, err := chooseContainer(tc.pod, tc.asks)
		if tc.err != "" {
			if !apierrors.IsBadRequest(err) || err.Error() != tc.err {
				t.Errorf("%s: %v, want 400 %q", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: %q %v, want %q", tc.name, got, err, tc.want)
		}
	}
}

func TestDecodeLogOptions(t *testing.T) {
	var o corev1.PodLogOptions
	q := url.Values{"container": {"c"}, "follow": {"true"}, "previous": {"1"}, "timestamps": {"false"},
		"tailLines": {"10"}, "limitBytes": {"500"}, "sinceTime": {"2026-01-02T03:04:05Z"}}
	if err := decodeLogOptions(q, &o); err != nil {
		t.Fatal(err)
	}
	if o.Container != "c" || !o.Follow || !o.Previous || o.Timestamps || *o.TailLines != 10 || *o.LimitBytes != 500 ||
		!o.SinceTime.Time.Equal(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) || o.SinceSeconds != nil {
		t.Errorf("decoded %+v", o)
	}
	for _, tc := range []struct{ q, err string }{
		{"tailLines=ten", `tailLines: "ten" is not an integer`},
		{"limitBytes=1.5", `limitBytes: "1.5" is not an integer`},
		{"sinceSeconds=", `sinceSeconds: "" is not an integer`},
		{"sinceTime=now", `sinceTime: "now" is not an RFC 3339 time`},
	} {
		q, _ := url.ParseQuery(tc.q)
		if err := decodeLogOptions(q, &corev1.PodLogOptions{}); err == nil || err.Error() != tc.err {
			t.Errorf("%s: %v, want %q", tc.q, err, tc.err)
		}
	}
}

func TestValidateLogOptions(t *testing.T) {
	n := func(v int64) *int64 { return &v }
	stdout := corev1.LogStreamStdout
	now := metav1.Now()
	for _, tc := range []struct {
		o    corev1.PodLogOptions
		want string
	}{
		{corev1.PodLogOptions{TailLines: n(0), LimitBytes: n(1), SinceSeconds: n(1)}, ""},
		{corev1.PodLogOptions{TailLines: n(-1)}, "tailLines: Invalid value: -1: must be greater than or equal to 0"},
		{corev1.PodLogOptions{LimitBytes: n(0)}, "limitBytes: Invalid value: 0: must be greater than 0"},
		{corev1.PodLogOptions{SinceSeconds: n(0)}, "sinceSeconds: Invalid value: 0: must be greater than 0"},
		{corev1.PodLogOptions{SinceSeconds: n(5), SinceTime: &now}, "Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified"},
		{corev1.PodLogOptions{Stream: &stdout}, `stream: Invalid value: "Stdout": Strom's container logs keep stdout and stderr together`},
	} {
		errs := validateLogOptions(&tc.o)
		got := ""
		if len(errs) > 0 {
			got = apierrors.NewInvalid(schema.GroupKind{Kind: "PodLogOptions"}, "p", errs).Error()
		}
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("%+v: %q, want %q", tc.o, got, tc.want)
		}
	}
}

func TestLogsRequest(t *testing.T) {
	n := func(v int64) *int64 { return &v }
	p := pod(nil, nil, "c")
	p.Namespace = "ns"
	req := logsRequest(p, "c", &corev1.PodLogOptions{Follow: true, TailLines: n(3), SinceSeconds: n(60), LimitBytes: n(9), Timestamps: true})
	if req.Namespace != "ns" || req.Pod != "p" || req.Container != "c" || !req.Follow || *req.TailLines != 3 ||
		req.Tail != 3 || req.SinceSeconds != 60 || req.LimitBytes != 9 || !req.Timestamps || req.SinceTime != nil {
		t.Errorf("request %+v", req)
	}
	// tailLines=0 is "none", which an older agent (Tail only) cannot say.
	if req := logsRequest(p, "c", &corev1.PodLogOptions{TailLines: n(0)}); req.Tail != 0 || *req.TailLines != 0 {
		t.Errorf("tailLines=0: %+v", req)
	}
}

func TestDecodeStreamOptions(t *testing.T) {
	var eo corev1.PodExecOptions
	q := url.Values{"container": {"c"}, "command": {"sh", "-c", "echo hi"}, "stdin": {"true"}, "stdout": {"true"}, "tty": {"true"}}
	if err := decodeExecOptions(q, &eo); err != nil {
		t.Fatal(err)
	}
	if eo.Container != "c" || len(eo.Command) != 3 || eo.Command[2] != "echo hi" || !eo.Stdin || !eo.Stdout || eo.Stderr || !eo.TTY {
		t.Errorf("exec options %+v", eo)
	}
	var pf corev1.PodPortForwardOptions
	if err := decodePortForwardOptions(url.Values{"ports": {"80,443", "8080"}}, &pf); err != nil || fmt.Sprint(pf.Ports) != "[80 443 8080]" {
		t.Errorf("ports: %v %v", pf.Ports, err)
	}
	if err := decodePortForwardOptions(url.Values{"ports": {"70000"}}, &pf); err == nil || !strings.Contains(err.Error(), `ports: invalid port "70000"`) {
		t.Errorf("port 70000: %v", err)
	}
}

func TestSessionOptions(t *testing.T) {
	// With a terminal, stderr goes to the terminal: kubelet's rule.
	if o := sessionOptions(true, true, true, true); o.stderr || !o.stdout || !o.stdin || !o.tty {
		t.Errorf("tty: %+v", o)
	}
	if o := sessionOptions(false, true, true, false); !o.stderr {
		t.Errorf("no tty: %+v", o)
	}
}

func TestExecStatus(t *testing.T) {
	st := execStatus("n1", 3, nil).Status()
	if st.Status != metav1.StatusFailure || st.Reason != "NonZeroExitCode" || st.Details == nil ||
		len(st.Details.Causes) != 1 || st.Details.Causes[0].Type != "ExitCode" || st.Details.Causes[0].Message != "3" {
		t.Errorf("exit 3: %+v", st)
	}
	if st := execStatus("n1", 0, nil).Status(); st.Status != metav1.StatusSuccess {
		t.Errorf("exit 0: %+v", st)
	}
	st = execStatus("n1", 0, &api.NodeError{Message: `container "c" is not running`}).Status()
	if st.Code != 500 || st.Message != `Internal error occurred: error executing command in container: container "c" is not running` {
		t.Errorf("node error: %+v", st)
	}
	st = execStatus("n1", 0, api.ErrNoAgent).Status()
	if st.Code != 503 || st.Message != "node n1: the node agent is not answering" {
		t.Errorf("no agent: %+v", st)
	}
	st = execStatus("n1", 0, fmt.Errorf("wrapped: %w", errors.New("boom"))).Status()
	if st.Code != 500 || !strings.Contains(st.Message, "node n1: wrapped: boom") {
		t.Errorf("other: %+v", st)
	}
}

func TestNodeStatus(t *testing.T) {
	if st := nodeStatus("n1", &api.NodeError{Message: `previous terminated container "c" in pod "p": not found`}); st.Status().Code != 400 {
		t.Errorf("node refusal: %+v", st.Status())
	}
	if st := nodeStatus("n1", fmt.Errorf("the node agent stopped responding: %w", api.ErrNoAgent)); st.Status().Code != 503 {
		t.Errorf("agent gone: %+v", st.Status())
	}
}

// The status channel's message: v4/v5 send the Status as JSON (kubectl
// reads the exit code from it), v2/v3 the error's text and nothing on
// success.
func TestWriteStatus(t *testing.T) {
	var b bytes.Buffer
	if err := writeStatus("v4.channel.k8s.io", &b, execStatus("n1", 7, nil)); err != nil {
		t.Fatal(err)
	}
	var st metav1.Status
	if err := json.Unmarshal(b.Bytes(), &st); err != nil || st.Reason != "NonZeroExitCode" || st.Details.Causes[0].Message != "7" {
		t.Errorf("v4: %s %v", b.String(), err)
	}
	b.Reset()
	_ = writeStatus("v3.channel.k8s.io", &b, successStatus())
	if b.Len() != 0 {
		t.Errorf("v3 success wrote %q", b.String())
	}
	_ = writeStatus("v3.channel.k8s.io", &b, execStatus("n1", 7, nil))
	if b.String() != "command terminated with non-zero exit code: exit status 7" {
		t.Errorf("v3 failure: %q", b.String())
	}
}

func TestParsePort(t *testing.T) {
	for s, want := range map[string]string{"8080": "", "": `"port" header is required`, "0": "invalid port", "65536": "invalid port", "x": "invalid port"} {
		_, err := parsePort(s)
		if (want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), want)) {
			t.Errorf("%q: %v, want %q", s, err, want)
		}
	}
}
