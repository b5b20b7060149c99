package dns

import (
	"fmt"
	"net"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
)

func aResponse(name string, ttl uint32) *mdns.Msg {
	m := new(mdns.Msg)
	m.SetQuestion(name, mdns.TypeA)
	m.Response = true
	m.Answer = []mdns.RR{&mdns.A{Hdr: mdns.RR_Header{Name: name, Rrtype: mdns.TypeA, Class: mdns.ClassINET, Ttl: ttl}, A: net.IPv4(192, 0, 2, 1)}}
	return m
}

func TestResponseCacheIsBoundedLRU(t *testing.T) {
	c := newResponseCache(3)
	now := newFakeClock().Now()
	k := func(i int) cacheKey {
		return cacheKey{name: fmt.Sprintf("n%d.", i), qtype: mdns.TypeA, qclass: mdns.ClassINET}
	}
	for i := range 3 {
		c.put(k(i), aResponse(k(i).name, 60), now, time.Minute)
	}
	if _, ok := c.get(k(0), now); !ok { // n0 becomes most recently used
		t.Fatal("n0 missing")
	}
	c.put(k(3), aResponse("n3.", 60), now, time.Minute) // evicts n1, the least recently used
	if got := c.len(); got != 3 {
		t.Fatalf("%d entries, want the bound 3", got)
	}
	if _, ok := c.get(k(1), now); ok {
		t.Fatal("n1 survived eviction")
	}
	for _, i := range []int{0, 2, 3} {
		if _, ok := c.get(k(i), now); !ok {
			t.Fatalf("n%d evicted", i)
		}
	}
}

func TestResponseCacheAgesTTLsAndExpires(t *testing.T) {
	c := newResponseCache(10)
	clock := newFakeClock()
	key := cacheKey{name: "a.", qtype: mdns.TypeA, qclass: mdns.ClassINET}
	c.put(key, aResponse("a.", 30), clock.Now(), 30*time.Second)
	clock.Step(12 * time.Second)
	m, ok := c.get(key, clock.Now())
	if !ok || m.Answer[0].Header().Ttl != 18 {
		t.Fatalf("after 12 s: ok=%v msg=%v, want TTL 18", ok, m)
	}
	m.Answer[0].Header().Ttl = 999 // the caller owns its copy
	if m2, _ := c.get(key, clock.Now()); m2.Answer[0].Header().Ttl != 18 {
		t.Fatal("a caller's change leaked into the cache")
	}
	clock.Step(18 * time.Second)
	if _, ok := c.get(key, clock.Now()); ok {
		t.Fatal("entry served at its expiry")
	}
	if c.len() != 0 {
		t.Fatal("expired entry not removed")
	}
}

func TestCacheTTL(t *testing.T) {
	soa := func(ttl, minttl uint32) *mdns.SOA {
		return &mdns.SOA{Hdr: mdns.RR_Header{Name: "example.", Rrtype: mdns.TypeSOA, Class: mdns.ClassINET, Ttl: ttl}, Minttl: minttl}
	}
	pos := aResponse("a.", 300)
	pos.Answer = append(pos.Answer, &mdns.A{Hdr: mdns.RR_Header{Name: "a.", Rrtype: mdns.TypeA, Class: mdns.ClassINET, Ttl: 40}, A: net.IPv4(192, 0, 2, 2)})
	nx := &mdns.Msg{MsgHdr: mdns.MsgHdr{Rcode: mdns.RcodeNameError}, Ns: []mdns.RR{soa(3600, 20)}}
	nodata := &mdns.Msg{Ns: []mdns.RR{soa(15, 900)}}
	nxNoSOA := &mdns.Msg{MsgHdr: mdns.MsgHdr{Rcode: mdns.RcodeNameError}}
	servfail := &mdns.Msg{MsgHdr: mdns.MsgHdr{Rcode: mdns.RcodeServerFailure}}
	for _, c := range []struct {
		what string
		m    *mdns.Msg
		want time.Duration
	}{
		{"positive: smallest TTL", pos, 40 * time.Second},
		{"positive capped", aResponse("a.", 86400), time.Hour},
		{"NXDOMAIN: SOA minimum", nx, 20 * time.Second},
		{"NODATA: SOA TTL, capped", nodata, 15 * time.Second},
		{"NXDOMAIN without SOA", nxNoSOA, 0},
		{"SERVFAIL", servfail, 0},
	} {
		if got := cacheTTL(c.m, time.Hour, 30*time.Second); got != c.want {
			t.Fatalf("%s: %v, want %v", c.what, got, c.want)
		}
	}
	if got := cacheTTL(&mdns.Msg{MsgHdr: mdns.MsgHdr{Rcode: mdns.RcodeNameError}, Ns: []mdns.RR{soa(3600, 3600)}}, time.Hour, 30*time.Second); got != 30*time.Second {
		t.Fatalf("negative TTL not capped: %v", got)
	}
}
