package gsm7

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCountSegments(t *testing.T) {
	cases := []struct {
		text     string
		enc      string
		segments int
		units    int
	}{
		{"", EncodingGSM7, 0, 0},
		{"Domani blocco del traffico dalle 8:30 alle 18:30.", EncodingGSM7, 1, 49},
		{strings.Repeat("a", 160), EncodingGSM7, 1, 160},
		{strings.Repeat("a", 161), EncodingGSM7, 2, 161},
		{strings.Repeat("a", 306), EncodingGSM7, 2, 306},
		{strings.Repeat("a", 307), EncodingGSM7, 3, 307},
		{"perché è là, più giù", EncodingGSM7, 1, 20},         // lower-case accents are GSM-7
		{"€5", EncodingGSM7, 1, 3},                            // € is an extension: two septets
		{strings.Repeat("€", 80), EncodingGSM7, 1, 160},       // exactly one segment
		{strings.Repeat("€", 81), EncodingGSM7, 2, 162},       // escapes are never split
		{"È vietato", EncodingUCS2, 1, 9},                     // one capital È makes it UCS-2
		{"È " + strings.Repeat("a", 68), EncodingUCS2, 1, 70}, // 70 UCS-2 units fit one segment
		{"È " + strings.Repeat("a", 69), EncodingUCS2, 2, 71}, // then 67 per segment
		{"🚗 blocco", EncodingUCS2, 1, 9},                      // an emoji is two units
	}
	for _, c := range cases {
		got := CountSegments(c.text)
		if got.Encoding != c.enc || got.Segments != c.segments || got.Units != c.units {
			t.Errorf("CountSegments(%.30q) = %+v, want %s %d segments %d units", c.text, got, c.enc, c.segments, c.units)
		}
	}
	if got := CountSegments("È l’ora"); strings.Join(got.NonGSM, "") != "È’" {
		t.Errorf("NonGSM = %q", got.NonGSM)
	}
}

func TestRewriteKeepsOneCapitalFromDoublingTheCost(t *testing.T) {
	text := "È in vigore il blocco: «fasce» 8–18 … multa €80. L’ordinanza è qui."
	if CountSegments(text).Encoding != EncodingUCS2 {
		t.Fatal("the sample should be UCS-2")
	}
	got := Rewrite(text)
	want := "E' in vigore il blocco: \"fasce\" 8-18 ... multa EUR80. L'ordinanza è qui."
	if got != want {
		t.Fatalf("Rewrite = %q, want %q", got, want)
	}
	if c := CountSegments(got); c.Encoding != EncodingGSM7 {
		t.Fatalf("still %+v", c)
	}
	// Characters without a GSM-7 form stay: the cost report says so.
	if got := Rewrite("Zone 🚗 chiuse"); got != "Zone 🚗 chiuse" {
		t.Fatalf("emoji changed: %q", got)
	}
	if got := Rewrite("Città Ù ô ç"); got != "Città U' o c" {
		t.Fatalf("got %q", got)
	}
}

func FuzzRewrite(f *testing.F) {
	for _, s := range []string{"È tutto", "“quote”", "€€", "🚗", "a\u0300", "\xff", "Ünïcödé ñ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		once := Rewrite(s)
		if !utf8.ValidString(once) {
			t.Fatalf("invalid UTF-8 from %q", s)
		}
		if twice := Rewrite(once); twice != once {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, once, twice)
		}
		// Whatever CountSegments says about the rewrite, it holds only GSM-7 where it could.
		for _, r := range once {
			if _, ok := gsmRewrites[r]; ok {
				t.Fatalf("%q still holds %q", once, r)
			}
		}
		c := CountSegments(once)
		if c.Encoding == EncodingGSM7 && len(c.NonGSM) > 0 {
			t.Fatalf("GSM-7 with non-GSM characters %q", c.NonGSM)
		}
	})
}
