package objects

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var (
	restartPolicies = []corev1.RestartPolicy{corev1.RestartPolicyAlways, corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever}
	dnsPolicies     = []corev1.DNSPolicy{corev1.DNSClusterFirstWithHostNet, corev1.DNSClusterFirst, corev1.DNSDefault, corev1.DNSNone}
	pullPolicies    = []corev1.PullPolicy{corev1.PullAlways, corev1.PullIfNotPresent, corev1.PullNever}
	protocols       = []corev1.Protocol{corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP}
	uriSchemes      = []corev1.URIScheme{corev1.URISchemeHTTP, corev1.URISchemeHTTPS}
	taintEffects    = []corev1.TaintEffect{corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute}
	termMsgPolicies = []corev1.TerminationMessagePolicy{corev1.TerminationMessageReadFile, corev1.TerminationMessageFallbackToLogsOnError}
	nodeSelectorOps = []corev1.NodeSelectorOperator{corev1.NodeSelectorOpIn, corev1.NodeSelectorOpNotIn, corev1.NodeSelectorOpExists,
		corev1.NodeSelectorOpDoesNotExist, corev1.NodeSelectorOpGt, corev1.NodeSelectorOpLt}
	unsatisfiableActions = []corev1.UnsatisfiableConstraintAction{corev1.DoNotSchedule, corev1.ScheduleAnyway}
)

// fieldPaths the downward API may expose, in env (fieldRef) and volumes.
var downwardFieldPaths = sets.New("metadata.name", "metadata.namespace", "metadata.uid",
	"metadata.labels", "metadata.annotations", "spec.nodeName", "spec.serviceAccountName",
	"status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs")

// validatePodSpec checks a pod's spec; p is "spec" for a Pod and
// "spec.template.spec" for workloads.
// Containers may also mount extraVolumes: a StatefulSet's claim templates.
func validatePodSpec(s *corev1.PodSpec, p *field.Path, extraVolumes ...string) field.ErrorList {
	volumes, errs := validateVolumes(s.Volumes, p.Child("volumes"))
	volumes.Insert(extraVolumes...)
	if len(s.Containers) == 0 {
		errs = append(errs, field.Required(p.Child("containers"), ""))
	}
	names := sets.New[string]()
	for i := range s.InitContainers {
		errs = append(errs, validateContainer(&s.InitContainers[i], true, s.HostNetwork, volumes, names, p.Child("initContainers").Index(i))...)
	}
	for i := range s.Containers {
		errs = append(errs, validateContainer(&s.Containers[i], false, s.HostNetwork, volumes, names, p.Child("containers").Index(i))...)
	}
	errs = append(errs, validateUniqueHostPorts(s.Containers, p.Child("containers"))...)
	errs = append(errs, validateEnum(s.RestartPolicy, restartPolicies, p.Child("restartPolicy"))...)
	errs = append(errs, validateEnum(s.DNSPolicy, dnsPolicies, p.Child("dnsPolicy"))...)
	if s.DNSPolicy == corev1.DNSNone && s.DNSConfig == nil {
		errs = append(errs, field.Required(p.Child("dnsConfig"), "must provide `dnsConfig` when `dnsPolicy` is None"))
	}
	if s.DNSConfig != nil {
		for i, ns := range s.DNSConfig.Nameservers {
			errs = append(errs, validateIP(ns, p.Child("dnsConfig", "nameservers").Index(i))...)
		}
	}
	errs = append(errs, nonNegativePtr64(s.TerminationGracePeriodSeconds, p.Child("terminationGracePeriodSeconds"))...)
	if a := s.ActiveDeadlineSeconds; a != nil && (*a < 1 || *a > 1<<31-1) {
		errs = append(errs, field.Invalid(p.Child("activeDeadlineSeconds"), *a, validation.InclusiveRangeError(1, 1<<31-1)))
	}
	errs = append(errs, metavalidation.ValidateLabels(s.NodeSelector, p.Child("nodeSelector"))...)
	if s.NodeName != "" {
		errs = append(errs, validateDNSSubdomain(s.NodeName, p.Child("nodeName"))...)
	}
	if s.ServiceAccountName != "" {
		errs = append(errs, msgErrs(p.Child("serviceAccountName"), s.ServiceAccountName, apivalidation.ValidateServiceAccountName(s.ServiceAccountName, false))...)
	}
	if s.SchedulerName != "" {
		errs = append(errs, validateDNSSubdomain(s.SchedulerName, p.Child("schedulerName"))...)
	}
	if s.Hostname != "" {
		errs = append(errs, validateDNSLabel(s.Hostname, p.Child("hostname"))...)
	}
	if s.Subdomain != "" {
		errs = append(errs, validateDNSLabel(s.Subdomain, p.Child("subdomain"))...)
	}
	for i, ref := range s.ImagePullSecrets {
		if ref.Name == "" {
			errs = append(errs, field.Required(p.Child("imagePullSecrets").Index(i).Child("name"), ""))
		}
	}
	for i := range s.Tolerations {
		errs = append(errs, validateToleration(&s.Tolerations[i], p.Child("tolerations").Index(i))...)
	}
	errs = append(errs, validateAffinity(s.Affinity, p.Child("affinity"))...)
	for i := range s.TopologySpreadConstraints {
		errs = append(errs, validateSpreadConstraint(&s.TopologySpreadConstraints[i], p.Child("topologySpreadConstraints").Index(i))...)
	}
	errs = append(errs, validatePodSecurityContext(s.SecurityContext, p.Child("securityContext"))...)
	return errs
}

