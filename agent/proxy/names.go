package proxy

import (
	"crypto/sha256"
	"encoding/base32"
	"net/netip"
	"strconv"
	"strings"
)

// Chain names. iptables limits chain names to 28 characters; per-service
// and per-endpoint chains are a 10-character prefix and a 16-character
// hash of their identity.
const (
	chainServices         = "STROM-SERVICES"
	chainNodePorts        = "STROM-NODEPORTS"
	chainPostrouting      = "STROM-POSTROUTING"
	chainMarkMasq         = "STROM-MARK-MASQ"
	chainExternalServices = "STROM-EXTERNAL-SERVICES"
	chainForward          = "STROM-FORWARD"
	chainFirewall         = "STROM-FIREWALL"

	prefixService  = "STROM-SVC-"
	prefixEndpoint = "STROM-SEP-"
	// ownedPrefix marks every chain the proxy owns.
	ownedPrefix = "STROM-"

	// masqMark is the packet mark bit that asks STROM-POSTROUTING to
	// masquerade.
	masqMark = "0x4000"

	maxChainName = 28
)

// serviceChain names the chain that balances one service port.
func serviceChain(key string) string {
	return prefixService + hashName(key)
}

// endpointChain names the chain that DNATs to one endpoint of one
// service port.
func endpointChain(key string, ip netip.Addr, port int32) string {
	return prefixEndpoint + hashName(key+"|"+ip.String()+":"+strconv.Itoa(int(port)))
}

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// hashName is 16 characters of the base32 SHA-256 of s: 80 bits, so
// collisions between chains of one node are not a practical concern.
func hashName(s string) string {
	sum := sha256.Sum256([]byte(s))
	return b32.EncodeToString(sum[:10])
}

// isOwnedChain tells whether a chain name belongs to the proxy.
func isOwnedChain(name string) bool { return strings.HasPrefix(name, ownedPrefix) }

// isServiceChain tells whether a chain is a per-service or per-endpoint
// chain (as opposed to a fixed top chain).
func isServiceChain(name string) bool {
	return strings.HasPrefix(name, prefixService) || strings.HasPrefix(name, prefixEndpoint)
}
