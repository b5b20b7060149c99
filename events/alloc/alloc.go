// Package alloc allocates Services' ClusterIPs (from the service CIDR)
// and NodePorts (30000-32767) as a rule of the write path: the
// ServiceAllocator is an events.Admission, so every Service write — by a
// user through the API, a controller, or the garbage collector — is
// allocated, and every Service removal released, whoever writes it.
//
// A claim is a key in the JetStream KV bucket events.AllocBucket, created
// with kv.Create, which fails if the key exists: two concurrent creates
// can never hold the same IP or port, and claims survive restarts because
// the bucket is on disk. A claim's value names its owner (namespace/name).
// Claims are undone when the write that made them fails or is retried,
// released when the Service no longer holds them or is deleted, and,
// for the one case the write path cannot cover (a crash between a claim
// and its append), by the svcalloc reconciler.
package alloc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/clock"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/objects"
)

// NodePort range, as in Kubernetes.
const (
	MinNodePort = 30000
	MaxNodePort = 32767
)

// reservedLow is how many addresses at the start of the service CIDR are
// never handed out dynamically (.1 is the API's, .10 the DNS's, by
// convention); they may still be asked for explicitly.
const reservedLow = 16

// Claim is the value of one allocation key.
type Claim struct {
	Namespace string    `json:"namespace"`
	Name      string    `json:"name"`
	Time      time.Time `json:"time"`
}

// ServiceAllocator claims ClusterIPs and NodePorts.
type ServiceAllocator struct {
	kv    jetstream.KeyValue
	cidr  netip.Prefix
	clock clock.PassiveClock
}

// NewServiceAllocator opens (creating if needed) the allocation bucket.
func NewServiceAllocator(ctx context.Context, js jetstream.JetStream, serviceCIDR string, replicas int, clk clock.PassiveClock) (*ServiceAllocator, error) {
	p, err := netip.ParsePrefix(serviceCIDR)
	if err != nil || !p.Addr().Is4() || p.Bits() > 28 {
		return nil, fmt.Errorf("service CIDR %q: want an IPv4 prefix of /28 or larger", serviceCIDR)
	}
	if replicas == 0 {
		replicas = 1
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: events.AllocBucket, History: 1, Replicas: replicas, Storage: jetstream.FileStorage})
	if err != nil {
		return nil, fmt.Errorf("opening allocation bucket %s: %w", events.AllocBucket, err)
	}
	if clk == nil {
		clk = clock.RealClock{}
	}
	return &ServiceAllocator{kv: kv, cidr: p.Masked(), clock: clk}, nil
}

// KV is the allocation bucket (for the svcalloc reconciler).
func (a *ServiceAllocator) KV() jetstream.KeyValue { return a.kv }

// CIDR is the service CIDR.
func (a *ServiceAllocator) CIDR() netip.Prefix { return a.cidr }

// IPKey is the claim key of a ClusterIP.
func IPKey(ip netip.Addr) string { return "ip." + strings.ReplaceAll(ip.String(), ".", "-") }

// PortKey is the claim key of a NodePort (one key for all protocols).
func PortKey(port int32) string { return "nodeport." + strconv.Itoa(int(port)) }

// ParseKey turns a claim key back into an IP or a port.
func ParseKey(key string) (ip netip.Addr, port int32, ok bool) {
	if s, found := strings.CutPrefix(key, "ip."); found {
		a, err := netip.ParseAddr(strings.ReplaceAll(s, "-", "."))
		return a, 0, err == nil
	}
	if s, found := strings.CutPrefix(key, "nodeport."); found {
		n, err := strconv.Atoi(s)
		return netip.Addr{}, int32(n), err == nil
	}
	return netip.Addr{}, 0, false
}

// ServiceClaims lists the claim keys a stored Service holds.
func ServiceClaims(svc *corev1.Service) []string {
	var keys []string
	if ip, err := netip.ParseAddr(svc.Spec.ClusterIP); err == nil {
		keys = append(keys, IPKey(ip))
	}
	for _, p := range svc.Spec.Ports {
		if p.NodePort != 0 {
			keys = append(keys, PortKey(p.NodePort))
		}
	}
	return keys
}

// allocation is what one Service write claimed; undo releases it.
type allocation struct {
	a       *ServiceAllocator
	claimed []string
	owner   Claim
}

func (al *allocation) undo() {
	for _, k := range al.claimed {
		al.a.release(context.Background(), k, al.owner)
	}
}

