package network

import (
	"encoding/json"
	"fmt"
	"net"
	"path/filepath"
)

// CNIVersion is the CNI spec version the generated configurations use;
// Debian 12's plugins (1.1.1) speak up to 1.0.0.
const CNIVersion = "1.0.0"

// Config configures the pod network of a node. Zero values take the
// defaults shown.
type Config struct {
	PodCIDR     string   // required, e.g. 10.244.1.0/24
	PluginDirs  []string // /usr/lib/cni
	CacheDir    string   // /var/lib/strom/cni (libcni cache, host-local data)
	NetworkName string   // "strom"
	BridgeName  string   // "strom0"
	MTU         int      // 0: the plugin's default
	// HostNetNS is the path of the network namespace acting as the node;
	// empty means the agent's own.
	HostNetNS string
}

func (c *Config) setDefaults() error {
	if len(c.PluginDirs) == 0 {
		c.PluginDirs = []string{"/usr/lib/cni"}
	}
	if c.CacheDir == "" {
		c.CacheDir = "/var/lib/strom/cni"
	}
	if c.NetworkName == "" {
		c.NetworkName = "strom"
	}
	if c.BridgeName == "" {
		c.BridgeName = "strom0"
	}
	if len(c.BridgeName) > 15 {
		return fmt.Errorf("bridge name %q is longer than 15 characters", c.BridgeName)
	}
	if _, _, err := net.ParseCIDR(c.PodCIDR); err != nil {
		return fmt.Errorf("pod CIDR %q: %w", c.PodCIDR, err)
	}
	return nil
}

// ipamDir is where host-local keeps its allocations.
func (c *Config) ipamDir() string { return filepath.Join(c.CacheDir, "ipam") }

// libcniCacheDir is where libcni caches results.
func (c *Config) libcniCacheDir() string { return filepath.Join(c.CacheDir, "results") }

// BridgeConfList renders the pod network's conflist: bridge with host-local
// IPAM, then portmap.
func BridgeConfList(c Config) ([]byte, error) {
	if err := c.setDefaults(); err != nil {
		return nil, err
	}
	_, subnet, _ := net.ParseCIDR(c.PodCIDR)
	bridge := map[string]any{
		"type":        "bridge",
		"bridge":      c.BridgeName,
		"isGateway":   true,
		"ipMasq":      true,
		"hairpinMode": true,
		"ipam": map[string]any{
			"type":    "host-local",
			"ranges":  [][]map[string]string{{{"subnet": subnet.String()}}},
			"routes":  []map[string]string{{"dst": defaultRoute(subnet)}},
			"dataDir": c.ipamDir(),
		},
	}
	if c.MTU > 0 {
		bridge["mtu"] = c.MTU
	}
	list := map[string]any{
		"cniVersion": CNIVersion,
		"name":       c.NetworkName,
		"plugins": []any{
			bridge,
			map[string]any{
				"type":         "portmap",
				"capabilities": map[string]bool{"portMappings": true},
				"snat":         true,
			},
		},
	}
	return json.MarshalIndent(list, "", "  ")
}

// LoopbackConfList renders the list that brings up lo in a pod.
func LoopbackConfList(c Config) ([]byte, error) {
	if err := c.setDefaults(); err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{
		"cniVersion": CNIVersion,
		"name":       c.NetworkName + "-lo",
		"plugins":    []any{map[string]string{"type": "loopback"}},
	})
}

func defaultRoute(subnet *net.IPNet) string {
	if subnet.IP.To4() != nil {
		return "0.0.0.0/0"
	}
	return "::/0"
}

// Gateway returns the bridge's address in the pod CIDR: the first host
// address, which host-local hands to the bridge plugin as gateway.
func Gateway(podCIDR string) (net.IP, error) {
	_, subnet, err := net.ParseCIDR(podCIDR)
	if err != nil {
		return nil, fmt.Errorf("pod CIDR %q: %w", podCIDR, err)
	}
	ip := make(net.IP, len(subnet.IP))
	copy(ip, subnet.IP)
	ip[len(ip)-1]++
	return ip, nil
}
