package runtime

import (
	"encoding/base64"
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

func TestNormalizeImage(t *testing.T) {
	cases := map[string]string{
		"busybox":                                 "docker.io/library/busybox:latest",
		"busybox:1.36":                            "docker.io/library/busybox:1.36",
		"library/nginx":                           "docker.io/library/nginx:latest",
		"someone/app:v2":                          "docker.io/someone/app:v2",
		"docker.io/library/redis:7":               "docker.io/library/redis:7",
		"quay.io/org/img":                         "quay.io/org/img:latest",
		"localhost:5000/x:1":                      "localhost:5000/x:1",
		"strom.test/busybox:1":                    "strom.test/busybox:1",
		"nginx@sha256:" + strings.Repeat("a", 64): "docker.io/library/nginx@sha256:" + strings.Repeat("a", 64),
	}
	for in, want := range cases {
		got, err := NormalizeImage(in)
		if err != nil || got != want {
			t.Errorf("NormalizeImage(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "upper/Case", "a b", "busybox:", "x//y", "busybox@sha256:short"} {
		if _, err := NormalizeImage(bad); !errors.Is(err, ErrInvalidImageName) {
			t.Errorf("NormalizeImage(%q) error = %v, want ErrInvalidImageName", bad, err)
		}
	}
}

func TestDefaultPullPolicy(t *testing.T) {
	if DefaultPullPolicy("docker.io/library/busybox:latest") != PullAlways {
		t.Errorf(":latest should default to Always")
	}
	if DefaultPullPolicy("docker.io/library/busybox:1.36") != PullIfNotPresent {
		t.Errorf("a fixed tag should default to IfNotPresent")
	}
}

func TestResolveArgs(t *testing.T) {
	ep, cmd := []string{"/entry"}, []string{"--default"}
	cases := []struct {
		command, args, want []string
	}{
		{nil, nil, []string{"/entry", "--default"}},
		{nil, []string{"--x"}, []string{"/entry", "--x"}},
		{[]string{"sh"}, nil, []string{"sh"}},
		{[]string{"sh", "-c"}, []string{"echo hi"}, []string{"sh", "-c", "echo hi"}},
	}
	for _, c := range cases {
		if got := ResolveArgs(ep, cmd, c.command, c.args); !reflect.DeepEqual(got, c.want) {
			t.Errorf("ResolveArgs(command %v, args %v) = %v, want %v", c.command, c.args, got, c.want)
		}
	}
}

func TestCPUConversions(t *testing.T) {
	if q := CPUQuota(250); q != 25000 {
		t.Errorf("CPUQuota(250) = %d", q)
	}
	if q := CPUQuota(1); q != 1000 {
		t.Errorf("CPUQuota(1) = %d, want the 1ms minimum", q)
	}
	if s := CPUShares(1000); s != 1024 {
		t.Errorf("CPUShares(1000) = %d", s)
	}
	if s := CPUShares(1); s != 2 {
		t.Errorf("CPUShares(1) = %d, want 2", s)
	}
}

func TestContainerIDIsStableAndValid(t *testing.T) {
	valid := regexp.MustCompile(`^[A-Za-z0-9]+(?:[._-](?:[A-Za-z0-9]+))*$`)
	a := ContainerID("uid-1", "web", 0)
	if a != ContainerID("uid-1", "web", 0) {
		t.Errorf("ContainerID is not deterministic")
	}
	seen := map[string]bool{a: true}
	for _, id := range []string{ContainerID("uid-1", "web", 1), ContainerID("uid-2", "web", 0), ContainerID("uid-1", "db", 0)} {
		if seen[id] {
			t.Errorf("ContainerID collision: %s", id)
		}
		seen[id] = true
	}
	for _, name := range []string{"web", "My_Container.Name", strings.Repeat("x", 63), "--", "a--b"} {
		id := ContainerID("uid", name, 3)
		if !valid.MatchString(id) || len(id) > 76 {
			t.Errorf("ContainerID(%q) = %q is not a valid containerd ID", name, id)
		}
	}
}

func TestParseDockerConfig(t *testing.T) {
	enc := base64.StdEncoding.EncodeToString([]byte("alice:s3cr:et"))
	cfg := `{"auths": {
		"https://index.docker.io/v1/": {"auth": "` + enc + `"},
		"registry.example.com:5000": {"username": "bob", "password": "pw"},
		"ghcr.io": {"identitytoken": "tok"}
	}}`
	got, err := ParseDockerConfig([]byte(cfg))
	if err != nil {
		t.Fatalf("ParseDockerConfig: %v", err)
	}
	want := map[string]RegistryAuth{
		"docker.io":                 {Username: "alice", Password: "s3cr:et"},
		"registry.example.com:5000": {Username: "bob", Password: "pw"},
		"ghcr.io":                   {IdentityToken: "tok"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ParseDockerConfig = %+v, want %+v", got, want)
	}
	// The resolver asks for registry-1.docker.io when pulling from Docker Hub.
	if a, ok := lookupAuth(got, "registry-1.docker.io"); !ok || a.Username != "alice" {
		t.Errorf("lookupAuth(registry-1.docker.io) = %+v %v", a, ok)
	}
	legacy, err := ParseDockerConfig([]byte(`{"quay.io": {"auth": "` + base64.StdEncoding.EncodeToString([]byte("q:w")) + `"}}`))
	if err != nil || legacy["quay.io"].Username != "q" {
		t.Errorf("legacy dockercfg = %+v %v", legacy, err)
	}
	if _, err := ParseDockerConfig([]byte(`{"auths": {"x": {"auth": "!!"}}}`)); err == nil {
		t.Errorf("bad base64 accepted")
	}
	merged := MergeAuth(map[string]RegistryAuth{"a": {Username: "first"}}, map[string]RegistryAuth{"a": {Username: "second"}, "b": {Username: "b"}})
	if merged["a"].Username != "first" || merged["b"].Username != "b" {
		t.Errorf("MergeAuth = %+v", merged)
	}
}

func TestHostsAndResolvConf(t *testing.T) {
	h := HostsFile("web-0", "10.244.0.9", map[string][]string{"10.0.0.2": {"db", "db.local"}, "10.0.0.1": {"gw"}})
	for _, want := range []string{"127.0.0.1\tlocalhost\n", "10.244.0.9\tweb-0\n", "10.0.0.1\tgw\n10.0.0.2\tdb db.local\n"} {
		if !strings.Contains(h, want) {
			t.Errorf("hosts file lacks %q:\n%s", want, h)
		}
	}
	if strings.Contains(HostsFile("web-0", "", nil), "web-0") {
		t.Errorf("hosts file names the pod before it has an IP")
	}
	r := ResolvConf(DNSConfig{Nameservers: []string{"10.96.0.10"}, Searches: []string{"ns.svc.cluster.local", "svc.cluster.local"}, Options: []string{"ndots:5"}})
	want := "nameserver 10.96.0.10\nsearch ns.svc.cluster.local svc.cluster.local\noptions ndots:5\n"
	if r != want {
		t.Errorf("resolv.conf = %q, want %q", r, want)
	}
}

func TestLabelsAndFilter(t *testing.T) {
	sb := Sandbox{PodUID: "u1", Namespace: "ns", Name: "p"}
	l := containerLabels(sb, ContainerConfig{Name: "c", RestartCount: 2, Labels: map[string]string{"hash": "h", LabelPodUID: "forged"}}, "/logs/x.log")
	want := map[string]string{
		LabelManaged: "true", LabelPodUID: "u1", LabelPodNamespace: "ns", LabelPodName: "p",
		LabelContainerName: "c", LabelRestartCount: "2", LabelLogPath: "/logs/x.log", "hash": "h",
	}
	if !reflect.DeepEqual(l, want) {
		t.Errorf("labels = %v, want %v", l, want)
	}
	f := labelFilter(map[string]string{LabelPodUID: "u1", "a b": `x"y`})
	wantF := `labels."strom.io/managed"=="true",labels."a b"=="x\"y",labels."strom.io/pod-uid"=="u1"`
	if f != wantF {
		t.Errorf("filter = %s, want %s", f, wantF)
	}
}

func TestValidPodUID(t *testing.T) {
	for _, bad := range []string{"", ".", "..", "a/b", "../x"} {
		if validPodUID(bad) == nil {
			t.Errorf("pod UID %q accepted", bad)
		}
	}
	if err := validPodUID("0f8e-11"); err != nil {
		t.Errorf("valid UID rejected: %v", err)
	}
}
