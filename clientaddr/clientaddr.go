// Package clientaddr reads a client's network address: the unit a per-client limit counts,
// and whether it lies in the networks a peer is allowed to come from. It imports nothing of
// Sportello's, so the web surfaces and the adapters alike may use it.
package clientaddr

import (
	"net"
	"net/netip"
)

// ipv6ClientPrefix is how much of an IPv6 address one client holds: providers hand out a
// whole /64, so anyone can rotate through its addresses at will.
const ipv6ClientPrefix = 64

// Parse reads addr (an IP, with or without a port) as the address checks compare: an
// IPv4-mapped IPv6 address as the IPv4 address it carries, without a zone. It reports false
// when addr is no address.
func Parse(addr string) (netip.Addr, bool) {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		host, _, splitErr := net.SplitHostPort(addr)
		if splitErr != nil {
			return netip.Addr{}, false
		}
		if ip, err = netip.ParseAddr(host); err != nil {
			return netip.Addr{}, false
		}
	}
	return ip.Unmap().WithZone(""), true
}

// Within reports whether ip lies in one of networks; the zero address lies in none.
func Within(ip netip.Addr, networks []netip.Prefix) bool {
	if !ip.IsValid() {
		return false
	}
	ip = ip.Unmap()
	for _, n := range networks {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}

// LimitKey is the client a limit counts for addr (an IP, with or without a port): an IPv4
// address as it is, an IPv6 address by its /64 ("2001:db8:1:2::/64"). Anything that is not an
// address comes back unchanged, so a limit still counts it, by its own text.
func LimitKey(addr string) string {
	ip, ok := Parse(addr)
	if !ok {
		return addr
	}
	if ip.Is4() {
		return ip.String()
	}
	return netip.PrefixFrom(ip, ipv6ClientPrefix).Masked().String()
}
