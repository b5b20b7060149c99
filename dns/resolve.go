package dns

import (
	"slices"
	"strings"

	mdns "github.com/miekg/dns"
)

// ednsSize is the UDP payload size this server advertises, and maxUDPSize
// the largest UDP response it sends whatever a client advertises.
const (
	ednsSize   = 1232
	maxUDPSize = 4096
)

// find returns the answer for a lowercase FQDN and type, and whether the
// name is ours to answer (false: forward it).
func (s *Store) find(name string, qtype uint16) (*answer, bool) {
	if n := s.lookup(name); n != nil {
		return n.answerFor(qtype), true
	}
	if !inZone(name, s.z.zone) {
		return nil, false
	}
	if a, ok := s.podAnswer(name, qtype); ok {
		return a, true
	}
	return s.neg.nxdomain, true
}

// podAnswer synthesizes the deprecated <a>-<b>-<c>-<d>.<ns>.pod.<zone>
// records (without checking that such a pod exists, like CoreDNS's "pods
// insecure"), and makes <ns>.pod.<zone> an empty non-terminal.
func (s *Store) podAnswer(name string, qtype uint16) (*answer, bool) {
	rest, ok := strings.CutSuffix(name, "."+s.z.podZone)
	if !ok || rest == "" {
		return nil, false
	}
	labels := strings.Split(rest, ".")
	switch len(labels) {
	case 1:
		return s.neg.ent.other, true
	case 2:
		ip, ok := podAddress(labels[0])
		if !ok {
			return nil, false
		}
		rr := s.z.addrRR(name, ip)
		if rr.Header().Rrtype != qtype && qtype != mdns.TypeANY {
			a, err := buildAnswer(name, mdns.RcodeSuccess, nil, []mdns.RR{s.z.soa(s.z.zone)}, nil, true)
			return a, err == nil
		}
		a, err := buildAnswer(name, mdns.RcodeSuccess, []mdns.RR{rr}, nil, nil, true)
		return a, err == nil
	}
	return nil, false
}

// respondMsg is the message path: it answers req from the store, or
// reports that req must be forwarded. It does not truncate.
func (s *Store) respondMsg(req *mdns.Msg) (resp *mdns.Msg, forward bool) {
	resp = new(mdns.Msg)
	resp.SetReply(req)
	resp.RecursionAvailable = true
	if req.Opcode != mdns.OpcodeQuery {
		resp.SetRcode(req, mdns.RcodeNotImplemented)
		return resp, false
	}
	if len(req.Question) != 1 {
		resp.SetRcode(req, mdns.RcodeFormatError)
		return resp, false
	}
	opt := req.IsEdns0()
	if opt != nil && opt.Version() != 0 {
		resp.SetRcode(req, mdns.RcodeBadVers)
		resp.SetEdns0(ednsSize, false)
		return resp, false
	}
	q := req.Question[0]
	name := mdns.CanonicalName(q.Name)
	if !inZone(name, s.z.zone) && s.lookup(name) == nil {
		return nil, true
	}
	if q.Qclass != mdns.ClassINET && q.Qclass != mdns.ClassANY {
		resp.SetRcode(req, mdns.RcodeRefused)
		return resp, false
	}
	a, local := s.find(name, q.Qtype)
	if !local {
		return nil, true
	}
	resp.Authoritative = true
	resp.Rcode = a.rcode
	// Clone: the answer's slices are shared and Truncate or SetEdns0
	// must not write into them.
	resp.Answer = slices.Clone(a.answer)
	resp.Ns = slices.Clone(a.ns)
	resp.Extra = slices.Clone(a.extra)
	if opt != nil {
		resp.SetEdns0(ednsSize, false)
	}
	return resp, false
}

// udpLimit is the largest response a UDP client accepts.
func udpLimit(req *mdns.Msg) int {
	size := mdns.MinMsgSize
	if opt := req.IsEdns0(); opt != nil && int(opt.UDPSize()) > size {
		size = int(opt.UDPSize())
	}
	return min(size, maxUDPSize)
}
