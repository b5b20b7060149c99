package dns

import (
	"container/list"
	"sync"
	"time"

	mdns "github.com/miekg/dns"
)

// cacheKey identifies a forwarded question.
type cacheKey struct {
	name   string // lowercase FQDN
	qtype  uint16
	qclass uint16
	do     bool
}

type cacheEntry struct {
	key     cacheKey
	msg     *mdns.Msg // never modified once stored
	stored  time.Time
	expires time.Time
}

// responseCache is a bounded LRU of upstream responses that expire with
// their TTL. It is safe for concurrent use.
type responseCache struct {
	mu  sync.Mutex // guards ll and m
	max int
	ll  *list.List // front: most recently used
	m   map[cacheKey]*list.Element
}

func newResponseCache(max int) *responseCache {
	return &responseCache{max: max, ll: list.New(), m: map[cacheKey]*list.Element{}}
}

// get returns a fresh copy of the cached response with its TTLs lowered by
// the time spent in the cache, or false when absent or expired.
func (c *responseCache) get(k cacheKey, now time.Time) (*mdns.Msg, bool) {
	c.mu.Lock()
	el, ok := c.m[k]
	if !ok {
		c.mu.Unlock()
		return nil, false
	}
	e := el.Value.(*cacheEntry)
	if !now.Before(e.expires) {
		c.ll.Remove(el)
		delete(c.m, k)
		c.mu.Unlock()
		return nil, false
	}
	c.ll.MoveToFront(el)
	c.mu.Unlock()
	out := e.msg.Copy()
	age := uint32(now.Sub(e.stored) / time.Second)
	for _, sec := range [][]mdns.RR{out.Answer, out.Ns, out.Extra} {
		for _, rr := range sec {
			h := rr.Header()
			if h.Rrtype == mdns.TypeOPT {
				continue
			}
			if h.Ttl > age {
				h.Ttl -= age
			} else {
				h.Ttl = 0
			}
		}
	}
	return out, true
}

// put stores msg for ttl, evicting the least recently used entries beyond
// the bound.
func (c *responseCache) put(k cacheKey, msg *mdns.Msg, now time.Time, ttl time.Duration) {
	if ttl <= 0 || c.max <= 0 {
		return
	}
	e := &cacheEntry{key: k, msg: msg, stored: now, expires: now.Add(ttl)}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.m[k]; ok {
		el.Value = e
		c.ll.MoveToFront(el)
		return
	}
	c.m[k] = c.ll.PushFront(e)
	for c.ll.Len() > c.max {
		last := c.ll.Back()
		c.ll.Remove(last)
		delete(c.m, last.Value.(*cacheEntry).key)
	}
}

// len is the number of entries, expired ones included.
func (c *responseCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}

// cacheTTL is how long a response may be cached: the smallest record TTL
// for a positive answer; for a negative one (NXDOMAIN, or no data) the SOA's
// negative TTL (RFC 2308); capped by maxTTL and maxNeg. Other responses and
// negative ones without an SOA are not cached.
func cacheTTL(m *mdns.Msg, maxTTL, maxNeg time.Duration) time.Duration {
	if m.Rcode != mdns.RcodeSuccess && m.Rcode != mdns.RcodeNameError {
		return 0
	}
	if m.Rcode == mdns.RcodeNameError || len(m.Answer) == 0 {
		for _, rr := range m.Ns {
			if soa, ok := rr.(*mdns.SOA); ok {
				return min(time.Duration(min(soa.Hdr.Ttl, soa.Minttl))*time.Second, maxNeg)
			}
		}
		return 0
	}
	ttl := maxTTL
	for _, sec := range [][]mdns.RR{m.Answer, m.Ns, m.Extra} {
		for _, rr := range sec {
			if rr.Header().Rrtype == mdns.TypeOPT {
				continue
			}
			ttl = min(ttl, time.Duration(rr.Header().Ttl)*time.Second)
		}
	}
	return ttl
}
