package pods

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/strom-project/strom/agent/volumes"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// envContext is what env resolution may read.
type envContext struct {
	Pod     *corev1.Pod
	PodIP   string
	HostIP  string
	Objects volumes.Objects
}

// containerEnv resolves a container's envFrom and env, in that order (env
// wins), expanding $(VAR) references to variables defined before. Missing
// ConfigMaps, Secrets or keys are *volumes.ConfigError.
func containerEnv(ctx context.Context, ec envContext, c *corev1.Container) ([]string, error) {
	ns := ec.Pod.Namespace
	vals := map[string]string{}
	var order []string
	set := func(k, v string) {
		if _, ok := vals[k]; !ok {
			order = append(order, k)
		}
		vals[k] = v
	}
	for _, ef := range c.EnvFrom {
		switch {
		case ef.ConfigMapRef != nil:
			opt := ef.ConfigMapRef.Optional != nil && *ef.ConfigMapRef.Optional
			cm, err := volumes.GetConfigMap(ctx, ec.Objects, ns, ef.ConfigMapRef.Name, opt)
			if err != nil {
				return nil, err
			}
			if cm != nil {
				data := volumes.ConfigMapData(cm)
				for _, k := range sortedKeys(data) {
					set(ef.Prefix+k, string(data[k]))
				}
			}
		case ef.SecretRef != nil:
			opt := ef.SecretRef.Optional != nil && *ef.SecretRef.Optional
			s, err := volumes.GetSecret(ctx, ec.Objects, ns, ef.SecretRef.Name, opt)
			if err != nil {
				return nil, err
			}
			if s != nil {
				data := volumes.SecretData(s)
				for _, k := range sortedKeys(data) {
					set(ef.Prefix+k, string(data[k]))
				}
			}
		}
	}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			set(e.Name, expand(e.Value, vals))
			continue
		}
		v, ok, err := envValueFrom(ctx, ec, c, e.ValueFrom)
		if err != nil {
			return nil, err
		}
		if ok {
			set(e.Name, v)
		}
	}
	out := make([]string, 0, len(order))
	for _, k := range order {
		out = append(out, k+"="+vals[k])
	}
	return out, nil
}

// envValueFrom resolves one valueFrom; ok is false for an optional source
// that is missing.
func envValueFrom(ctx context.Context, ec envContext, c *corev1.Container, vf *corev1.EnvVarSource) (string, bool, error) {
	ns := ec.Pod.Namespace
	switch {
	case vf.FieldRef != nil:
		v, err := volumes.DownwardField(ec.Pod, vf.FieldRef.FieldPath, ec.PodIP, ec.HostIP)
		if err != nil {
			return "", false, &volumes.ConfigError{Msg: err.Error()}
		}
		return v, true, nil
	case vf.ResourceFieldRef != nil:
		v, err := resourceField(ec.Pod, c, vf.ResourceFieldRef)
		if err != nil {
			return "", false, &volumes.ConfigError{Msg: err.Error()}
		}
		return v, true, nil
	case vf.ConfigMapKeyRef != nil:
		r := vf.ConfigMapKeyRef
		opt := r.Optional != nil && *r.Optional
		cm, err := volumes.GetConfigMap(ctx, ec.Objects, ns, r.Name, opt)
		if err != nil || cm == nil {
			return "", false, err
		}
		v, ok := volumes.ConfigMapData(cm)[r.Key]
		if !ok {
			if opt {
				return "", false, nil
			}
			return "", false, &volumes.ConfigError{Msg: fmt.Sprintf("couldn't find key %s in ConfigMap %s/%s", r.Key, ns, r.Name)}
		}
		return string(v), true, nil
	case vf.SecretKeyRef != nil:
		r := vf.SecretKeyRef
		opt := r.Optional != nil && *r.Optional
		s, err := volumes.GetSecret(ctx, ec.Objects, ns, r.Name, opt)
		if err != nil || s == nil {
			return "", false, err
		}
		v, ok := volumes.SecretData(s)[r.Key]
		if !ok {
			if opt {
				return "", false, nil
			}
			return "", false, &volumes.ConfigError{Msg: fmt.Sprintf("couldn't find key %s in Secret %s/%s", r.Key, ns, r.Name)}
		}
		return string(v), true, nil
	}
	return "", false, &volumes.ConfigError{Msg: "env valueFrom has no source"}
}

// resourceField resolves limits.cpu, limits.memory, requests.cpu and
// requests.memory (limits default to the node's... here: requests, or 0).
func resourceField(pod *corev1.Pod, c *corev1.Container, r *corev1.ResourceFieldSelector) (string, error) {
	target := c
	if r.ContainerName != "" && r.ContainerName != c.Name {
		target = nil
		for i := range pod.Spec.Containers {
			if pod.Spec.Containers[i].Name == r.ContainerName {
				target = &pod.Spec.Containers[i]
			}
		}
		if target == nil {
			return "", fmt.Errorf("resourceFieldRef: no container %q", r.ContainerName)
		}
	}
	var q resource.Quantity
	var ok bool
	var name corev1.ResourceName
	switch r.Resource {
	case "limits.cpu", "limits.memory":
		name = corev1.ResourceName(strings.TrimPrefix(r.Resource, "limits."))
		q, ok = target.Resources.Limits[name]
	case "requests.cpu", "requests.memory":
		name = corev1.ResourceName(strings.TrimPrefix(r.Resource, "requests."))
		q, ok = target.Resources.Requests[name]
	default:
		return "", fmt.Errorf("resourceFieldRef: unsupported resource %q", r.Resource)
	}
	if !ok {
		return "0", nil
	}
	div := r.Divisor
	if div.IsZero() {
		div = resource.MustParse("1")
	}
	if name == corev1.ResourceCPU {
		// CPU rounds up to whole divisor units, as in kubelet.
		v := math.Ceil(float64(q.MilliValue()) / float64(div.MilliValue()))
		return strconv.FormatInt(int64(v), 10), nil
	}
	v := math.Ceil(float64(q.Value()) / float64(div.Value()))
	return strconv.FormatInt(int64(v), 10), nil
}

// expand replaces $(NAME) with defined variables; $$ escapes a dollar and
// undefined references stay as written.
func expand(s string, vals map[string]string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			end := strings.IndexByte(s[i+2:], ')')
			if end < 0 {
				b.WriteByte(s[i])
				continue
			}
			name := s[i+2 : i+2+end]
			if v, ok := vals[name]; ok {
				b.WriteString(v)
			} else {
				b.WriteString(s[i : i+3+end])
			}
			i += 2 + end
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// envMap turns KEY=value lines into a map for $(VAR) expansion of
// command and args.
func envMap(env []string) map[string]string {
	m := make(map[string]string, len(env))
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

func expandAll(ss []string, vals map[string]string) []string {
	if ss == nil {
		return nil
	}
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = expand(s, vals)
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