// Allocate fills in svc's ClusterIP and NodePorts: kept from cur (the
// stored Service, nil on create), taken from the manifest when free and
// in range, or picked. It returns Invalid errors naming the field.
// dryRun checks without claiming.
func (a *ServiceAllocator) Allocate(ctx context.Context, svc, cur *corev1.Service, dryRun bool) (*allocation, error) {
	al := &allocation{a: a, owner: Claim{Namespace: svc.Namespace, Name: svc.Name, Time: a.clock.Now().UTC()}}
	fail := func(err error) (*allocation, error) {
		al.undo()
		return nil, err
	}
	typ := svc.Spec.Type
	if typ == "" {
		typ = corev1.ServiceTypeClusterIP
	}
	if typ == corev1.ServiceTypeExternalName {
		return al, nil
	}
	if err := a.allocateIP(ctx, al, svc, cur, dryRun); err != nil {
		return fail(err)
	}
	wantNodePorts := typ == corev1.ServiceTypeNodePort || (typ == corev1.ServiceTypeLoadBalancer &&
		(svc.Spec.AllocateLoadBalancerNodePorts == nil || *svc.Spec.AllocateLoadBalancerNodePorts))
	for i := range svc.Spec.Ports {
		p := &svc.Spec.Ports[i]
		if !wantNodePorts {
			if p.NodePort != 0 && typ == corev1.ServiceTypeClusterIP {
				return fail(invalidField(svc, fmt.Sprintf("spec.ports[%d].nodePort", i), p.NodePort, "may not be used when `type` is 'ClusterIP'"))
			}
			continue
		}
		if err := a.allocatePort(ctx, al, svc, cur, i, dryRun); err != nil {
			return fail(err)
		}
	}
	return al, nil
}

func (a *ServiceAllocator) allocateIP(ctx context.Context, al *allocation, svc, cur *corev1.Service, dryRun bool) error {
	want := svc.Spec.ClusterIP
	if cur != nil && cur.Spec.ClusterIP != "" {
		switch {
		case want == "":
			svc.Spec.ClusterIP = cur.Spec.ClusterIP
			svc.Spec.ClusterIPs = cur.Spec.ClusterIPs
			return nil
		case want != cur.Spec.ClusterIP:
			return invalidField(svc, "spec.clusterIP", want, "field is immutable")
		}
		return nil // unchanged: the claim is already held
	}
	if want == corev1.ClusterIPNone {
		return nil
	}
	if want != "" {
		ip, err := netip.ParseAddr(want)
		if err != nil {
			return invalidField(svc, "spec.clusterIP", want, "must be a valid IP address")
		}
		if !a.cidr.Contains(ip) || ip == a.cidr.Addr() || ip == lastAddr(a.cidr) {
			return invalidField(svc, "spec.clusterIP", want, fmt.Sprintf("provided IP is not in the valid range. The range of valid IPs is %s", a.cidr))
		}
		ok, err := a.claim(ctx, al, IPKey(ip), dryRun)
		if err != nil {
			return err
		}
		if !ok {
			return invalidField(svc, "spec.clusterIP", want, "provided IP is already allocated")
		}
		svc.Spec.ClusterIPs = []string{want}
		return nil
	}
	if dryRun {
		return nil
	}
	size := uint32(1) << (32 - a.cidr.Bits())
	usable := size - reservedLow - 1 // not the low band, not the broadcast address
	start := rand.Uint32N(usable)
	base := a.cidr.Addr().As4()
	first := uint32(base[0])<<24 | uint32(base[1])<<16 | uint32(base[2])<<8 | uint32(base[3])
	for i := uint32(0); i < usable; i++ {
		v := first + reservedLow + (start+i)%usable
		ip := netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
		ok, err := a.claim(ctx, al, IPKey(ip), false)
		if err != nil {
			return err
		}
		if ok {
			svc.Spec.ClusterIP = ip.String()
			svc.Spec.ClusterIPs = []string{ip.String()}
			return nil
		}
	}
	return events.Errorf(events.ReasonInternal, "service %s/%s: no free ClusterIP left in %s", svc.Namespace, svc.Name, a.cidr)
}

func (a *ServiceAllocator) allocatePort(ctx context.Context, al *allocation, svc, cur *corev1.Service, i int, dryRun bool) error {
	p := &svc.Spec.Ports[i]
	field := fmt.Sprintf("spec.ports[%d].nodePort", i)
	held := map[int32]bool{}
	var kept int32
	if cur != nil {
		for _, cp := range cur.Spec.Ports {
			if cp.NodePort == 0 {
				continue
			}
			held[cp.NodePort] = true
			if kept == 0 && ((cp.Name != "" && cp.Name == p.Name) || (cp.Port == p.Port && protoOf(cp.Protocol) == protoOf(p.Protocol))) {
				kept = cp.NodePort
			}
		}
	}
	if p.NodePort == 0 && kept != 0 {
		p.NodePort = kept
		return nil
	}
	if p.NodePort != 0 {
		if p.NodePort < MinNodePort || p.NodePort > MaxNodePort {
			return invalidField(svc, field, p.NodePort, fmt.Sprintf("provided port is not in the valid range. The range of valid ports is %d-%d", MinNodePort, MaxNodePort))
		}
		if held[p.NodePort] {
			return nil
		}
		ok, err := a.claim(ctx, al, PortKey(p.NodePort), dryRun)
		if err != nil {
			return err
		}
		if !ok {
			return invalidField(svc, field, p.NodePort, "provided port is already allocated")
		}
		return nil
	}
	if dryRun {
		return nil
	}
	n := uint32(MaxNodePort - MinNodePort + 1)
	start := rand.Uint32N(n)
	for j := uint32(0); j < n; j++ {
		port := int32(MinNodePort + (start+j)%n)
		ok, err := a.claim(ctx, al, PortKey(port), false)
		if err != nil {
			return err
		}
		if ok {
			p.NodePort = port
			return nil
		}
	}
	return events.Errorf(events.ReasonInternal, "service %s/%s: no free NodePort left", svc.Namespace, svc.Name)
}

