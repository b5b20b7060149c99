package objects

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func warningsOf(t *testing.T, doc string) []string {
	t.Helper()
	obj, _, err := Decode([]byte(doc))
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	Default(obj)
	if errs := Validate(obj); len(errs) > 0 {
		t.Fatalf("warning test manifest is invalid: %v", errs.ToAggregate())
	}
	return Warnings(obj)
}

func TestWarningsForKinds(t *testing.T) {
	for _, k := range All() {
		t.Run(k.Kind, func(t *testing.T) {
			obj := loadValid(t, k)
			Default(obj)
			got := Warnings(obj)
			if slices.Contains(notActedOnKinds, k.Kind) {
				want := []string{k.Kind + " objects are stored but not acted on by Strom yet"}
				if !slices.Equal(got, want) {
					t.Fatalf("got %q, want %q", got, want)
				}
				return
			}
			// The valid manifests of acted-on kinds use only acted-on
			// fields: defaulting must not make them warn.
			if len(got) != 0 {
				t.Fatalf("unexpected warnings: %q", got)
			}
		})
	}
}

func TestNotActedOnKindsAreKinds(t *testing.T) {
	for _, name := range notActedOnKinds {
		if ByKind(name) == nil {
			t.Errorf("notActedOnKinds names %q, which is not a stored kind", name)
		}
	}
}

func TestWarningsForPodFields(t *testing.T) {
	got := warningsOf(t, podDoc(`{hostNetwork: true, hostPID: true, priorityClassName: high, runtimeClassName: kata,
 securityContext: {runAsUser: 1000, fsGroup: 2000},
 affinity: {podAffinity: {requiredDuringSchedulingIgnoredDuringExecution: [{topologyKey: zone, labelSelector: {matchLabels: {app: db}}}]},
  podAntiAffinity: {requiredDuringSchedulingIgnoredDuringExecution: [{topologyKey: kubernetes.io/hostname, labelSelector: {matchLabels: {app: web}}}]}},
 topologySpreadConstraints: [{maxSkew: 1, topologyKey: zone, whenUnsatisfiable: DoNotSchedule}],
 initContainers: [{name: init, image: busybox, securityContext: {privileged: true}}],
 containers: [{name: web, image: nginx, tty: true, securityContext: {readOnlyRootFilesystem: true, runAsNonRoot: true},
  volumeMounts: [{name: data, mountPath: /data}]}],
 volumes: [{name: data, persistentVolumeClaim: {claimName: data}}, {name: cfg, configMap: {name: c}}]}`))
	want := []string{
		"spec.affinity.podAffinity: stored but not acted on by Strom yet",
		"spec.topologySpreadConstraints: stored but not acted on by Strom yet",
		"spec.hostNetwork: stored but not acted on by Strom yet",
		"spec.hostPID: stored but not acted on by Strom yet",
		"spec.priorityClassName: stored but not acted on by Strom yet",
		"spec.runtimeClassName: stored but not acted on by Strom yet",
		"spec.securityContext.runAsUser: stored but not acted on by Strom yet",
		"spec.securityContext.fsGroup: stored but not acted on by Strom yet",
		"spec.initContainers[0].securityContext.privileged: stored but not acted on by Strom yet",
		"spec.containers[0].securityContext.runAsNonRoot: stored but not acted on by Strom yet",
		"spec.containers[0].securityContext.readOnlyRootFilesystem: stored but not acted on by Strom yet",
		"spec.containers[0].tty: stored but not acted on by Strom yet",
		"spec.volumes[0].persistentVolumeClaim: stored but not acted on by Strom yet",
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("warnings:\n got  %q\n want %q", got, want)
	}
}

func TestWarningsPodAntiAffinity(t *testing.T) {
	onHost := "affinity: {podAntiAffinity: {requiredDuringSchedulingIgnoredDuringExecution: [{topologyKey: kubernetes.io/hostname, labelSelector: {matchLabels: {app: web}}}]}}"
	if got := warningsOf(t, podWith(onHost)); len(got) != 0 {
		t.Errorf("anti-affinity on hostname is acted on, got %q", got)
	}
	onZone := "affinity: {podAntiAffinity: {requiredDuringSchedulingIgnoredDuringExecution: [{topologyKey: topology.kubernetes.io/zone, labelSelector: {matchLabels: {app: web}}}]}}"
	got := warningsOf(t, podWith(onZone))
	if len(got) != 1 || !strings.HasPrefix(got[0], "spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution") {
		t.Errorf("anti-affinity on zone: got %q", got)
	}
	preferred := "affinity: {podAntiAffinity: {preferredDuringSchedulingIgnoredDuringExecution: [{weight: 10, podAffinityTerm: {topologyKey: kubernetes.io/hostname}}]}}"
	got = warningsOf(t, podWith(preferred))
	if !slices.Equal(got, []string{"spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution: stored but not acted on by Strom yet"}) {
		t.Errorf("preferred anti-affinity: got %q", got)
	}
}