func validateContainer(c *corev1.Container, isInit, hostNetwork bool, volumes, names sets.Set[string], p *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch {
	case c.Name == "":
		errs = append(errs, field.Required(p.Child("name"), ""))
	case names.Has(c.Name):
		errs = append(errs, field.Duplicate(p.Child("name"), c.Name))
	default:
		errs = append(errs, validateDNSLabel(c.Name, p.Child("name"))...)
	}
	names.Insert(c.Name)
	if strings.TrimSpace(c.Image) == "" {
		errs = append(errs, field.Required(p.Child("image"), ""))
	} else if c.Image != strings.TrimSpace(c.Image) {
		errs = append(errs, field.Invalid(p.Child("image"), c.Image, "must not have leading or trailing whitespace"))
	}
	errs = append(errs, validateEnum(c.ImagePullPolicy, pullPolicies, p.Child("imagePullPolicy"))...)
	errs = append(errs, validateOptionalEnum(c.TerminationMessagePolicy, termMsgPolicies, p.Child("terminationMessagePolicy"))...)
	errs = append(errs, validateContainerPorts(c.Ports, hostNetwork, p.Child("ports"))...)
	errs = append(errs, validateEnv(c.Env, p.Child("env"))...)
	errs = append(errs, validateEnvFrom(c.EnvFrom, p.Child("envFrom"))...)
	errs = append(errs, validateVolumeMounts(c.VolumeMounts, volumes, p.Child("volumeMounts"))...)
	errs = append(errs, validateResources(&c.Resources, p.Child("resources"))...)
	sidecar := isInit && c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
	if c.RestartPolicy != nil {
		if !isInit {
			errs = append(errs, field.Forbidden(p.Child("restartPolicy"), "may not be set for non-init containers"))
		} else if *c.RestartPolicy != corev1.ContainerRestartPolicyAlways {
			errs = append(errs, field.NotSupported(p.Child("restartPolicy"), *c.RestartPolicy, []corev1.ContainerRestartPolicy{corev1.ContainerRestartPolicyAlways}))
		}
	}
	probes := []struct {
		name  string
		probe *corev1.Probe
	}{{"livenessProbe", c.LivenessProbe}, {"readinessProbe", c.ReadinessProbe}, {"startupProbe", c.StartupProbe}}
	for _, pr := range probes {
		if pr.probe == nil {
			continue
		}
		pp := p.Child(pr.name)
		if isInit && !sidecar {
			errs = append(errs, field.Forbidden(pp, "may not be set for init containers without restartPolicy=Always"))
			continue
		}
		errs = append(errs, validateProbe(pr.probe, pr.name != "readinessProbe", pp)...)
	}
	if c.Lifecycle != nil {
		if isInit && !sidecar {
			errs = append(errs, field.Forbidden(p.Child("lifecycle"), "may not be set for init containers without restartPolicy=Always"))
		} else {
			errs = append(errs, validateLifecycleHandler(c.Lifecycle.PostStart, p.Child("lifecycle", "postStart"))...)
			errs = append(errs, validateLifecycleHandler(c.Lifecycle.PreStop, p.Child("lifecycle", "preStop"))...)
		}
	}
	errs = append(errs, validateSecurityContext(c.SecurityContext, p.Child("securityContext"))...)
	return errs
}

