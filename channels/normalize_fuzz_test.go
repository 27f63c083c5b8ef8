package channels

import (
	"math/rand"
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

// NormalizeMobile parses once what NormalizePhone and IsMobile parse twice: both give the same
// answers (the second pair is the oracle).
func FuzzNormalizeMobile(f *testing.F) {
	for _, s := range []string{"+393471234567", "3471234567", "0039 347 123 4567", "0552768000", "+390552768000", "tel:+393401112233",
		"garbage", "", "+44 7911 123456", "+1 202 555 0100", "347-123-4567", "+39 055 05 50", "00393401234567", "sip:+39055@pbx", "abc"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		e164, mobile, err := NormalizeMobile(raw)
		want, werr := NormalizePhone(raw)
		if (err == nil) != (werr == nil) || e164 != want {
			t.Fatalf("NormalizeMobile(%q) = %q %v; NormalizePhone = %q %v", raw, e164, err, want, werr)
		}
		if err == nil && mobile != IsMobile(want) {
			t.Fatalf("NormalizeMobile(%q) mobile = %v, IsMobile = %v", raw, mobile, !mobile)
		}
	})
}

// NormalizePhoneOrRaw skips the parse for "+39" and digits; the full parse is the oracle.
func FuzzNormalizePhoneOrRaw(f *testing.F) {
	for _, s := range []string{"+393471234567", "+39", "+390", "+3900", "+390552768000", " +393401112233 ", "+3934712345678901234",
		"+39055055", "+4407911123456", "+1 202 555 0100", "anonymous", "client:alice", "+39 347 123 4567", "+39abc"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		if got, want := NormalizePhoneOrRaw(raw), normalizePhoneOrRawParsed(raw); got != want {
			t.Fatalf("NormalizePhoneOrRaw(%q) = %q, the full parse gives %q", raw, got, want)
		}
	})
}

// Every "+39" and digits text of every length a number can have, digits drawn at random:
// the shortcut must agree with the parse on all of them, not only on what the fuzzer reaches.
func TestItalianShortcutAgreesWithTheParse(t *testing.T) {
	r := rand.New(rand.NewSource(39))
	for length := 0; length <= 37; length++ {
		for range 200 {
			b := []byte("+39")
			for range length {
				b = append(b, byte('0'+r.Intn(10)))
			}
			if length > 0 && r.Intn(3) == 0 {
				b[3] = "03"[r.Intn(2)] // fixed lines and mobiles, the two shapes citizens have
			}
			s := string(b)
			if got, want := NormalizePhoneOrRaw(s), normalizePhoneOrRawParsed(s); got != want {
				t.Fatalf("NormalizePhoneOrRaw(%q) = %q, the full parse gives %q", s, got, want)
			}
		}
	}
}
