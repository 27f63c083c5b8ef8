package router

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// span is one token of a folded text: fold[start:end].
type span struct{ start, end int }

// tokens is a text folded to lower case without accents, cut into words.
type tokens struct {
	fold  []byte
	spans []span
}

func (t *tokens) len() int         { return len(t.spans) }
func (t *tokens) at(i int) []byte  { s := t.spans[i]; return t.fold[s.start:s.end] }
func (t *tokens) str(i int) string { return string(t.at(i)) }

// tokenize folds text (lower case, accents dropped: "È" and "è" become "e") and cuts it into words
// at every character that is neither a letter nor a digit, so "d'identità" is "d" "identita". A
// run of letters and a run of digits are separate words ("pm10" is "pm" "10", "euro4" is "euro"
// "4") because citizens write them both ways. Keywords and messages go through the same function,
// so whatever it does, they agree.
func tokenize(text string) tokens {
	var t tokens
	t.reset(text)
	return t
}

// reset tokenizes text into t, reusing t's buffers when they are large enough.
func (t *tokens) reset(text string) {
	if cap(t.fold) < len(text) {
		t.fold = make([]byte, 0, len(text))
	}
	if n := len(text)/5 + 1; cap(t.spans) < n {
		t.spans = make([]span, 0, n)
	}
	t.fold, t.spans = t.fold[:0], t.spans[:0]
	const (
		none = iota
		letter
		digit
	)
	class, start := none, 0
	closeToken := func() {
		if class != none && len(t.fold) > start {
			t.spans = append(t.spans, span{start, len(t.fold)})
		}
		class = none
	}
	for i := 0; i < len(text); {
		c := text[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
				if class != letter {
					closeToken()
					class, start = letter, len(t.fold)
				}
				t.fold = append(t.fold, c|0x20)
			case '0' <= c && c <= '9':
				if class != digit {
					closeToken()
					class, start = digit, len(t.fold)
				}
				t.fold = append(t.fold, c)
			default:
				closeToken()
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		i += size
		switch {
		case unicode.Is(unicode.Mn, r):
			// A combining accent of decomposed text ("e" + U+0300) belongs to the word and is dropped.
		case unicode.IsLetter(r):
			if class != letter {
				closeToken()
				class, start = letter, len(t.fold)
			}
			t.fold = utf8.AppendRune(t.fold, foldRune(r))
		case unicode.IsDigit(r):
			// Other scripts' digits are rare enough to be treated as letters of a word of their own.
			if class != digit {
				closeToken()
				class, start = digit, len(t.fold)
			}
			t.fold = utf8.AppendRune(t.fold, r)
		default:
			closeToken()
		}
	}
	closeToken()
}

// foldRune lower-cases r and drops its accents: the first rune of its canonical decomposition is
// the base letter ("È" = "E" + grave).
func foldRune(r rune) rune {
	var buf [utf8.UTFMax]byte
	n := utf8.EncodeRune(buf[:], r)
	if d := norm.NFD.Properties(buf[:n]).Decomposition(); len(d) > 0 {
		if base, _ := utf8.DecodeRune(d); base != utf8.RuneError {
			r = base
		}
	}
	return unicode.ToLower(r)
}

// stopwords are Italian articles, prepositions and conjunctions. Keywords drop them and a phrase
// keyword skips them in the text, so "divieto di circolazione" also matches "divieto circolazione"
// and "carta d'identità" matches "carta di identità".
var stopwords = map[string]bool{
	"a": true, "ad": true, "al": true, "allo": true, "alla": true, "ai": true, "agli": true, "alle": true,
	"da": true, "dal": true, "dallo": true, "dalla": true, "dai": true, "dagli": true, "dalle": true,
	"di": true, "d": true, "del": true, "dello": true, "della": true, "dei": true, "degli": true, "delle": true,
	"in": true, "nel": true, "nello": true, "nella": true, "nei": true, "negli": true, "nelle": true,
	"su": true, "sul": true, "sullo": true, "sulla": true, "sui": true, "sugli": true, "sulle": true,
	"con": true, "per": true, "tra": true, "fra": true, "x": true,
	"il": true, "lo": true, "la": true, "l": true, "i": true, "gli": true, "le": true,
	"un": true, "uno": true, "una": true, "e": true, "ed": true,
}

// maxStopwordGap is how many stopwords a phrase keyword may skip between two of its words.
const maxStopwordGap = 3
