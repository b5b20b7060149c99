package dns

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	mdns "github.com/miekg/dns"
	"k8s.io/utils/clock"
)

// Defaults for StoreConfig.
const (
	DefaultZone = "cluster.local"
	DefaultTTL  = 5 * time.Second
)

// StoreConfig configures a Store.
type StoreConfig struct {
	// Zone is the cluster domain; default cluster.local.
	Zone string
	// TTL of every record the store answers; default 5 s.
	TTL time.Duration
	// Clock sets the SOA serial; default the wall clock.
	Clock clock.PassiveClock
}

// Store is the DNS read model: services and endpoints in, precomputed
// answers out. It is safe for concurrent use. Writers are serialized and
// compute new answers outside the read lock; readers take a read lock for a
// single map lookup and then use immutable nodes.
//
// Lock order: writeMu before mu.
type Store struct {
	z zoneInfo

	writeMu   sync.Mutex // serializes writers; guards services, endpoints, t
	services  map[key]*Service
	endpoints map[key]*Endpoints
	t         *table

	mu    sync.RWMutex // guards nodes
	nodes map[string]*node

	neg negativeAnswers // immutable
}

// NewStore returns an empty store: it answers only the zone apex, the
// schema version and the empty svc and pod subtrees.
func NewStore(cfg StoreConfig) (*Store, error) {
	if cfg.Zone == "" {
		cfg.Zone = DefaultZone
	}
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	zone := mdns.CanonicalName(cfg.Zone)
	if _, ok := mdns.IsDomainName(zone); !ok || zone == "." {
		return nil, fmt.Errorf("creating DNS store: invalid zone %q", cfg.Zone)
	}
	z := zoneInfo{zone: zone, podZone: "pod." + zone, ttl: uint32(cfg.TTL / time.Second), serial: serialFrom(cfg.Clock.Now().Unix())}
	t, err := newTable(z)
	if err != nil {
		return nil, fmt.Errorf("creating DNS store: %w", err)
	}
	s := &Store{
		z:         z,
		services:  map[key]*Service{},
		endpoints: map[key]*Endpoints{},
		t:         t,
		nodes:     map[string]*node{},
		neg:       t.neg,
	}
	static := z.static()
	if err := s.applyLocked(key{}, &static); err != nil {
		return nil, fmt.Errorf("creating DNS store: %w", err)
	}
	return s, nil
}

// Zone is the store's zone as a lowercase FQDN.
func (s *Store) Zone() string { return s.z.zone }

// UpsertService adds or replaces a service.
func (s *Store) UpsertService(svc Service) error {
	k := key{svc.Namespace, svc.Name}
	c := cloneService(svc)
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.services[k] = &c
	return s.recompileLocked(k)
}

// DeleteService removes a service; deleting an absent one is a no-op.
func (s *Store) DeleteService(namespace, name string) error {
	k := key{namespace, name}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if _, ok := s.services[k]; !ok {
		return nil
	}
	delete(s.services, k)
	return s.recompileLocked(k)
}

// UpsertEndpoints adds or replaces the endpoints of a service. Endpoints
// without a service are kept and published when the service appears.
func (s *Store) UpsertEndpoints(e Endpoints) error {
	k := key{e.Namespace, e.Name}
	c := cloneEndpoints(e)
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.endpoints[k] = &c
	return s.recompileLocked(k)
}

// DeleteEndpoints removes the endpoints of a service; deleting absent ones
// is a no-op.
func (s *Store) DeleteEndpoints(namespace, name string) error {
	k := key{namespace, name}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if _, ok := s.endpoints[k]; !ok {
		return nil
	}
	delete(s.endpoints, k)
	return s.recompileLocked(k)
}

// recompileLocked recomputes the records of k. writeMu must be held.
func (s *Store) recompileLocked(k key) error {
	svc := s.services[k]
	if svc == nil {
		if err := s.applyLocked(k, nil); err != nil {
			return fmt.Errorf("removing records of service %s: %w", k, err)
		}
		return nil
	}
	c := s.z.compileService(svc, s.endpoints[k])
	if err := s.applyLocked(k, &c); err != nil {
		return fmt.Errorf("updating records of service %s: %w", k, err)
	}
	if len(c.invalid) > 0 {
		return fmt.Errorf("updating records of service %s: left out invalid names %q", k, c.invalid)
	}
	return nil
}

// applyLocked computes the node changes (outside mu) and publishes them.
// writeMu must be held.
func (s *Store) applyLocked(k key, c *contribution) error {
	changes, err := s.t.apply(k, c)
	if len(changes) == 0 {
		return err
	}
	s.mu.Lock()
	for _, ch := range changes {
		if ch.node == nil {
			delete(s.nodes, ch.name)
		} else {
			s.nodes[ch.name] = ch.node
		}
	}
	s.mu.Unlock()
	return err
}

// lookup finds the node of a lowercase FQDN.
func (s *Store) lookup(name string) *node {
	s.mu.RLock()
	n := s.nodes[name]
	s.mu.RUnlock()
	return n
}

// lookupBytes is lookup for a name held in a byte slice, without
// allocating.
func (s *Store) lookupBytes(name []byte) *node {
	s.mu.RLock()
	n := s.nodes[string(name)]
	s.mu.RUnlock()
	return n
}

// Names lists every name that currently exists, sorted; for tests and
// debugging.
func (s *Store) Names() []string {
	s.mu.RLock()
	out := make([]string, 0, len(s.nodes))
	for n := range s.nodes {
		out = append(out, n)
	}
	s.mu.RUnlock()
	slices.Sort(out)
	return out
}

func cloneService(s Service) Service {
	s.ClusterIPs = slices.Clone(s.ClusterIPs)
	s.Ports = slices.Clone(s.Ports)
	s.ExternalName = strings.TrimSpace(s.ExternalName)
	return s
}

func cloneEndpoints(e Endpoints) Endpoints {
	subs := make([]Subset, len(e.Subsets))
	for i, ss := range e.Subsets {
		subs[i] = Subset{
			Addresses:         slices.Clone(ss.Addresses),
			NotReadyAddresses: slices.Clone(ss.NotReadyAddresses),
			Ports:             slices.Clone(ss.Ports),
		}
	}
	e.Subsets = subs
	return e
}

// Records returns every record the store answers with, the zone's first
// (SOA first), then the reverse names; for zone-file export and debugging.
func (s *Store) Records() []mdns.RR {
	s.mu.RLock()
	names := make([]string, 0, len(s.nodes))
	nodes := make(map[string]*node, len(s.nodes))
	for name, n := range s.nodes {
		names = append(names, name)
		nodes[name] = n
	}
	s.mu.RUnlock()
	slices.SortFunc(names, func(a, b string) int {
		if za, zb := inZone(a, s.z.zone), inZone(b, s.z.zone); za != zb {
			if za {
				return -1
			}
			return 1
		}
		if a == s.z.zone {
			return -1
		}
		if b == s.z.zone {
			return 1
		}
		return strings.Compare(a, b)
	})
	var out []mdns.RR
	for _, name := range names {
		for _, ta := range nodes[name].byType {
			out = append(out, ta.a.answer...)
		}
	}
	return out
}
