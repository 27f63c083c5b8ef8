package alerts

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// maxCommandBytes bounds how much of an SMS is read for a command: a keyword and a few words.
const maxCommandBytes = 1024

// foldWords lower-cases text, drops accents ("SÌ" -> "si") and cuts it into words of letters
// and digits.
func foldWords(text string) []string {
	if len(text) > maxCommandBytes {
		text = text[:maxCommandBytes]
		for !utf8.ValidString(text) && len(text) > 0 {
			text = text[:len(text)-1]
		}
	}
	var words []string
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			words = append(words, cur.String())
			cur.Reset()
		}
	}
	for _, r := range normalize(text) {
		switch {
		case unicode.Is(unicode.Mn, r):
			// a combining accent: dropped, the letter stays
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			cur.WriteRune(unicode.ToLower(r))
		default:
			flush()
		}
	}
	flush()
	return words
}

// normalize applies NFKC first, so compatibility forms fold like what they look like
// (fullwidth "ＳＴＯＰ", the ligature "ﬁ", superscripts), then NFD, which splits accents off
// their letters for foldWords to drop.
func normalize(text string) string { return norm.NFD.String(norm.NFKC.String(text)) }

// isBare reports whether text is one word and nothing else but punctuation, spaces and
// invisible characters: "Sì!", " yes. ", not "Sì, domani" nor "Sì 👍".
func isBare(text string) bool {
	if len(text) > maxCommandBytes {
		return false
	}
	words := 0
	inWord := false
	for _, r := range normalize(text) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if !inWord {
				words++
				inWord = true
			}
		case unicode.Is(unicode.Mn, r) && inWord:
			// an accent of the word's letter
		case unicode.IsPunct(r) || unicode.IsSpace(r) || unicode.In(r, unicode.Cc, unicode.Cf, unicode.Z):
			inWord = false
		default:
			return false
		}
	}
	return words == 1
}

// foldPhrase folds a name to its words joined by single spaces ("Bagno a Ripoli" -> "bagno a ripoli").
func foldPhrase(s string) string { return strings.Join(foldWords(s), " ") }
