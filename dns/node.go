package dns

import (
	"fmt"
	"strings"

	mdns "github.com/miekg/dns"
)

// node holds the precomputed answers of one existing name. Nodes are
// immutable once published, so readers use them without locks.
type node struct {
	byType []typedAnswer
	// other answers every type without records: the CNAME of an
	// ExternalName service, or NOERROR with no data and the SOA.
	other *answer
	// any answers qtype ANY with every record of the name.
	any *answer
}

type typedAnswer struct {
	qtype uint16
	a     *answer
}

func (n *node) answerFor(qtype uint16) *answer {
	for i := range n.byType {
		if n.byType[i].qtype == qtype {
			return n.byType[i].a
		}
	}
	if qtype == mdns.TypeANY && n.any != nil {
		return n.any
	}
	return n.other
}

// soaFor is the SOA of negative answers about name: the cluster zone's, or
// one for the reverse tree the name belongs to.
func (z zoneInfo) soaFor(name string) *mdns.SOA {
	switch {
	case inZone(name, z.zone):
		return z.soa(z.zone)
	case strings.HasSuffix(name, ".ip6.arpa."):
		return z.soa("ip6.arpa.")
	default:
		return z.soa("in-addr.arpa.")
	}
}

// buildNode precomputes the answers of name from the record sets that all
// its owners contribute.
func (z zoneInfo) buildNode(name string, sets []*rrset) (*node, error) {
	var all, cnames []mdns.RR
	byType := map[uint16][]mdns.RR{}
	extra := map[uint16][]mdns.RR{}
	var order []uint16
	for _, s := range sets {
		for _, rr := range s.rrs {
			t := rr.Header().Rrtype
			if _, ok := byType[t]; !ok {
				order = append(order, t)
			}
			byType[t] = append(byType[t], rr)
			all = append(all, rr)
			if t == mdns.TypeCNAME {
				cnames = append(cnames, rr)
			}
		}
		if len(s.rrs) > 0 && len(s.extra) > 0 {
			t := s.rrs[0].Header().Rrtype
			extra[t] = append(extra[t], s.extra...)
		}
	}
	n := &node{}
	for _, t := range order {
		a, err := buildAnswer(name, mdns.RcodeSuccess, byType[t], nil, extra[t], true)
		if err != nil {
			return nil, err
		}
		n.byType = append(n.byType, typedAnswer{t, a})
	}
	var err error
	if len(cnames) > 0 {
		n.other, err = buildAnswer(name, mdns.RcodeSuccess, cnames, nil, nil, true)
	} else {
		n.other, err = buildAnswer(name, mdns.RcodeSuccess, nil, []mdns.RR{z.soaFor(name)}, nil, true)
	}
	if err != nil {
		return nil, err
	}
	switch {
	case len(order) == 1:
		n.any = n.byType[0].a
	case len(order) > 1:
		if n.any, err = buildAnswer(name, mdns.RcodeSuccess, all, nil, nil, true); err != nil {
			return nil, err
		}
	}
	return n, nil
}

// negativeAnswers are shared by every name: their bodies are packed without
// compression, so they do not depend on the question.
type negativeAnswers struct {
	nxdomain *answer // a name under the zone that does not exist
	ent      *node   // an empty non-terminal: exists, has no records
}

func (z zoneInfo) buildNegative() (negativeAnswers, error) {
	soa := []mdns.RR{z.soa(z.zone)}
	nx, err := buildAnswer(z.zone, mdns.RcodeNameError, nil, soa, nil, false)
	if err != nil {
		return negativeAnswers{}, fmt.Errorf("building NXDOMAIN answer: %w", err)
	}
	nodata, err := buildAnswer(z.zone, mdns.RcodeSuccess, nil, soa, nil, false)
	if err != nil {
		return negativeAnswers{}, fmt.Errorf("building NODATA answer: %w", err)
	}
	return negativeAnswers{nxdomain: nx, ent: &node{other: nodata}}, nil
}

// inZone reports whether the lowercase FQDN name is zone or under it.
func inZone(name, zone string) bool {
	if len(name) == len(zone) {
		return name == zone
	}
	return len(name) > len(zone) && name[len(name)-len(zone)-1] == '.' && name[len(name)-len(zone):] == zone
}
