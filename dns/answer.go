package dns

import (
	"encoding/binary"
	"fmt"

	mdns "github.com/miekg/dns"
)

// answer is a precomputed response to questions about one name (and one
// type, or all the types that share it). It keeps the records for the
// message path and their wire form for the fast UDP path.
type answer struct {
	rcode             int
	answer, ns, extra []mdns.RR

	// body is the packed response after the question, for a question at
	// offset 12 whose name has the length of the owner name: compression
	// pointers may point into the question. For answers built without
	// compression it does not depend on the question at all.
	body             []byte
	ancount, nscount uint16
	arcount          uint16
	// anEnds[i] is the end offset in body of answer record i, so a
	// truncated response keeps whole records.
	anEnds []int
}

// buildAnswer packs the records as the response to a question for qname.
// With compress false the body does not depend on qname and can be shared
// by every name (NXDOMAIN, empty non-terminals).
func buildAnswer(qname string, rcode int, an, ns, extra []mdns.RR, compress bool) (*answer, error) {
	m := &mdns.Msg{Compress: compress}
	m.Question = []mdns.Question{{Name: qname, Qtype: mdns.TypeA, Qclass: mdns.ClassINET}}
	m.Rcode = rcode
	m.Answer, m.Ns, m.Extra = an, ns, extra
	// A record set too big for any DNS message (thousands of endpoints)
	// loses its additional section, then answer records, until it fits.
	if m.Len() > mdns.MaxMsgSize {
		m.Extra = nil
		for len(m.Answer) > 0 && m.Len() > mdns.MaxMsgSize {
			m.Answer = m.Answer[:len(m.Answer)*9/10]
		}
		an, extra = m.Answer, m.Extra
	}
	wire, err := m.Pack()
	if err != nil {
		return nil, fmt.Errorf("packing answer for %s: %w", qname, err)
	}
	qlen := 12 + wireNameLen(qname) + 4
	a := &answer{
		rcode: rcode, answer: an, ns: ns, extra: extra,
		body:    wire[qlen:],
		ancount: uint16(len(an)), nscount: uint16(len(ns)), arcount: uint16(len(extra)),
	}
	off := qlen
	for range an {
		end, err := skipRR(wire, off)
		if err != nil {
			return nil, fmt.Errorf("walking answer for %s: %w", qname, err)
		}
		a.anEnds = append(a.anEnds, end-qlen)
		off = end
	}
	return a, nil
}

// wireNameLen is the length of a presentation-format FQDN in wire format,
// for names without escapes.
func wireNameLen(name string) int {
	if name == "." {
		return 1
	}
	return len(name) + 1
}

// skipName returns the offset after the (possibly compressed) name at off.
func skipName(msg []byte, off int) (int, error) {
	for {
		if off >= len(msg) {
			return 0, errShort
		}
		c := int(msg[off])
		switch c & 0xC0 {
		case 0x00:
			if c == 0 {
				return off + 1, nil
			}
			off += 1 + c
		case 0xC0:
			return off + 2, nil
		default:
			return 0, errBadLabel
		}
	}
}

// skipRR returns the offset after the resource record at off.
func skipRR(msg []byte, off int) (int, error) {
	off, err := skipName(msg, off)
	if err != nil {
		return 0, err
	}
	if off+10 > len(msg) {
		return 0, errShort
	}
	rdlen := int(binary.BigEndian.Uint16(msg[off+8:]))
	off += 10 + rdlen
	if off > len(msg) {
		return 0, errShort
	}
	return off, nil
}

var (
	errShort    = fmt.Errorf("message too short")
	errBadLabel = fmt.Errorf("bad label type")
)
