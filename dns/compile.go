package dns

import (
	"net/netip"
	"sort"
	"strconv"
	"strings"

	mdns "github.com/miekg/dns"
)

// SchemaVersion is the version of the Kubernetes DNS specification served
// at dns-version.<zone>.
const SchemaVersion = "1.1.0"

// zoneInfo holds what every compiled record depends on.
type zoneInfo struct {
	zone    string // lowercase FQDN, e.g. "cluster.local."
	podZone string // "pod." + zone
	ttl     uint32
	serial  uint32
}

// rrset is what one owner contributes at one name: the records and, for SRV
// names, the address records of the SRV targets for the additional section.
type rrset struct {
	rrs   []mdns.RR
	extra []mdns.RR
}

// contribution is everything one service contributes to the zone: records
// by lowercase owner name, and names that must exist even without records
// (the service's namespace, so that <ns>.svc.<zone> is an empty non-terminal).
type contribution struct {
	names map[string]*rrset
	ents  []string
	// invalid lists the names (owners or targets) that were left out
	// because they are not valid domain names.
	invalid []string
	seen    map[string]struct{} // dedupes records and additional records
}

// firstTime reports whether k is new, and remembers it.
func (c *contribution) firstTime(k string) bool {
	if c.seen == nil {
		c.seen = map[string]struct{}{}
	}
	if _, ok := c.seen[k]; ok {
		return false
	}
	c.seen[k] = struct{}{}
	return true
}

func (c *contribution) add(name string, rr mdns.RR) {
	if !validName(name) {
		c.invalid = append(c.invalid, name)
		return
	}
	if !c.firstTime(dedupeKey(rr)) {
		return
	}
	s := c.names[name]
	if s == nil {
		s = &rrset{}
		c.names[name] = s
	}
	s.rrs = append(s.rrs, rr)
}

func (c *contribution) addExtra(name string, rrs []mdns.RR) {
	s := c.names[name]
	for _, rr := range rrs {
		if c.firstTime(name + " extra " + dedupeKey(rr)) {
			s.extra = append(s.extra, rr)
		}
	}
}

// dedupeKey identifies a record by owner, type and data, cheaply for the
// types services produce.
func dedupeKey(rr mdns.RR) string {
	h := rr.Header()
	switch r := rr.(type) {
	case *mdns.A:
		return h.Name + " A " + string(r.A)
	case *mdns.AAAA:
		return h.Name + " AAAA " + string(r.AAAA)
	case *mdns.SRV:
		return h.Name + " SRV " + strconv.Itoa(int(r.Port)) + " " + r.Target
	case *mdns.PTR:
		return h.Name + " PTR " + r.Ptr
	default:
		return rr.String()
	}
}

// serviceName is <svc>.<ns>.svc.<zone>.
func (z zoneInfo) serviceName(ns, name string) string {
	return strings.ToLower(name + "." + ns + ".svc." + z.zone)
}

func (z zoneInfo) namespaceName(ns string) string {
	return strings.ToLower(ns + ".svc." + z.zone)
}

// static is the contribution that exists with no service at all: the zone
// apex with its SOA, the schema version, and the svc and pod subtrees.
func (z zoneInfo) static() contribution {
	c := contribution{names: map[string]*rrset{}}
	c.add(z.zone, z.soa(z.zone))
	c.add("dns-version."+z.zone, &mdns.TXT{Hdr: z.hdr("dns-version."+z.zone, mdns.TypeTXT), Txt: []string{SchemaVersion}})
	c.ents = []string{"svc." + z.zone, "pod." + z.zone}
	return c
}

// soa is the zone's SOA record, owned by apex (the cluster zone, or a
// reverse zone for negative answers about reverse names).
func (z zoneInfo) soa(apex string) *mdns.SOA {
	return &mdns.SOA{
		Hdr:     z.hdr(apex, mdns.TypeSOA),
		Ns:      "ns.dns." + z.zone,
		Mbox:    "hostmaster." + z.zone,
		Serial:  z.serial,
		Refresh: 7200,
		Retry:   1800,
		Expire:  86400,
		Minttl:  z.ttl,
	}
}

func (z zoneInfo) hdr(name string, t uint16) mdns.RR_Header {
	return mdns.RR_Header{Name: name, Rrtype: t, Class: mdns.ClassINET, Ttl: z.ttl}
}

func (z zoneInfo) addrRR(name string, ip netip.Addr) mdns.RR {
	if ip.Is4() {
		return &mdns.A{Hdr: z.hdr(name, mdns.TypeA), A: ip.AsSlice()}
	}
	return &mdns.AAAA{Hdr: z.hdr(name, mdns.TypeAAAA), AAAA: ip.AsSlice()}
}

func (z zoneInfo) srvRR(name string, port int32, target string) mdns.RR {
	return &mdns.SRV{Hdr: z.hdr(name, mdns.TypeSRV), Priority: 0, Weight: 100, Port: uint16(port), Target: target}
}

