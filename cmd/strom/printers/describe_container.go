package printers

import (
	"fmt"
	"net"
	"net/url"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// fieldResolver gives the value of an env var set from a pod field, or "".
type fieldResolver func(e corev1.EnvVar) string

// podFieldResolver resolves downward-API field references against a pod.
func podFieldResolver(p *corev1.Pod) fieldResolver {
	return func(e corev1.EnvVar) string {
		path := e.ValueFrom.FieldRef.FieldPath
		switch path {
		case "metadata.name":
			return p.Name
		case "metadata.namespace":
			return p.Namespace
		case "metadata.uid":
			return string(p.UID)
		case "spec.nodeName":
			return p.Spec.NodeName
		case "spec.serviceAccountName":
			return p.Spec.ServiceAccountName
		case "status.hostIP":
			return p.Status.HostIP
		case "status.podIP":
			return p.Status.PodIP
		}
		for prefix, m := range map[string]map[string]string{"metadata.labels": p.Labels, "metadata.annotations": p.Annotations} {
			if key, ok := strings.CutPrefix(path, prefix+"['"); ok {
				return m[strings.TrimSuffix(key, "']")]
			}
		}
		return ""
	}
}

// containers writes a Containers (or Init Containers) section. statuses
// and env are nil for pod templates.
func (d *describer) containers(indent, title string, cs []corev1.Container, statuses []corev1.ContainerStatus, env fieldResolver) {
	byName := map[string]corev1.ContainerStatus{}
	for _, s := range statuses {
		byName[s.Name] = s
	}
	if len(cs) == 0 {
		d.w(0, "%s%s: %s\n", indent, title, none)
	} else {
		d.w(0, "%s%s:\n", indent, title)
	}
	nameIndent := ""
	if indent != "" {
		nameIndent = " "
	}
	for _, c := range cs {
		st, ok := byName[c.Name]
		d.w(1, "%s%s:\n", nameIndent, c.Name)
		if ok {
			d.w(2, "Container ID:\t%s\n", st.ContainerID)
		}
		d.w(2, "Image:\t%s\n", c.Image)
		if ok {
			d.w(2, "Image ID:\t%s\n", st.ImageID)
		}
		d.ports(c.Ports)
		if c.RestartPolicy != nil {
			d.w(2, "Restart Policy:\t%s\n", *c.RestartPolicy)
		}
		d.stringList("Command", c.Command)
		d.stringList("Args", c.Args)
		if ok {
			d.state("State", st.State)
			if st.LastTerminationState.Terminated != nil {
				d.state("Last State", st.LastTerminationState)
			}
			d.w(2, "Ready:\t%s\n", boolString(st.Ready))
			d.w(2, "Restart Count:\t%d\n", st.RestartCount)
		}
		d.resources("Limits", c.Resources.Limits)
		d.resources("Requests", c.Resources.Requests)
		for _, p := range []struct {
			name  string
			probe *corev1.Probe
		}{{"Liveness", c.LivenessProbe}, {"Readiness", c.ReadinessProbe}, {"Startup", c.StartupProbe}} {
			if p.probe != nil {
				d.w(2, "%s:\t%s\n", p.name, describeProbe(p.probe))
			}
		}
		if len(c.EnvFrom) > 0 {
			d.envFrom(c.EnvFrom)
		}
		d.env(c.Env, env)
		d.mounts(c.VolumeMounts)
	}
}

func (d *describer) ports(ps []corev1.ContainerPort) {
	var ports, hostPorts []string
	for _, p := range ps {
		ports = append(ports, fmt.Sprintf("%d/%s", p.ContainerPort, protocolOr(p.Protocol)))
		hostPorts = append(hostPorts, fmt.Sprintf("%d/%s", p.HostPort, protocolOr(p.Protocol)))
	}
	if len(ports) > 1 {
		d.w(2, "Ports:\t%s\n", strings.Join(ports, ", "))
		d.w(2, "Host Ports:\t%s\n", strings.Join(hostPorts, ", "))
		return
	}
	d.w(2, "Port:\t%s\n", orNone(strings.Join(ports, "")))
	d.w(2, "Host Port:\t%s\n", orNone(strings.Join(hostPorts, "")))
}

func (d *describer) stringList(title string, items []string) {
	if len(items) == 0 {
		return
	}
	d.w(2, "%s:\n", title)
	for _, item := range items {
		for _, line := range strings.Split(item, "\n") {
			d.w(3, "%s\n", line)
		}
	}
}

func (d *describer) state(title string, s corev1.ContainerState) {
	switch {
	case s.Running != nil:
		d.w(2, "%s:\tRunning\n", title)
		d.w(3, "Started:\t%s\n", rfc1123(s.Running.StartedAt))
	case s.Terminated != nil:
		t := s.Terminated
		d.w(2, "%s:\tTerminated\n", title)
		if t.Reason != "" {
			d.w(3, "Reason:\t%s\n", t.Reason)
		}
		if t.Message != "" {
			d.w(3, "Message:\t%s\n", t.Message)
		}
		d.w(3, "Exit Code:\t%d\n", t.ExitCode)
		if t.Signal > 0 {
			d.w(3, "Signal:\t%d\n", t.Signal)
		}
		d.w(3, "Started:\t%s\n", rfc1123(t.StartedAt))
		d.w(3, "Finished:\t%s\n", rfc1123(t.FinishedAt))
	default:
		d.w(2, "%s:\tWaiting\n", title)
		if s.Waiting != nil && s.Waiting.Reason != "" {
			d.w(3, "Reason:\t%s\n", s.Waiting.Reason)
		}
	}
}

func (d *describer) resources(title string, l corev1.ResourceList) {
	if len(l) == 0 {
		return
	}
	d.w(2, "%s:\n", title)
	for _, name := range sortedResourceNames(l) {
		q := l[name]
		d.w(3, "%s:\t%s\n", name, q.String())
	}
}

// describeProbe is "http-get http://:8080/healthz delay=0s timeout=1s ...".
func describeProbe(p *corev1.Probe) string {
	attrs := fmt.Sprintf("delay=%ds timeout=%ds period=%ds #success=%d #failure=%d",
		p.InitialDelaySeconds, p.TimeoutSeconds, p.PeriodSeconds, p.SuccessThreshold, p.FailureThreshold)
	switch {
	case p.Exec != nil:
		return fmt.Sprintf("exec %v %s", p.Exec.Command, attrs)
	case p.HTTPGet != nil:
		u := &url.URL{Scheme: strings.ToLower(string(p.HTTPGet.Scheme)), Path: p.HTTPGet.Path}
		if port := p.HTTPGet.Port.String(); port != "" {
			u.Host = net.JoinHostPort(p.HTTPGet.Host, port)
		} else {
			u.Host = p.HTTPGet.Host
		}
		return fmt.Sprintf("http-get %s %s", u.String(), attrs)
	case p.TCPSocket != nil:
		return fmt.Sprintf("tcp-socket %s:%s %s", p.TCPSocket.Host, p.TCPSocket.Port.String(), attrs)
	case p.GRPC != nil:
		svc := ""
		if p.GRPC.Service != nil {
			svc = *p.GRPC.Service
		}
		return fmt.Sprintf("grpc <pod>:%d %s %s", p.GRPC.Port, svc, attrs)
	}
	return "unknown " + attrs
}

func (d *describer) envFrom(sources []corev1.EnvFromSource) {
	d.w(2, "Environment Variables from:\n")
	for _, e := range sources {
		var from, name string
		var optional bool
		switch {
		case e.ConfigMapRef != nil:
			from, name = "ConfigMap", e.ConfigMapRef.Name
			optional = e.ConfigMapRef.Optional != nil && *e.ConfigMapRef.Optional
		case e.SecretRef != nil:
			from, name = "Secret", e.SecretRef.Name
			optional = e.SecretRef.Optional != nil && *e.SecretRef.Optional
		}
		if e.Prefix == "" {
			d.w(3, "%s\t%s\tOptional: %t\n", name, from, optional)
		} else {
			d.w(3, "%s\t%s with prefix '%s'\tOptional: %t\n", name, from, e.Prefix, optional)
		}
	}
}

// env lists environment variables. Values from secrets and config maps
// are named, never resolved.
func (d *describer) env(vars []corev1.EnvVar, resolve fieldResolver) {
	if len(vars) == 0 {
		d.w(2, "Environment:\t%s\n", none)
		return
	}
	d.w(2, "Environment:\n")
	for _, e := range vars {
		if e.ValueFrom == nil {
			for i, line := range strings.Split(e.Value, "\n") {
				if i == 0 {
					d.w(3, "%s:\t%s\n", e.Name, line)
				} else {
					d.w(3, "\t%s\n", line)
				}
			}
			continue
		}
		switch vf := e.ValueFrom; {
		case vf.FieldRef != nil:
			val := ""
			if resolve != nil {
				val = resolve(e)
			}
			d.w(3, "%s:\t%s (%s:%s)\n", e.Name, val, vf.FieldRef.APIVersion, vf.FieldRef.FieldPath)
		case vf.ResourceFieldRef != nil:
			d.w(3, "%s:\t(%s)\n", e.Name, vf.ResourceFieldRef.Resource)
		case vf.SecretKeyRef != nil:
			optional := vf.SecretKeyRef.Optional != nil && *vf.SecretKeyRef.Optional
			d.w(3, "%s:\t<set to the key '%s' in secret '%s'>\tOptional: %t\n", e.Name, vf.SecretKeyRef.Key, vf.SecretKeyRef.Name, optional)
		case vf.ConfigMapKeyRef != nil:
			optional := vf.ConfigMapKeyRef.Optional != nil && *vf.ConfigMapKeyRef.Optional
			d.w(3, "%s:\t<set to the key '%s' of config map '%s'>\tOptional: %t\n", e.Name, vf.ConfigMapKeyRef.Key, vf.ConfigMapKeyRef.Name, optional)
		}
	}
}

func (d *describer) mounts(ms []corev1.VolumeMount) {
	if len(ms) == 0 {
		d.w(2, "Mounts:\t%s\n", none)
		return
	}
	d.w(2, "Mounts:\n")
	sorted := append([]corev1.VolumeMount(nil), ms...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].MountPath < sorted[j].MountPath })
	for _, m := range sorted {
		flags := []string{"rw"}
		if m.ReadOnly {
			flags[0] = "ro"
		}
		if m.SubPath != "" {
			flags = append(flags, fmt.Sprintf("path=%q", m.SubPath))
		}
		d.w(3, "%s from %s (%s)\n", m.MountPath, m.Name, strings.Join(flags, ","))
	}
}
