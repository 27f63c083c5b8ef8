// Package clientaddr turns a client's network address into the unit a per-client limit
// counts. It imports nothing of Sportello's, so the web surfaces and the adapters alike may
// use it.
package clientaddr

import (
	"net"
	"net/netip"
)

// ipv6ClientPrefix is how much of an IPv6 address one client holds: providers hand out a
// whole /64, so anyone can rotate through its addresses at will.
const ipv6ClientPrefix = 64

// LimitKey is the client a limit counts for addr (an IP, with or without a port): an IPv4
// address as it is, an IPv6 address by its /64 ("2001:db8:1:2::/64"). Anything that is not an
// address comes back unchanged, so a limit still counts it, by its own text.
func LimitKey(addr string) string {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		host, _, splitErr := net.SplitHostPort(addr)
		if splitErr != nil {
			return addr
		}
		if ip, err = netip.ParseAddr(host); err != nil {
			return addr
		}
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is4() {
		return ip.String()
	}
	return netip.PrefixFrom(ip, ipv6ClientPrefix).Masked().String()
}
