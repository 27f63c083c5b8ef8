package gsm7

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Segments is what a text costs as SMS.
type Segments struct {
	Encoding string `json:"encoding"`
	// Units are septets (GSM-7) or UTF-16 code units (UCS-2).
	Units    int `json:"units"`
	Segments int `json:"segments"`
	// NonGSM lists the characters that forced UCS-2, each once, in order of appearance.
	NonGSM []string `json:"non_gsm,omitempty"`
}

// CountSegments counts the SMS segments of a text as SegmentCount does (160 septets in one GSM-7
// segment, 153 in each of several; 70 UCS-2 units in one, 67 in each of several), and adds the
// length in units and the characters that forced UCS-2, for the composer to point at.
func CountSegments(text string) Segments {
	var s Segments
	s.Segments, s.Encoding = SegmentCount(text)
	seen := map[rune]bool{}
	gsmUnits, ucsUnits := 0, 0
	for _, r := range text {
		if n, ok := septets[r]; ok {
			gsmUnits += n
		} else if !seen[r] {
			seen[r] = true
			s.NonGSM = append(s.NonGSM, string(r))
		}
		if r >= 0x10000 {
			ucsUnits += 2 // a surrogate pair
		} else {
			ucsUnits++
		}
	}
	s.Units = gsmUnits
	if s.Encoding == EncodingUCS2 {
		s.Units = ucsUnits
	}
	return s
}

// gsmRewrites are the usual replacements that keep a text in GSM-7. Capital accented vowels
// take the Italian typewriter form (È -> E'), which every reader understands.
var gsmRewrites = map[rune]string{
	'À': "A'", 'È': "E'", 'Ì': "I'", 'Ò': "O'", 'Ù': "U'",
	'Á': "A'", 'Í': "I'", 'Ó': "O'", 'Ú': "U'",
	'á': "a'", 'í': "i'", 'ó': "o'", 'ú': "u'",
	'€': "EUR",
	'‘': "'", '’': "'", '‚': "'", '‛': "'", '′': "'", '`': "'", '´': "'",
	'“': "\"", '”': "\"", '„': "\"", '‟': "\"", '″': "\"", '«': "\"", '»': "\"",
	'‹': "'", '›': "'",
	'–': "-", '—': "-", '―': "-", '‐': "-", '‑': "-", '−': "-",
	'…': "...", '•': "-", '·': "-",
	'\u00a0': " ", '\u2007': " ", '\u2009': " ", '\u200a': " ", '\u202f': " ", '\u2002': " ", '\u2003': " ",
	'\u200b': "", '\ufeff': "", '\t': " ",
	'°': "o",
	'ç': "c",
}

// Rewrite rewrites text so it fits the GSM-7 default alphabet where a faithful replacement
// exists (curly quotes, dashes, È, €...); characters without one (emoji, other scripts) stay,
// and CountSegments will still report UCS-2 for them. € becomes EUR: it is in GSM-7's extension
// table, but some handsets and carriers show it badly.
func Rewrite(text string) string {
	var b strings.Builder
	b.Grow(len(text))
	for _, r := range norm.NFC.String(text) {
		if rep, ok := gsmRewrites[r]; ok {
			b.WriteString(rep)
			continue
		}
		if _, ok := septets[r]; ok {
			b.WriteRune(r)
			continue
		}
		// A combining accent left over after composition has no GSM-7 form: the letter stays
		// without it.
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		// Other accented letters: the base letter, when that one is GSM-7 (ô -> o, ł stays).
		if base := baseLetter(r); base != r && septets[base] == 1 {
			b.WriteRune(base)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func baseLetter(r rune) rune {
	var buf [utf8.UTFMax]byte
	n := utf8.EncodeRune(buf[:], r)
	if d := norm.NFD.Properties(buf[:n]).Decomposition(); len(d) > 0 {
		if base, _ := utf8.DecodeRune(d); base != utf8.RuneError {
			return base
		}
	}
	return r
}
