package clientaddr_test

import (
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
