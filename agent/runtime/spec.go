package runtime

import (
	"fmt"
	"sort"
	"strings"
)

// cfsPeriod is the CFS period used for CPU limits, as the kubelet does.
const cfsPeriod = 100000

// ResolveArgs computes the process arguments the way Kubernetes does from
// the image's Entrypoint/Cmd and the container's command/args:
// command replaces the entrypoint (and drops the image's Cmd); args replaces
// the Cmd.
func ResolveArgs(entrypoint, cmd, command, args []string) []string {
	var out []string
	switch {
	case len(command) > 0:
		out = append(out, command...)
		out = append(out, args...)
	case len(args) > 0:
		out = append(out, entrypoint...)
		out = append(out, args...)
	default:
		out = append(out, entrypoint...)
		out = append(out, cmd...)
	}
	return out
}

// CPUQuota converts a CPU limit in millicores to a CFS quota over cfsPeriod.
// The kernel's minimum quota is 1ms.
func CPUQuota(millis int64) int64 {
	q := millis * cfsPeriod / 1000
	if q < 1000 {
		q = 1000
	}
	return q
}

// CPUShares converts a CPU request in millicores to cgroup shares (min 2).
func CPUShares(millis int64) uint64 {
	s := millis * 1024 / 1000
	if s < 2 {
		s = 2
	}
	return uint64(s)
}

// HostsFile renders a pod's /etc/hosts.
func HostsFile(hostname, podIP string, aliases map[string][]string) string {
	var b strings.Builder
	b.WriteString("# Managed by strom.\n")
	b.WriteString("127.0.0.1\tlocalhost\n")
	b.WriteString("::1\tlocalhost ip6-localhost ip6-loopback\n")
	b.WriteString("fe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n")
	if podIP != "" {
		fmt.Fprintf(&b, "%s\t%s\n", podIP, hostname)
	}
	ips := make([]string, 0, len(aliases))
	for ip := range aliases {
		ips = append(ips, ip)
	}
	sort.Strings(ips)
	for _, ip := range ips {
		fmt.Fprintf(&b, "%s\t%s\n", ip, strings.Join(aliases[ip], " "))
	}
	return b.String()
}

// ResolvConf renders a pod's /etc/resolv.conf.
func ResolvConf(dns DNSConfig) string {
	var b strings.Builder
	for _, ns := range dns.Nameservers {
		fmt.Fprintf(&b, "nameserver %s\n", ns)
	}
	if len(dns.Searches) > 0 {
		fmt.Fprintf(&b, "search %s\n", strings.Join(dns.Searches, " "))
	}
	if len(dns.Options) > 0 {
		fmt.Fprintf(&b, "options %s\n", strings.Join(dns.Options, " "))
	}
	return b.String()
}