func validateContainerPorts(ports []corev1.ContainerPort, hostNetwork bool, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	names := sets.New[string]()
	for i, port := range ports {
		pp := p.Index(i)
		if port.Name != "" {
			errs = append(errs, msgErrs(pp.Child("name"), port.Name, validation.IsValidPortName(port.Name))...)
			if names.Has(port.Name) {
				errs = append(errs, field.Duplicate(pp.Child("name"), port.Name))
			}
			names.Insert(port.Name)
		}
		if port.ContainerPort == 0 {
			errs = append(errs, field.Required(pp.Child("containerPort"), ""))
		} else {
			errs = append(errs, msgErrs(pp.Child("containerPort"), port.ContainerPort, validation.IsValidPortNum(int(port.ContainerPort)))...)
		}
		if port.HostPort != 0 {
			errs = append(errs, msgErrs(pp.Child("hostPort"), port.HostPort, validation.IsValidPortNum(int(port.HostPort)))...)
			if hostNetwork && port.HostPort != port.ContainerPort {
				errs = append(errs, field.Invalid(pp.Child("containerPort"), port.ContainerPort, "must match `hostPort` when `hostNetwork` is true"))
			}
		}
		errs = append(errs, validateEnum(port.Protocol, protocols, pp.Child("protocol"))...)
		if port.HostIP != "" {
			errs = append(errs, validateIP(port.HostIP, pp.Child("hostIP"))...)
		}
	}
	return errs
}

// validateUniqueHostPorts: two containers of a pod cannot bind the same
// host port, protocol and host IP.
func validateUniqueHostPorts(cs []corev1.Container, p *field.Path) field.ErrorList {
	type key struct {
		ip       string
		port     int32
		protocol corev1.Protocol
	}
	var errs field.ErrorList
	seen := map[key]bool{}
	for i := range cs {
		for j, port := range cs[i].Ports {
			if port.HostPort == 0 {
				continue
			}
			k := key{port.HostIP, port.HostPort, port.Protocol}
			if seen[k] {
				errs = append(errs, field.Duplicate(p.Index(i).Child("ports").Index(j).Child("hostPort"),
					fmt.Sprintf("%s/%s:%d", port.Protocol, port.HostIP, port.HostPort)))
			}
			seen[k] = true
		}
	}
	return errs
}

func validateEnv(env []corev1.EnvVar, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, ev := range env {
		ep := p.Index(i)
		if ev.Name == "" {
			errs = append(errs, field.Required(ep.Child("name"), ""))
		} else {
			errs = append(errs, msgErrs(ep.Child("name"), ev.Name, validation.IsRelaxedEnvVarName(ev.Name))...)
		}
		if ev.ValueFrom != nil {
			errs = append(errs, validateEnvVarSource(ev.ValueFrom, ev.Value != "", ep.Child("valueFrom"))...)
		}
	}
	return errs
}

func validateEnvVarSource(s *corev1.EnvVarSource, hasValue bool, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	n := 0
	if s.FieldRef != nil {
		n++
		errs = append(errs, validateFieldRef(s.FieldRef, p.Child("fieldRef"))...)
	}
	if s.ResourceFieldRef != nil {
		n++
		if s.ResourceFieldRef.Resource == "" {
			errs = append(errs, field.Required(p.Child("resourceFieldRef", "resource"), ""))
		}
	}
	if s.ConfigMapKeyRef != nil {
		n++
		errs = append(errs, validateKeySelector(s.ConfigMapKeyRef.Name, s.ConfigMapKeyRef.Key, p.Child("configMapKeyRef"))...)
	}
	if s.SecretKeyRef != nil {
		n++
		errs = append(errs, validateKeySelector(s.SecretKeyRef.Name, s.SecretKeyRef.Key, p.Child("secretKeyRef"))...)
	}
	if s.FileKeyRef != nil {
		n++
	}
	switch {
	case n == 0:
		errs = append(errs, field.Invalid(p, "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef`, `secretKeyRef` or `fileKeyRef`"))
	case n > 1:
		errs = append(errs, field.Invalid(p, "", "may not have more than one field specified at a time"))
	}
	if hasValue {
		errs = append(errs, field.Invalid(p, "", "may not be specified when `value` is not empty"))
	}
	return errs
}

func validateKeySelector(name, key string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if name == "" {
		errs = append(errs, field.Required(p.Child("name"), ""))
	}
	if key == "" {
		errs = append(errs, field.Required(p.Child("key"), ""))
	} else {
		errs = append(errs, msgErrs(p.Child("key"), key, validation.IsConfigMapKey(key))...)
	}
	return errs
}

