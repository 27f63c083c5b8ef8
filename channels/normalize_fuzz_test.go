package channels

import (
	"strings"
	"testing"
)

func FuzzNormalizePhone(f *testing.F) {
	for _, s := range []string{"0557654321", "+39 347 123 4567", "tel:+390552768000", "sip:+39055@pbx.local", "0039055055", "", "+", "anonymous", "+44 20 7946 0958"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := NormalizePhone(raw)
		if err != nil {
			return
		}
		if !strings.HasPrefix(got, "+") || strings.ContainsAny(got[1:], "+ -()") {
			t.Fatalf("NormalizePhone(%q) = %q: not E.164", raw, got)
		}
		// Normalizing is idempotent.
		again, err := NormalizePhone(got)
		if err != nil || again != got {
			t.Fatalf("NormalizePhone(%q) = %q, then %q, %v", raw, got, again, err)
		}
	})
}

func FuzzNormalizeEmail(f *testing.F) {
	for _, s := range []string{"Mario Rossi <Mario.Rossi@Example.IT>", "a@b", "@", "x@", "\"q\"@x.it", "=?utf-8?q?M=C3=A0rio?= <m@x.it>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := NormalizeEmail(raw)
		if err != nil {
			return
		}
		if got != strings.ToLower(got) || !strings.Contains(got, "@") {
			t.Fatalf("NormalizeEmail(%q) = %q", raw, got)
		}
	})
}
