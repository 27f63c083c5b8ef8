package reports

import (
	"math"
	"testing"
)

// Published Erlang C figures, to four places as the sources print them.
func TestErlangCAgainstPublishedTables(t *testing.T) {
	near := func(t *testing.T, what string, got, want, tol float64) {
		t.Helper()
		if math.Abs(got-want) > tol {
			t.Errorf("%s = %.6f, published %.6f", what, got, want)
		}
	}
	// Call Centre Helper, "Erlang C Formula – Made Simple With an Easy Worked Example": 100 calls
	// per half hour, AHT 180 s, 10 erlangs, target 80 % in 20 s. Published: 11 agents wait
	// probability 68.21 %, service level 39.0 %; 12 agents 44.94 %, 64.0 %; 13 agents 28.53 %,
	// 79.6 %; 14 agents 17.41 %, 88.8 % (the first to meet 80/20).
	for _, c := range []struct {
		n         int
		pWait, sl float64
	}{{11, 0.6821, 0.390}, {12, 0.4494, 0.640}, {13, 0.2853, 0.796}, {14, 0.1741, 0.888}} {
		near(t, "P(wait) 10 E", ErlangC(c.n, 10), c.pWait, 0.00005)
		near(t, "service level 10 E", ServiceLevel(c.n, 10, 180, 20), c.sl, 0.0005)
	}
	if n := Agents(200, 180, 20, 0.8); n != 14 {
		t.Errorf("agents for 200 calls/h, 180 s, 80/20 = %d, published 14", n)
	}
	// Mitan's "The Erlang-C formula" worked example: 360 calls per half hour, 240 s, 55 agents,
	// target 15 s. Published: traffic 48 E, occupancy 87.3 %, wait probability 23.87 %, average
	// speed of answer 8.2 s, service level 84.6 %.
	near(t, "P(wait) 48 E 55 agents", ErlangC(55, 48), 0.2387, 0.00005)
	near(t, "ASA 48 E 55 agents", AverageSpeedOfAnswer(55, 48, 240), 8.2, 0.05)
	near(t, "service level 48 E 55 agents", ServiceLevel(55, 48, 240, 15), 0.846, 0.0005)
	// Wolfram Language ErlangC reference, the two 1 Mbps lines offered 150 packets/s of 10 kbit:
	// ErlangC[2, 1.5] = 0.642857; and the closed form for 3 servers and 2 E: 4/9.
	near(t, "ErlangC[2,1.5]", ErlangC(2, 1.5), 0.642857, 0.0000005)
	near(t, "ErlangC[3,2]", ErlangC(3, 2), 4.0/9, 1e-12)
}

// The recurrence must stay finite where the factorial form overflows float64 (170! does).
func TestErlangLargeTrafficStaysFinite(t *testing.T) {
	c := ErlangC(400, 380)
	if math.IsNaN(c) || c <= 0 || c >= 1 {
		t.Fatalf("ErlangC(400, 380) = %v", c)
	}
	if n := Agents(380*3600/180, 180, 20, 0.8); n <= 380 || n > 420 {
		t.Fatalf("agents for 380 E = %d", n)
	}
	if ErlangC(10, 10) != 1 || ServiceLevel(10, 12, 180, 20) != 0 || Agents(0, 180, 20, 0.8) != 0 {
		t.Fatal("overload and no traffic")
	}
	// An Erlang B table value (Erlang B, 10 trunks, 5 E: 1.84 %).
	if b := ErlangB(10, 5); math.Abs(b-0.0184) > 0.00005 {
		t.Fatalf("ErlangB(10, 5) = %.5f", b)
	}
}