// validateFieldRef checks a downward API field path; labels and
// annotations may be read whole or by key.
func validateFieldRef(f *corev1.ObjectFieldSelector, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if f.APIVersion != "" && f.APIVersion != "v1" {
		errs = append(errs, field.NotSupported(p.Child("apiVersion"), f.APIVersion, []string{"v1"}))
	}
	fp := p.Child("fieldPath")
	if f.FieldPath == "" {
		return append(errs, field.Required(fp, ""))
	}
	pth := f.FieldPath
	for _, prefix := range []string{"metadata.labels", "metadata.annotations"} {
		if strings.HasPrefix(pth, prefix+"['") && strings.HasSuffix(pth, "']") {
			key := strings.TrimSuffix(strings.TrimPrefix(pth, prefix+"['"), "']")
			return append(errs, validateQualifiedName(strings.ToLower(key), fp)...)
		}
	}
	if !downwardFieldPaths.Has(pth) {
		errs = append(errs, field.NotSupported(fp, pth, sets.List(downwardFieldPaths)))
	}
	return errs
}

func validateEnvFrom(envFrom []corev1.EnvFromSource, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, ef := range envFrom {
		ep := p.Index(i)
		if ef.Prefix != "" {
			errs = append(errs, msgErrs(ep.Child("prefix"), ef.Prefix, validation.IsRelaxedEnvVarName(ef.Prefix))...)
		}
		switch {
		case ef.ConfigMapRef != nil && ef.SecretRef != nil:
			errs = append(errs, field.Invalid(ep, "", "may not have more than one field specified at a time"))
		case ef.ConfigMapRef != nil:
			if ef.ConfigMapRef.Name == "" {
				errs = append(errs, field.Required(ep.Child("configMapRef", "name"), ""))
			}
		case ef.SecretRef != nil:
			if ef.SecretRef.Name == "" {
				errs = append(errs, field.Required(ep.Child("secretRef", "name"), ""))
			}
		default:
			errs = append(errs, field.Invalid(ep, "", "must specify one of: `configMapRef` or `secretRef`"))
		}
	}
	return errs
}

// validateResourceName accepts the standard container resources and
// extended resources, which carry a domain ("example.com/gpu").
func validateResourceName(name corev1.ResourceName, p *field.Path) field.ErrorList {
	n := string(name)
	if errs := validateQualifiedName(n, p); len(errs) > 0 {
		return errs
	}
	if strings.Contains(n, "/") {
		return nil
	}
	switch {
	case name == corev1.ResourceCPU, name == corev1.ResourceMemory, name == corev1.ResourceEphemeralStorage,
		strings.HasPrefix(n, corev1.ResourceHugePagesPrefix):
		return nil
	}
	return field.ErrorList{field.Invalid(p, n, "must be a standard resource for containers")}
}

func validateResources(r *corev1.ResourceRequirements, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for name, q := range r.Limits {
		lp := p.Child("limits").Key(string(name))
		errs = append(errs, validateResourceName(name, lp)...)
		errs = append(errs, validateNonNegativeQuantity(q, lp)...)
	}
	for name, q := range r.Requests {
		rp := p.Child("requests").Key(string(name))
		errs = append(errs, validateResourceName(name, rp)...)
		errs = append(errs, validateNonNegativeQuantity(q, rp)...)
		if limit, ok := r.Limits[name]; ok && q.Cmp(limit) > 0 {
			errs = append(errs, field.Invalid(rp, q.String(), "must be less than or equal to "+string(name)+" limit of "+limit.String()))
		}
	}
	return errs
}

// handlerTypes lists the handler fields a probe or hook sets.
func handlerTypes(exec, httpGet, tcp, grpc, sleep bool) []string {
	var out []string
	for _, h := range []struct {
		set  bool
		name string
	}{{exec, "exec"}, {httpGet, "httpGet"}, {tcp, "tcpSocket"}, {grpc, "grpc"}, {sleep, "sleep"}} {
		if h.set {
			out = append(out, h.name)
		}
	}
	return out
}

