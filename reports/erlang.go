package reports

import "math"

// Erlang C, the queue model of a call centre: calls arrive at random (Poisson), wait in one
// queue in order, and N agents each take a call for an exponentially distributed handle time.
// A is the offered traffic in erlangs (calls per second × handle time in seconds).

// ErlangB is the blocking probability of n servers offered a erlangs, by the recurrence
// B₀ = 1, B_k = a·B_{k−1} / (k + a·B_{k−1}), which never overflows (a^n/n! would for large n).
func ErlangB(n int, a float64) float64 {
	b := 1.0
	for k := 1; k <= n; k++ {
		b = a * b / (float64(k) + a*b)
	}
	return b
}

// ErlangC is the probability that a call waits, with n agents and a erlangs: C = n·B/(n − a(1−B)).
// With n ≤ a the queue grows without end and every call waits: 1.
func ErlangC(n int, a float64) float64 {
	if float64(n) <= a {
		return 1
	}
	if a <= 0 {
		return 0
	}
	b := ErlangB(n, a)
	return float64(n) * b / (float64(n) - a*(1-b))
}

// ServiceLevel is the share of calls answered within target seconds, with n agents, a erlangs
// and a handle time of aht seconds: 1 − C·e^{−(n−a)·target/aht}. 0 when n ≤ a.
func ServiceLevel(n int, a, aht, target float64) float64 {
	if float64(n) <= a {
		return 0
	}
	if a <= 0 {
		return 1
	}
	return 1 - ErlangC(n, a)*math.Exp(-(float64(n)-a)*target/aht)
}

// AverageSpeedOfAnswer is the mean wait over all calls: C·aht/(n − a). +Inf when n ≤ a.
func AverageSpeedOfAnswer(n int, a, aht float64) float64 {
	if float64(n) <= a {
		return math.Inf(1)
	}
	return ErlangC(n, a) * aht / (float64(n) - a)
}

// Agents is the smallest n > a whose service level within target seconds reaches level, for
// calls per hour λ and a handle time of aht seconds. 0 when there is no traffic.
func Agents(callsPerHour, aht, target, level float64) int {
	a := callsPerHour * aht / 3600
	if a <= 0 {
		return 0
	}
	n := int(math.Floor(a)) + 1
	// The service level grows with n towards 1; level < 1 is reached within a few more
	// agents than the traffic (level is validated to be below 1 by the callers).
	for ServiceLevel(n, a, aht, target) < level {
		n++
	}
	return n
}
