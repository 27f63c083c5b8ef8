package gsm7

import (
	"strings"
	"testing"
)

func TestSegmentCount(t *testing.T) {
	r := strings.Repeat
	cases := []struct {
		body string
		n    int
		enc  string
	}{
		{"", 0, EncodingGSM7},
		{"Ciao", 1, EncodingGSM7},
		{r("a", 160), 1, EncodingGSM7},
		{r("a", 161), 2, EncodingGSM7},
		{r("a", 306), 2, EncodingGSM7},
		{r("a", 307), 3, EncodingGSM7},
		{r("a", 1600), 11, EncodingGSM7},
		{"Traffico bloccato: è già così, perché più uscite sono chiuse", 1, EncodingGSM7},
		{"É" + r("a", 159), 1, EncodingGSM7},
		{r("€", 80), 1, EncodingGSM7},                      // 160 septets
		{r("€", 81), 2, EncodingGSM7},                      // 162 septets
		{r("a", 159) + "[", 2, EncodingGSM7},               // 161 septets
		{r("a", 152) + "€" + r("a", 152), 3, EncodingGSM7}, // the escape pair moves whole
		{"È", 1, EncodingUCS2},
		{"È" + r("a", 69), 1, EncodingUCS2},
		{"È" + r("a", 70), 2, EncodingUCS2},
		{"È" + r("a", 133), 2, EncodingUCS2},
		{"È" + r("a", 134), 3, EncodingUCS2},
		{r("😀", 35), 1, EncodingUCS2}, // 70 code units
		{r("😀", 36), 2, EncodingUCS2},
		{r("a", 66) + "😀" + r("a", 66), 3, EncodingUCS2}, // the surrogate pair moves whole
		{"l’ufficio", 1, EncodingUCS2},
	}
	for _, c := range cases {
		n, enc := SegmentCount(c.body)
		if n != c.n || enc != c.enc {
			t.Errorf("SegmentCount(%.30q… %d bytes) = %d %s, want %d %s", c.body, len(c.body), n, enc, c.n, c.enc)
		}
	}
}

func FuzzSegmentCount(f *testing.F) {
	for _, s := range []string{"", "ciao", "È", "😀", strings.Repeat("€", 81), "\xff", strings.Repeat("à", 161)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		n, enc := SegmentCount(body)
		if body == "" {
			if n != 0 {
				t.Fatalf("empty: %d", n)
			}
			return
		}
		gsm, units := true, 0
		for _, r := range body {
			if _, ok := septets[r]; !ok {
				gsm = false
			}
		}
		for _, r := range body {
			switch {
			case gsm:
				units += septets[r]
			case r > 0xFFFF:
				units += 2
			default:
				units++
			}
		}
		single, split := 160, 153
		if !gsm {
			single, split = 70, 67
		}
		if (enc == EncodingGSM7) != gsm {
			t.Fatalf("%q: %s", body, enc)
		}
		if units <= single {
			if n != 1 {
				t.Fatalf("%q: %d units in %d segments", body, units, n)
			}
			return
		}
		// At least units/split; at most one unit wasted per segment.
		if lo, hi := (units+split-1)/split, (units+split-2)/(split-1); n < lo || n > hi {
			t.Fatalf("%q: %d units in %d segments, want %d..%d", body, units, n, lo, hi)
		}
	})
}
