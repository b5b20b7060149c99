package pods

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/strom-project/strom/agent/runtime"
	"github.com/strom-project/strom/agent/volumes"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func TestContainerEnv(t *testing.T) {
	objs := newFakeObjects()
	objs.putConfigMap("default", "cm", map[string]string{"A": "from-cm", "B": "b"})
	objs.putSecret("default", "sec", map[string][]byte{"PASS": []byte("pw")})
	pod := testPod("envpod", ctr("main", "busybox"))
	pod.Annotations = map[string]string{"note": "hi"}
	c := &pod.Spec.Containers[0]
	c.Resources.Limits = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("64Mi"), corev1.ResourceCPU: resource.MustParse("250m")}
	opt := true
	c.EnvFrom = []corev1.EnvFromSource{
		{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cm"}}},
		{Prefix: "S_", SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "sec"}}},
		{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "absent"}, Optional: &opt}},
	}
	field := func(p string) *corev1.EnvVarSource {
		return &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: p}}
	}
	c.Env = []corev1.EnvVar{
		{Name: "A", Value: "override"},
		{Name: "NAME", ValueFrom: field("metadata.name")},
		{Name: "NS", ValueFrom: field("metadata.namespace")},
		{Name: "UID", ValueFrom: field("metadata.uid")},
		{Name: "APP", ValueFrom: field("metadata.labels['app']")},
		{Name: "NOTE", ValueFrom: field("metadata.annotations['note']")},
		{Name: "IP", ValueFrom: field("status.podIP")},
		{Name: "HOST", ValueFrom: field("status.hostIP")},
		{Name: "NODE", ValueFrom: field("spec.nodeName")},
		{Name: "MEM", ValueFrom: &corev1.EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "limits.memory", Divisor: resource.MustParse("1Mi")}}},
		{Name: "CPU", ValueFrom: &corev1.EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "limits.cpu"}}},
		{Name: "KEY", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "sec"}, Key: "PASS"}}},
		{Name: "OPT", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "cm"}, Key: "nope", Optional: &opt}}},
		{Name: "COMBINED", Value: "$(NAME)-$(B)-$(UNDEFINED)-$$(NAME)"},
	}
	env, err := containerEnv(context.Background(), envContext{Pod: pod, PodIP: "10.0.0.9", HostIP: "192.0.2.1", Objects: objs}, c)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"A=override", "B=b", "S_PASS=pw", "NAME=envpod", "NS=default", "UID=uid-envpod", "APP=envpod", "NOTE=hi",
		"IP=10.0.0.9", "HOST=192.0.2.1", "NODE=node-1", "MEM=64", "CPU=1", "KEY=pw",
		"COMBINED=envpod-b-$(UNDEFINED)-$(NAME)",
	}
	if !reflect.DeepEqual(env, want) {
		t.Errorf("env =\n%q\nwant\n%q", env, want)
	}
	if got := expandAll([]string{"echo", "$(NAME)"}, envMap(env)); got[1] != "envpod" {
		t.Errorf("args expansion = %v", got)
	}

	errCases := map[string]corev1.EnvVar{
		`configmap "missing" not found`:                {Name: "X", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "missing"}, Key: "k"}}},
		`secret "gone" not found`:                      {Name: "X", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "gone"}, Key: "k"}}},
		`couldn't find key zz in ConfigMap default/cm`: {Name: "X", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "cm"}, Key: "zz"}}},
		`unsupported fieldPath "spec.bogus"`:           {Name: "X", ValueFrom: field("spec.bogus")},
	}
	for msg, ev := range errCases {
		c2 := corev1.Container{Name: "x", Env: []corev1.EnvVar{ev}}
		_, err := containerEnv(context.Background(), envContext{Pod: pod, Objects: objs}, &c2)
		var ce *volumes.ConfigError
		if !errors.As(err, &ce) || ce.Msg != msg {
			t.Errorf("error = %v, want ConfigError %q", err, msg)
		}
	}
}

func TestPodDNS(t *testing.T) {
	hostConf := filepath.Join(t.TempDir(), "resolv.conf")
	if err := os.WriteFile(hostConf, []byte("# c\nnameserver 192.0.2.53\nsearch example.org\noptions edns0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	host := func() (runtime.DNSConfig, error) { return readResolvConf(hostConf) }
	dns := DNS{ClusterDNS: []string{"10.96.0.10"}, ClusterDomain: "cluster.local"}
	pod := testPod("p", ctr("a", "img"))
	pod.Namespace = "shop"
	got, err := podDNS(pod, dns, host)
	want := runtime.DNSConfig{Nameservers: []string{"10.96.0.10"}, Searches: []string{"shop.svc.cluster.local", "svc.cluster.local", "cluster.local"}, Options: []string{"ndots:5"}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("ClusterFirst = %+v %v", got, err)
	}
	pod.Spec.DNSPolicy = corev1.DNSDefault
	got, _ = podDNS(pod, dns, host)
	if !reflect.DeepEqual(got, runtime.DNSConfig{Nameservers: []string{"192.0.2.53"}, Searches: []string{"example.org"}, Options: []string{"edns0"}}) {
		t.Errorf("Default = %+v", got)
	}
	// No cluster DNS configured: ClusterFirst falls back to the host's.
	pod.Spec.DNSPolicy = ""
	got, _ = podDNS(pod, DNS{ClusterDomain: "cluster.local"}, host)
	if len(got.Nameservers) != 1 || got.Nameservers[0] != "192.0.2.53" {
		t.Errorf("fallback = %+v", got)
	}
	two := "2"
	pod.Spec.DNSPolicy = corev1.DNSNone
	pod.Spec.DNSConfig = &corev1.PodDNSConfig{Nameservers: []string{"1.1.1.1"}, Options: []corev1.PodDNSConfigOption{{Name: "ndots", Value: &two}}}
	got, _ = podDNS(pod, dns, host)
	if !reflect.DeepEqual(got, runtime.DNSConfig{Nameservers: []string{"1.1.1.1"}, Options: []string{"ndots:2"}}) {
		t.Errorf("None = %+v", got)
	}
	pod.Spec.Hostname = "custom"
	pod.Spec.HostAliases = []corev1.HostAlias{{IP: "10.1.1.1", Hostnames: []string{"db", "db.local"}}}
	cfg, err := sandboxConfig(pod, dns, host)
	if err != nil || cfg.Hostname != "custom" || !reflect.DeepEqual(cfg.HostAliases["10.1.1.1"], []string{"db", "db.local"}) {
		t.Errorf("sandbox config = %+v %v", cfg, err)
	}
}
