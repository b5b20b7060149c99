package dns

import (
	"encoding/binary"

	mdns "github.com/miekg/dns"
)

// Header flag bits.
const (
	flagQR = 1 << 15
	flagAA = 1 << 10
	flagTC = 1 << 9
	flagRD = 1 << 8
	flagRA = 1 << 7
	flagCD = 1 << 4
)

// maxNameLen is the longest name in presentation form with its final dot.
const maxNameLen = 254

// optRR is the OPT record of our responses: root owner, type OPT, our UDP
// size, extended rcode 0, version 0, no flags, no options.
var optRR = [11]byte{0, 0, 41, ednsSize >> 8, ednsSize & 0xff, 0, 0, 0, 0, 0, 0}

// fastRespond answers a plain query straight from precomputed wire bytes:
// no parsing into a message, no allocation. It writes the response into out
// (which must hold maxUDPSize bytes for UDP, 65535 for TCP) and returns its
// length, or 0 when the query needs the message path: anything unusual,
// names to forward, names it cannot lowercase without unescaping, pod names.
func (s *Store) fastRespond(q, out []byte, udp bool) int {
	if len(q) < 12+1+4 {
		return 0
	}
	flags := binary.BigEndian.Uint16(q[2:])
	if flags&flagQR != 0 || (flags>>11)&0xF != mdns.OpcodeQuery {
		return 0
	}
	if binary.BigEndian.Uint16(q[4:]) != 1 || binary.BigEndian.Uint16(q[6:]) != 0 ||
		binary.BigEndian.Uint16(q[8:]) != 0 {
		return 0
	}
	arcount := binary.BigEndian.Uint16(q[10:])
	if arcount > 1 {
		return 0
	}

	// The question name, lowercased into presentation form.
	var nameBuf [maxNameLen + 64]byte
	kn, off := 0, 12
	for {
		if off >= len(q) {
			return 0
		}
		l := int(q[off])
		if l == 0 {
			off++
			break
		}
		if l > 63 || off+1+l > len(q) || kn+l+1 > maxNameLen {
			return 0
		}
		for _, c := range q[off+1 : off+1+l] {
			switch {
			case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_':
			case c >= 'A' && c <= 'Z':
				c += 'a' - 'A'
			default:
				return 0
			}
			nameBuf[kn] = c
			kn++
		}
		nameBuf[kn] = '.'
		kn++
		off += 1 + l
	}
	if kn == 0 || off+4 > len(q) {
		return 0
	}
	qtype := binary.BigEndian.Uint16(q[off:])
	if binary.BigEndian.Uint16(q[off+2:]) != mdns.ClassINET {
		return 0
	}
	qend := off + 4

	limit := 65535
	if udp {
		limit = mdns.MinMsgSize
	}
	hasOPT := false
	if arcount == 1 {
		if qend+11 > len(q) || q[qend] != 0 || binary.BigEndian.Uint16(q[qend+1:]) != mdns.TypeOPT {
			return 0
		}
		if q[qend+6] != 0 { // EDNS version
			return 0
		}
		if qend+11+int(binary.BigEndian.Uint16(q[qend+9:])) != len(q) {
			return 0
		}
		hasOPT = true
		if size := int(binary.BigEndian.Uint16(q[qend+3:])); udp && size > limit {
			limit = min(size, maxUDPSize)
		}
	} else if qend != len(q) {
		return 0
	}

	name := nameBuf[:kn]
	var a *answer
	if n := s.lookupBytes(name); n != nil {
		a = n.answerFor(qtype)
	} else if inZoneBytes(name, s.z.zone) && !underBytes(name, s.z.podZone) {
		a = s.neg.nxdomain
	} else {
		return 0
	}

	// Header, question, precomputed sections, then our OPT.
	optLen := 0
	if hasOPT {
		optLen = len(optRR)
	}
	qlen := qend - 12
	ancount, nscount, arcount := a.ancount, a.nscount, a.arcount
	body := a.body
	outFlags := uint16(flagQR|flagAA|flagRA) | flags&(flagRD|flagCD) | uint16(a.rcode&0xF)
	if 12+qlen+len(body)+optLen > limit {
		// Keep the answer records that fit whole; drop the rest.
		room := limit - 12 - qlen - optLen
		k := 0
		for k < len(a.anEnds) && a.anEnds[k] <= room {
			k++
		}
		body = body[:0]
		if k > 0 {
			body = a.body[:a.anEnds[k-1]]
		}
		ancount, nscount, arcount = uint16(k), 0, 0
		outFlags |= flagTC
	}
	if hasOPT {
		arcount++
	}
	n := 12 + qlen + len(body) + optLen
	if n > len(out) {
		return 0
	}
	copy(out[0:2], q[0:2])
	binary.BigEndian.PutUint16(out[2:], outFlags)
	binary.BigEndian.PutUint16(out[4:], 1)
	binary.BigEndian.PutUint16(out[6:], ancount)
	binary.BigEndian.PutUint16(out[8:], nscount)
	binary.BigEndian.PutUint16(out[10:], arcount)
	copy(out[12:], q[12:qend])
	copy(out[12+qlen:], body)
	if hasOPT {
		copy(out[12+qlen+len(body):], optRR[:])
	}
	return n
}

// inZoneBytes is inZone for a name in a byte slice, without allocating.
func inZoneBytes(name []byte, zone string) bool {
	if len(name) == len(zone) {
		return string(name) == zone
	}
	return len(name) > len(zone) && name[len(name)-len(zone)-1] == '.' && string(name[len(name)-len(zone):]) == zone
}

// underBytes reports whether name is strictly below parent.
func underBytes(name []byte, parent string) bool {
	return len(name) > len(parent) && inZoneBytes(name, parent)
}