// srvName is _<port>._<proto>.<base>, or "" for an unnamed port.
func srvName(p Port, base string) string {
	if p.Name == "" {
		return ""
	}
	return strings.ToLower("_" + p.Name + "._" + p.Protocol + "." + base)
}

// reverseName is the in-addr.arpa or ip6.arpa name of ip.
func reverseName(ip netip.Addr) string {
	r, err := mdns.ReverseAddr(ip.String())
	if err != nil { // cannot happen for a valid netip.Addr
		return ""
	}
	return r
}

// dashedName is the system-assigned hostname of an endpoint without one:
// its IP with dots (or colons) replaced by dashes, as CoreDNS does.
func dashedName(ip netip.Addr) string {
	if ip.Is4() {
		return strings.ReplaceAll(ip.String(), ".", "-")
	}
	return strings.ReplaceAll(ip.String(), ":", "-")
}

// compileService computes the records of one service and its endpoints
// (eps may be nil). It is pure: same inputs, same records, in a stable order.
func (z zoneInfo) compileService(svc *Service, eps *Endpoints) contribution {
	c := contribution{names: map[string]*rrset{}, ents: []string{z.namespaceName(svc.Namespace)}}
	name := z.serviceName(svc.Namespace, svc.Name)
	switch {
	case svc.Type == TypeExternalName:
		if target := mdns.Fqdn(svc.ExternalName); svc.ExternalName != "" && !validName(target) {
			c.invalid = append(c.invalid, target)
		} else if svc.ExternalName != "" {
			c.add(name, &mdns.CNAME{Hdr: z.hdr(name, mdns.TypeCNAME), Target: mdns.Fqdn(svc.ExternalName)})
		}
	case svc.Headless:
		z.compileHeadless(&c, svc, eps, name)
	default:
		var addrs []mdns.RR
		for _, ip := range svc.ClusterIPs {
			rr := z.addrRR(name, ip)
			addrs = append(addrs, rr)
			c.add(name, rr)
			if rev := reverseName(ip); rev != "" {
				c.add(rev, &mdns.PTR{Hdr: z.hdr(rev, mdns.TypePTR), Ptr: name})
			}
		}
		for _, p := range svc.Ports {
			if sn := srvName(p, name); sn != "" && len(addrs) > 0 {
				c.add(sn, z.srvRR(sn, p.Port, name))
				c.addExtra(sn, addrs)
			}
		}
	}
	return c
}

// readyAddress is one endpoint address that DNS publishes, with the ports of
// its subset.
type readyAddress struct {
	Address
	ports []Port
}

func readyAddresses(svc *Service, eps *Endpoints) []readyAddress {
	if eps == nil {
		return nil
	}
	var out []readyAddress
	for _, ss := range eps.Subsets {
		for _, a := range ss.Addresses {
			out = append(out, readyAddress{a, ss.Ports})
		}
		if svc.PublishNotReadyAddresses {
			for _, a := range ss.NotReadyAddresses {
				out = append(out, readyAddress{a, ss.Ports})
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].IP.Less(out[j].IP) })
	return out
}

func (z zoneInfo) compileHeadless(c *contribution, svc *Service, eps *Endpoints, name string) {
	for _, a := range readyAddresses(svc, eps) {
		if !a.IP.IsValid() {
			continue
		}
		host := strings.ToLower(a.Hostname)
		if host == "" {
			host = dashedName(a.IP)
		}
		target := host + "." + name
		c.add(name, z.addrRR(name, a.IP))
		targetRR := z.addrRR(target, a.IP)
		c.add(target, targetRR)
		if rev := reverseName(a.IP); rev != "" {
			c.add(rev, &mdns.PTR{Hdr: z.hdr(rev, mdns.TypePTR), Ptr: target})
		}
		for _, p := range a.ports {
			if sn := srvName(p, name); sn != "" {
				c.add(sn, z.srvRR(sn, p.Port, target))
				c.addExtra(sn, []mdns.RR{targetRR})
			}
		}
	}
}

// podAddress parses the first label of a deprecated pod name
// <a>-<b>-<c>-<d>.<ns>.pod.<zone> (or an IPv6 address with dashes).
func podAddress(label string) (netip.Addr, bool) {
	if strings.Count(label, "-") == 3 {
		if ip, err := netip.ParseAddr(strings.ReplaceAll(label, "-", ".")); err == nil && ip.Is4() {
			return ip, true
		}
	}
	if ip, err := netip.ParseAddr(strings.ReplaceAll(label, "-", ":")); err == nil && ip.Is6() && !ip.Is4In6() {
		return ip, true
	}
	return netip.Addr{}, false
}

// validName reports whether name is a domain name that packs: at most 255
// octets, labels of at most 63, and no characters that need escaping.
func validName(name string) bool {
	if _, ok := mdns.IsDomainName(name); !ok || strings.ContainsAny(name, "\\ ()\";@$") {
		return false
	}
	return true
}

// serial derives an SOA serial from a Unix time.
func serialFrom(unix int64) uint32 { return uint32(unix) }
