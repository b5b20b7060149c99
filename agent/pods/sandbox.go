package pods

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"github.com/strom-project/strom/agent/runtime"
	corev1 "k8s.io/api/core/v1"
)

// sandboxConfig builds the pod's sandbox: hostname, host aliases and DNS.
func sandboxConfig(pod *corev1.Pod, dns DNS, hostResolv func() (runtime.DNSConfig, error)) (runtime.SandboxConfig, error) {
	host := pod.Name
	if pod.Spec.Hostname != "" {
		host = pod.Spec.Hostname
	}
	aliases := map[string][]string{}
	for _, a := range pod.Spec.HostAliases {
		aliases[a.IP] = append(aliases[a.IP], a.Hostnames...)
	}
	d, err := podDNS(pod, dns, hostResolv)
	if err != nil {
		return runtime.SandboxConfig{}, err
	}
	return runtime.SandboxConfig{
		PodUID: string(pod.UID), Namespace: pod.Namespace, Name: pod.Name,
		Hostname: host, HostAliases: aliases, DNS: d,
	}, nil
}

// podDNS applies dnsPolicy: ClusterFirst (the default) uses the cluster DNS
// with the Kubernetes search path and ndots:5, falling back to the host's
// when no cluster DNS is configured; Default uses the host's; None only
// dnsConfig. dnsConfig is merged in for every policy.
func podDNS(pod *corev1.Pod, dns DNS, hostResolv func() (runtime.DNSConfig, error)) (runtime.DNSConfig, error) {
	var d runtime.DNSConfig
	policy := pod.Spec.DNSPolicy
	if policy == "" {
		policy = corev1.DNSClusterFirst
	}
	if (policy == corev1.DNSClusterFirst || policy == corev1.DNSClusterFirstWithHostNet) && len(dns.ClusterDNS) == 0 {
		policy = corev1.DNSDefault
	}
	switch policy {
	case corev1.DNSClusterFirst, corev1.DNSClusterFirstWithHostNet:
		z := dns.ClusterDomain
		d = runtime.DNSConfig{
			Nameservers: append([]string(nil), dns.ClusterDNS...),
			Searches:    []string{pod.Namespace + ".svc." + z, "svc." + z, z},
			Options:     []string{"ndots:5"},
		}
	case corev1.DNSDefault:
		h, err := hostResolv()
		if err != nil {
			return d, err
		}
		d = h
	case corev1.DNSNone:
	default:
		return d, fmt.Errorf("unknown dnsPolicy %q", policy)
	}
	if c := pod.Spec.DNSConfig; c != nil {
		d.Nameservers = append(d.Nameservers, c.Nameservers...)
		d.Searches = append(d.Searches, c.Searches...)
		for _, o := range c.Options {
			opt := o.Name
			if o.Value != nil {
				opt += ":" + *o.Value
			}
			d.Options = append(d.Options, opt)
		}
	}
	return d, nil
}

// readResolvConf parses nameserver, search and options lines.
func readResolvConf(path string) (runtime.DNSConfig, error) {
	var d runtime.DNSConfig
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return d, nil
	}
	if err != nil {
		return d, fmt.Errorf("reading host resolv.conf: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		switch fields[0] {
		case "nameserver":
			d.Nameservers = append(d.Nameservers, fields[1])
		case "search", "domain":
			d.Searches = append(d.Searches, fields[1:]...)
		case "options":
			d.Options = append(d.Options, fields[1:]...)
		}
	}
	return d, sc.Err()
}

// hostPorts lists the pod's hostPorts.
func hostPorts(pod *corev1.Pod) []PortMapping {
	var out []PortMapping
	for _, c := range pod.Spec.Containers {
		for _, p := range c.Ports {
			if p.HostPort == 0 {
				continue
			}
			out = append(out, PortMapping{
				HostPort: p.HostPort, ContainerPort: p.ContainerPort,
				Protocol: strings.ToLower(string(p.Protocol)), HostIP: p.HostIP,
			})
		}
	}
	return out
}
