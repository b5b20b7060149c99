// Package nodeipam gives every Node a pod CIDR (spec.podCIDR) from the
// cluster CIDR, one /24 per node by default, never the same to two nodes.
// Allocation is derived from the view each time (level-based): the CIDRs
// in use are exactly those the Nodes in the view hold.
package nodeipam

import (
	"context"
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/projections"
	"github.com/strom-project/strom/reconcilers/controller"
	"github.com/strom-project/strom/reconcilers/manager"
)

// Reconciler assigns pod CIDRs.
type Reconciler struct {
	env     manager.Env
	cluster netip.Prefix
	bits    int
}

// New returns a node IPAM reconciler over clusterCIDR (e.g. 10.42.0.0/16)
// handing out prefixes of length bits (e.g. 24).
func New(env manager.Env, clusterCIDR string, bits int) (*Reconciler, error) {
	p, err := netip.ParsePrefix(clusterCIDR)
	if err != nil {
		return nil, fmt.Errorf("cluster CIDR %q: %w", clusterCIDR, err)
	}
	if !p.Addr().Is4() || bits <= p.Bits() || bits > 30 {
		return nil, fmt.Errorf("cluster CIDR %s cannot be split into /%d node ranges", p, bits)
	}
	return &Reconciler{env: env, cluster: p.Masked(), bits: bits}, nil
}

// Name implements manager.Reconciler.
func (r *Reconciler) Name() string { return "nodeipam" }

// Watches implements manager.Reconciler.
func (r *Reconciler) Watches() []manager.Watch { return []manager.Watch{{Resource: "nodes"}} }

// Workers is 1: allocations are decided one at a time.
func (r *Reconciler) Workers() int { return 1 }

// Keys implements manager.Reconciler.
func (r *Reconciler) Keys() []string {
	items, _ := r.env.Store.List(projections.Query{Resource: "nodes"})
	keys := make([]string, len(items))
	for i, e := range items {
		keys[i] = e.Name
	}
	return keys
}

// Reconcile assigns the node a free range if it has none.
func (r *Reconciler) Reconcile(ctx context.Context, key string) (controller.Result, error) {
	e, ok := r.env.Store.Get("nodes", "", key)
	if !ok {
		return controller.Result{}, nil
	}
	obj, err := e.Object()
	if err != nil {
		return controller.Result{}, controller.Terminal(err)
	}
	node := obj.(*corev1.Node)
	if node.Spec.PodCIDR != "" {
		return controller.Result{}, nil
	}
	cidr, err := r.free()
	if err != nil {
		return controller.Result{}, err
	}
	node.Spec.PodCIDR = cidr
	node.Spec.PodCIDRs = []string{cidr}
	res, err := r.env.Writer.Update(ctx, node, events.WriteOptions{Actor: "system:nodeipam", Cause: manager.Cause(ctx)})
	if err != nil {
		return controller.Result{}, fmt.Errorf("assigning pod CIDR %s to node %s: %w", cidr, key, err)
	}
	// The next allocation must see this one.
	return controller.Result{}, r.env.Store.WaitFor(ctx, res.Seq)
}

// free returns the lowest range no node holds.
func (r *Reconciler) free() (string, error) {
	used := map[netip.Prefix]bool{}
	items, _ := r.env.Store.List(projections.Query{Resource: "nodes"})
	for _, e := range items {
		obj, err := e.Object()
		if err != nil {
			continue
		}
		if p, err := netip.ParsePrefix(obj.(*corev1.Node).Spec.PodCIDR); err == nil {
			used[p.Masked()] = true
		}
	}
	step := uint32(1) << (32 - r.bits)
	base := r.cluster.Addr().As4()
	start := uint32(base[0])<<24 | uint32(base[1])<<16 | uint32(base[2])<<8 | uint32(base[3])
	count := uint32(1) << (r.bits - r.cluster.Bits())
	for i := uint32(0); i < count; i++ {
		v := start + i*step
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), r.bits)
		if !used[p] {
			return p.String(), nil
		}
	}
	return "", fmt.Errorf("cluster CIDR %s has no free /%d left for another node", r.cluster, r.bits)
}
