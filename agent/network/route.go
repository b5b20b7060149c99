package network

import (
	"errors"
	"fmt"
	"net"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// EnsureBridge creates the bridge (up, without addresses) if it does not
// exist yet; the bridge plugin adopts it on the first pod.
func (m *Manager) EnsureBridge() error {
	return m.inHost(func() error {
		_, err := ensureBridge(m.cfg.BridgeName, m.cfg.MTU)
		return err
	})
}

func ensureBridge(name string, mtu int) (netlink.Link, error) {
	link, err := netlink.LinkByName(name)
	if err == nil {
		if _, ok := link.(*netlink.Bridge); !ok {
			return nil, fmt.Errorf("%s exists and is a %s, not a bridge", name, link.Type())
		}
	} else {
		var nf netlink.LinkNotFoundError
		if !errors.As(err, &nf) {
			return nil, fmt.Errorf("looking up %s: %w", name, err)
		}
		attrs := netlink.NewLinkAttrs()
		attrs.Name = name
		if mtu > 0 {
			attrs.MTU = mtu
		}
		br := &netlink.Bridge{LinkAttrs: attrs}
		if err := netlink.LinkAdd(br); err != nil && !errors.Is(err, unix.EEXIST) {
			return nil, fmt.Errorf("creating bridge %s: %w", name, err)
		}
		if link, err = netlink.LinkByName(name); err != nil {
			return nil, fmt.Errorf("looking up new bridge %s: %w", name, err)
		}
	}
	if err := netlink.LinkSetUp(link); err != nil {
		return nil, fmt.Errorf("bringing %s up: %w", name, err)
	}
	return link, nil
}

// RouteToBridge routes cidr to the bridge (ip route replace <cidr> dev
// <bridge>), creating the bridge if needed. The proxy uses it for the
// service CIDR.
func (m *Manager) RouteToBridge(cidr string) error {
	_, dst, err := net.ParseCIDR(cidr)
	if err != nil {
		return fmt.Errorf("route to bridge: %w", err)
	}
	return m.inHost(func() error {
		link, err := ensureBridge(m.cfg.BridgeName, m.cfg.MTU)
		if err != nil {
			return err
		}
		r := &netlink.Route{LinkIndex: link.Attrs().Index, Dst: dst, Scope: netlink.SCOPE_LINK}
		if err := netlink.RouteReplace(r); err != nil {
			return fmt.Errorf("routing %s to %s: %w", cidr, m.cfg.BridgeName, err)
		}
		return nil
	})
}

// RemoveRouteToBridge deletes the route added by RouteToBridge; a missing
// route is not an error.
func (m *Manager) RemoveRouteToBridge(cidr string) error {
	_, dst, err := net.ParseCIDR(cidr)
	if err != nil {
		return fmt.Errorf("removing route to bridge: %w", err)
	}
	return m.inHost(func() error {
		link, err := netlink.LinkByName(m.cfg.BridgeName)
		if err != nil {
			return nil // no bridge, no route
		}
		r := &netlink.Route{LinkIndex: link.Attrs().Index, Dst: dst, Scope: netlink.SCOPE_LINK}
		if err := netlink.RouteDel(r); err != nil && !errors.Is(err, unix.ESRCH) {
			return fmt.Errorf("removing route %s via %s: %w", cidr, m.cfg.BridgeName, err)
		}
		return nil
	})
}
