package twilioemu

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSegments(t *testing.T) {
	r := strings.Repeat
	cases := []struct {
		name string
		body string
		n    int
		enc  string
	}{
		{"empty", "", 0, EncodingGSM7},
		{"one char", "a", 1, EncodingGSM7},
		{"160 GSM", r("a", 160), 1, EncodingGSM7},
		{"161 GSM", r("a", 161), 2, EncodingGSM7},
		{"306 GSM", r("a", 306), 2, EncodingGSM7},
		{"307 GSM", r("a", 307), 3, EncodingGSM7},
		{"italian lower-case accents stay GSM", r("perché è già così più ", 7), 1, EncodingGSM7},
		{"capital É is GSM", "É" + r("a", 159), 1, EncodingGSM7},
		{"80 euro signs are 160 septets", r("€", 80), 1, EncodingGSM7},
		{"81 euro signs", r("€", 81), 2, EncodingGSM7},
		{"escape never split across segments", r("a", 152) + "€" + r("a", 152), 3, EncodingGSM7},
		{"extension chars", "{}[]~|^\\", 1, EncodingGSM7},
		{"capital È forces UCS-2", "È" + r("a", 69), 1, EncodingUCS2},
		{"71 UCS-2", "È" + r("a", 70), 2, EncodingUCS2},
		{"134 UCS-2", "È" + r("a", 133), 2, EncodingUCS2},
		{"135 UCS-2", "È" + r("a", 134), 3, EncodingUCS2},
		{"35 emoji are 70 code units", r("😀", 35), 1, EncodingUCS2},
		{"36 emoji", r("😀", 36), 2, EncodingUCS2},
		{"surrogate pair never split", r("a", 66) + "😀" + r("a", 66), 3, EncodingUCS2},
		{"curly quote is not GSM", "l’ufficio", 1, EncodingUCS2},
	}
	for _, c := range cases {
		n, enc := segments(c.body)
		if n != c.n || enc != c.enc {
			t.Errorf("%s: segments = %d %s, want %d %s", c.name, n, enc, c.n, c.enc)
		}
	}
}

func FuzzSegments(f *testing.F) {
	for _, s := range []string{"", "ciao", "È", "😀", strings.Repeat("€", 81), "\xff\xfe", strings.Repeat("a", 1600)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		n, enc := segments(body)
		if body == "" {
			if n != 0 {
				t.Fatalf("empty body: %d segments", n)
			}
			return
		}
		if n < 1 {
			t.Fatalf("%q: %d segments", body, n)
		}
		// Independent model: count units, then a segment holds multi units, or one fewer when
		// a two-unit character had to move to the next one.
		units, gsm := 0, true
		for _, r := range body {
			if _, ok := gsmSeptets[r]; !ok {
				gsm = false
			}
		}
		single, multi := 160, 153
		for _, r := range body {
			switch {
			case gsm:
				units += gsmSeptets[r]
			case r >= 0x10000 && r != utf8.RuneError:
				units += 2
			default:
				units++
			}
		}
		if !gsm {
			single, multi = 70, 67
		}
		if (enc == EncodingGSM7) != gsm {
			t.Fatalf("%q: encoding %s, all GSM = %v", body, enc, gsm)
		}
		if units <= single {
			if n != 1 {
				t.Fatalf("%q: %d units, %d segments", body, units, n)
			}
		} else if lo, hi := (units+multi-1)/multi, (units+multi-2)/(multi-1); n < lo || n > hi {
			t.Fatalf("%q: %d units, %d segments, want %d..%d", body, units, n, lo, hi)
		}
		// Appending a GSM character never reduces the count.
		if m, _ := segments(body + "a"); m < n {
			t.Fatalf("%q: adding a character went from %d to %d segments", body, n, m)
		}
	})
}