func protoOf(p corev1.Protocol) corev1.Protocol {
	if p == "" {
		return corev1.ProtocolTCP
	}
	return p
}

// claim creates key for al's owner: false if someone else holds it. A key
// the same owner already holds counts as claimed (a retried write).
func (a *ServiceAllocator) claim(ctx context.Context, al *allocation, key string, dryRun bool) (bool, error) {
	if dryRun {
		e, err := a.kv.Get(ctx, key)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			return true, nil
		}
		if err != nil {
			return false, fmt.Errorf("reading allocation %s: %w", key, err)
		}
		return ownedBy(e.Value(), al.owner), nil
	}
	data, _ := json.Marshal(al.owner)
	_, err := a.kv.Create(ctx, key, data)
	if err == nil {
		al.claimed = append(al.claimed, key)
		return true, nil
	}
	if !errors.Is(err, jetstream.ErrKeyExists) {
		return false, fmt.Errorf("claiming %s: %w", key, err)
	}
	e, gerr := a.kv.Get(ctx, key)
	if gerr != nil {
		if errors.Is(gerr, jetstream.ErrKeyNotFound) {
			return a.claim(ctx, al, key, false) // released meanwhile
		}
		return false, fmt.Errorf("reading allocation %s: %w", key, gerr)
	}
	return ownedBy(e.Value(), al.owner), nil
}

func ownedBy(data []byte, owner Claim) bool {
	var c Claim
	if json.Unmarshal(data, &c) != nil {
		return false
	}
	return c.Namespace == owner.Namespace && c.Name == owner.Name
}

// release deletes key if owner holds it; errors are logged by callers'
// repair path (the svcalloc reconciler), so they are dropped here.
func (a *ServiceAllocator) release(ctx context.Context, key string, owner Claim) {
	e, err := a.kv.Get(ctx, key)
	if err != nil || !ownedBy(e.Value(), owner) {
		return
	}
	_ = a.kv.Delete(ctx, key, jetstream.LastRevision(e.Revision()))
}

// Release frees every claim a deleted Service held.
func (a *ServiceAllocator) Release(ctx context.Context, svc *corev1.Service) {
	owner := Claim{Namespace: svc.Namespace, Name: svc.Name}
	for _, k := range ServiceClaims(svc) {
		a.release(ctx, k, owner)
	}
}

// ReleaseUnused frees claims the stored Service before an update held
// and the stored Service after it no longer does (e.g. a NodePort
// service turned ClusterIP).
func (a *ServiceAllocator) ReleaseUnused(ctx context.Context, before, after *corev1.Service) {
	keep := map[string]bool{}
	for _, k := range ServiceClaims(after) {
		keep[k] = true
	}
	owner := Claim{Namespace: after.Namespace, Name: after.Name}
	for _, k := range ServiceClaims(before) {
		if !keep[k] {
			a.release(ctx, k, owner)
		}
	}
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v |= (uint32(1) << (32 - p.Bits())) - 1
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

func invalidField(svc *corev1.Service, path string, value any, detail string) error {
	return events.NewInvalid(objects.ByKind("Service"), svc.Name, field.ErrorList{field.Invalid(field.NewPath(path), value, detail)})
}

// Admits implements events.Admission: Services only.
func (a *ServiceAllocator) Admits(k *objects.Kind) bool { return k.Kind == "Service" }

// Admit implements events.Admission: on a Service's create, update or
// apply it allocates (Allocate); the returned done undoes the fresh
// claims of a failed or retried attempt and, once the write is appended,
// releases the claims the stored Service no longer holds. On a removal
// (obj nil) done releases every claim the removed Service held once its
// Deleted event is appended. Other kinds pass untouched.
func (a *ServiceAllocator) Admit(ctx context.Context, k *objects.Kind, obj, cur objects.Object, dryRun bool) (func(*events.Result, error), error) {
	if k.Kind != "Service" {
		return nil, nil
	}
	var before *corev1.Service
	if cur != nil {
		before = cur.(*corev1.Service)
	}
	bg := context.WithoutCancel(ctx)
	if obj == nil {
		if before == nil || dryRun {
			return nil, nil
		}
		return func(_ *events.Result, err error) {
			if err == nil {
				a.Release(bg, before)
			}
		}, nil
	}
	svc, ok := obj.(*corev1.Service)
	if !ok {
		return nil, fmt.Errorf("admitting %T as a Service", obj)
	}
	al, err := a.Allocate(ctx, svc, before, dryRun)
	if err != nil {
		return nil, err
	}
	return func(res *events.Result, err error) {
		if err != nil || dryRun {
			al.undo()
			return
		}
		if before == nil || res == nil {
			return
		}
		if after, ok := res.Object.(*corev1.Service); ok {
			a.ReleaseUnused(bg, before, after)
		}
	}, nil
}