func TestWarningsDeploymentTemplatePath(t *testing.T) {
	got := warningsOf(t, deployDoc("{selector: {matchLabels: {app: web}}, template: {metadata: {labels: {app: web}}, spec: {hostIPC: true, containers: [{name: web, image: nginx, stdin: true}]}}}"))
	want := []string{
		"spec.template.spec.hostIPC: stored but not acted on by Strom yet",
		"spec.template.spec.containers[0].stdin: stored but not acted on by Strom yet",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestWarningsService(t *testing.T) {
	got := warningsOf(t, svcDoc("{type: LoadBalancer, externalTrafficPolicy: Local, loadBalancerSourceRanges: [10.0.0.0/8], ports: [{port: 80}]}"))
	want := []string{
		"spec.externalTrafficPolicy: stored but not acted on by Strom yet",
		"spec.loadBalancerSourceRanges: stored but not acted on by Strom yet",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	for _, spec := range []string{
		"{type: NodePort, ports: [{port: 80, nodePort: 30080}]}",
		"{clusterIP: None, selector: {app: web}, publishNotReadyAddresses: true}",
		"{type: ExternalName, externalName: db.example.com}",
		"{externalIPs: [192.0.2.1], sessionAffinity: ClientIP, ports: [{port: 80}]}",
	} {
		if got := warningsOf(t, svcDoc(spec)); len(got) != 0 {
			t.Errorf("%s: acted-on service warned %q", spec, got)
		}
	}
}

// jsonFields lists the JSON names of a struct type's fields.
func jsonFields(t reflect.Type) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			// An embedded struct (a container's probe handler) contributes its fields.
			if f.Anonymous {
				out = append(out, jsonFields(f.Type)...)
			}
			continue
		}
		out = append(out, name)
	}
	return out
}

func ruleTops[T any](rules []fieldRule[T]) map[string]bool {
	out := map[string]bool{}
	for _, r := range rules {
		top := strings.FieldsFunc(r.path, func(c rune) bool { return c == '.' || c == '[' || c == ' ' })[0]
		out[top] = true
	}
	return out
}

// TestEveryFieldClassified: every field of a pod spec, a container and a
// service spec is either acted on or has a warning rule, so nothing a
// manifest sets can be dropped without a word.
func TestEveryFieldClassified(t *testing.T) {
	check := func(typ reflect.Type, acted []string, ruled map[string]bool) {
		for _, f := range jsonFields(typ) {
			if !slices.Contains(acted, f) && !ruled[f] {
				t.Errorf("%s.%s is neither acted on nor warned about", typ.Name(), f)
			}
		}
		for _, f := range acted {
			if !slices.Contains(jsonFields(typ), f) {
				t.Errorf("acted-on list names %s.%s, which does not exist", typ.Name(), f)
			}
		}
	}
	check(reflect.TypeOf(corev1.PodSpec{}), actedOnPodSpecFields, ruleTops(podSpecRules))
	check(reflect.TypeOf(corev1.Container{}), actedOnContainerFields, ruleTops(containerRules))
	check(reflect.TypeOf(corev1.ServiceSpec{}), actedOnServiceSpecFields, ruleTops(serviceRules))
	for _, f := range jsonFields(reflect.TypeOf(corev1.SecurityContext{})) {
		if !ruleTops(containerRules)["securityContext"] || !slices.ContainsFunc(containerRules, func(r fieldRule[*corev1.Container]) bool {
			return r.path == "securityContext."+f
		}) {
			t.Errorf("container securityContext.%s has no warning rule", f)
		}
	}
	for _, f := range jsonFields(reflect.TypeOf(corev1.PodSecurityContext{})) {
		if !slices.ContainsFunc(podSpecRules, func(r fieldRule[*corev1.PodSpec]) bool { return r.path == "securityContext."+f }) {
			t.Errorf("pod securityContext.%s has no warning rule", f)
		}
	}
}