func validateProbe(pr *corev1.Probe, successMustBeOne bool, p *field.Path) field.ErrorList {
	h := &pr.ProbeHandler
	types := handlerTypes(h.Exec != nil, h.HTTPGet != nil, h.TCPSocket != nil, h.GRPC != nil, false)
	var errs field.ErrorList
	switch len(types) {
	case 0:
		errs = append(errs, field.Required(p, "must specify a handler type"))
	case 1:
		errs = append(errs, validateHandler(h.Exec, h.HTTPGet, h.TCPSocket, p)...)
		if h.GRPC != nil {
			errs = append(errs, msgErrs(p.Child("grpc", "port"), h.GRPC.Port, validation.IsValidPortNum(int(h.GRPC.Port)))...)
		}
	default:
		errs = append(errs, field.Forbidden(p.Child(types[1]), "may not specify more than 1 handler type"))
	}
	errs = append(errs, nonNegative32(pr.InitialDelaySeconds, p.Child("initialDelaySeconds"))...)
	errs = append(errs, nonNegative32(pr.TimeoutSeconds, p.Child("timeoutSeconds"))...)
	errs = append(errs, nonNegative32(pr.PeriodSeconds, p.Child("periodSeconds"))...)
	errs = append(errs, nonNegative32(pr.SuccessThreshold, p.Child("successThreshold"))...)
	errs = append(errs, nonNegative32(pr.FailureThreshold, p.Child("failureThreshold"))...)
	errs = append(errs, nonNegativePtr64(pr.TerminationGracePeriodSeconds, p.Child("terminationGracePeriodSeconds"))...)
	if successMustBeOne && pr.SuccessThreshold > 1 {
		errs = append(errs, field.Invalid(p.Child("successThreshold"), pr.SuccessThreshold, "must be 1"))
	}
	return errs
}

func validateLifecycleHandler(h *corev1.LifecycleHandler, p *field.Path) field.ErrorList {
	if h == nil {
		return nil
	}
	types := handlerTypes(h.Exec != nil, h.HTTPGet != nil, h.TCPSocket != nil, false, h.Sleep != nil)
	switch len(types) {
	case 0:
		return field.ErrorList{field.Required(p, "must specify a handler type")}
	case 1:
		errs := validateHandler(h.Exec, h.HTTPGet, h.TCPSocket, p)
		if h.Sleep != nil && h.Sleep.Seconds < 0 {
			errs = append(errs, field.Invalid(p.Child("sleep", "seconds"), h.Sleep.Seconds, apivalidation.IsNegativeErrorMsg))
		}
		return errs
	default:
		return field.ErrorList{field.Forbidden(p.Child(types[1]), "may not specify more than 1 handler type")}
	}
}

func validateHandler(exec *corev1.ExecAction, httpGet *corev1.HTTPGetAction, tcp *corev1.TCPSocketAction, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if exec != nil && len(exec.Command) == 0 {
		errs = append(errs, field.Required(p.Child("exec", "command"), ""))
	}
	if httpGet != nil {
		hp := p.Child("httpGet")
		if httpGet.Path == "" {
			errs = append(errs, field.Required(hp.Child("path"), ""))
		}
		errs = append(errs, validatePortNumOrName(httpGet.Port, hp.Child("port"))...)
		errs = append(errs, validateOptionalEnum(httpGet.Scheme, uriSchemes, hp.Child("scheme"))...)
		for i, h := range httpGet.HTTPHeaders {
			errs = append(errs, msgErrs(hp.Child("httpHeaders").Index(i).Child("name"), h.Name, validation.IsHTTPHeaderName(h.Name))...)
		}
	}
	if tcp != nil {
		errs = append(errs, validatePortNumOrName(tcp.Port, p.Child("tcpSocket", "port"))...)
	}
	return errs
}

func validatePodSecurityContext(sc *corev1.PodSecurityContext, p *field.Path) field.ErrorList {
	if sc == nil {
		return nil
	}
	var errs field.ErrorList
	errs = append(errs, validateUserID(sc.RunAsUser, p.Child("runAsUser"))...)
	errs = append(errs, validateGroupID(sc.RunAsGroup, p.Child("runAsGroup"))...)
	errs = append(errs, validateGroupID(sc.FSGroup, p.Child("fsGroup"))...)
	for i, g := range sc.SupplementalGroups {
		errs = append(errs, validateGroupID(&g, p.Child("supplementalGroups").Index(i))...)
	}
	return errs
}

func validateSecurityContext(sc *corev1.SecurityContext, p *field.Path) field.ErrorList {
	if sc == nil {
		return nil
	}
	var errs field.ErrorList
	errs = append(errs, validateUserID(sc.RunAsUser, p.Child("runAsUser"))...)
	errs = append(errs, validateGroupID(sc.RunAsGroup, p.Child("runAsGroup"))...)
	if sc.Privileged != nil && *sc.Privileged && sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation {
		errs = append(errs, field.Invalid(p, sc, "cannot set `allowPrivilegeEscalation` to false and `privileged` to true"))
	}
	return errs
}

func validateUserID(id *int64, p *field.Path) field.ErrorList {
	if id == nil {
		return nil
	}
	return msgErrs(p, *id, validation.IsValidUserID(*id))
}

func validateGroupID(id *int64, p *field.Path) field.ErrorList {
	if id == nil {
		return nil
	}
	return msgErrs(p, *id, validation.IsValidGroupID(*id))
}
