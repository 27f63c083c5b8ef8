package clientaddr_test

import (
	"net/netip"
	"testing"

	"github.com/sportello/sportello/clientaddr"
)

func TestLimitKeyGroupsIPv6ByItsSlash64(t *testing.T) {
	for _, c := range []struct{ addr, want string }{
		{"192.0.2.7", "192.0.2.7"},
		{"192.0.2.7:4242", "192.0.2.7"},
		{"::ffff:192.0.2.7", "192.0.2.7"},
		{"2001:db8:1:2::10", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"},
		{"[2001:db8:1:2::10]:443", "2001:db8:1:2::/64"},
		{"fe80::1%eth0", "fe80::/64"},
		{"2001:db8:1:2::/64", "2001:db8:1:2::/64"},
		{"not an address", "not an address"},
		{"", ""},
	} {
		if got := clientaddr.LimitKey(c.addr); got != c.want {
			t.Errorf("LimitKey(%q) = %q, want %q", c.addr, got, c.want)
		}
	}
}

func TestLimitKeyKeepsNeighbouringSlash64sApart(t *testing.T) {
	if a, b := clientaddr.LimitKey("2001:db8:1:2::10"), clientaddr.LimitKey("2001:db8:1:3::10"); a == b {
		t.Fatalf("two /64s counted as one client: %s", a)
	}
	if a, b := clientaddr.LimitKey("192.0.2.1"), clientaddr.LimitKey("192.0.2.2"); a == b {
		t.Fatalf("two IPv4 addresses counted as one client: %s", a)
	}
}

// A peer's allowed networks hold its address however the address is written: with a port, as
// an IPv4-mapped IPv6 address, with a zone; nothing else is in them.
func TestWithinNetworks(t *testing.T) {
	networks := []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("2001:db8:1::/48"), netip.MustParsePrefix("fe80::/64")}
	for _, c := range []struct {
		addr string
		want bool
	}{
		{"192.0.2.7", true},
		{"192.0.2.7:4242", true},
		{"::ffff:192.0.2.7", true},
		{"[::ffff:192.0.2.7]:80", true},
		{"2001:db8:1:2::10", true},
		{"fe80::1%eth0", true},
		{"192.0.3.7", false},
		{"2001:db8:2::1", false},
		{"127.0.0.1", false},
		{"not an address", false},
		{"", false},
	} {
		ip, _ := clientaddr.Parse(c.addr)
		if got := clientaddr.Within(ip, networks); got != c.want {
			t.Errorf("Within(%q) = %v, want %v", c.addr, got, c.want)
		}
	}
	if clientaddr.Within(netip.MustParseAddr("192.0.2.7"), nil) {
		t.Error("an address is within no networks at all")
	}
}
