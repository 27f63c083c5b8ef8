package desk

import (
	"strings"
	"unicode"
)

// Words frequent in short English or Italian messages and rare in the other language.
var (
	englishWords = map[string]bool{
		"the": true, "and": true, "you": true, "your": true, "is": true, "are": true, "my": true, "i": true, "please": true,
		"hello": true, "hi": true, "thanks": true, "thank": true, "what": true, "when": true, "where": true, "how": true,
		"can": true, "could": true, "would": true, "ticket": true, "fine": true, "car": true, "to": true, "of": true,
		"for": true, "with": true, "this": true, "that": true, "have": true, "has": true, "it": true, "not": true, "do": true,
		"does": true, "dear": true, "regards": true, "open": true, "today": true, "tomorrow": true, "there": true, "we": true,
	}
	italianWords = map[string]bool{
		"il": true, "la": true, "di": true, "che": true, "e": true, "per": true, "non": true, "un": true, "una": true,
		"sono": true, "buongiorno": true, "buonasera": true, "grazie": true, "salve": true, "mia": true, "mio": true,
		"del": true, "della": true, "ho": true, "ha": true, "come": true, "quando": true, "dove": true, "posso": true,
		"vorrei": true, "multa": true, "oggi": true, "domani": true, "cordiali": true, "saluti": true, "gentile": true,
		"al": true, "alla": true, "con": true, "se": true, "mi": true, "questo": true, "questa": true, "ci": true,
	}
)

// Language guesses whether a citizen wrote in English ("en") or, by default, Italian ("it"):
// English only when clearly more of the words are common English words than Italian ones.
func Language(text string) string {
	if len(text) > 4000 {
		text = text[:4000]
	}
	en, it := 0, 0
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) && r != '\'' }) {
		w = strings.Trim(w, "'")
		if englishWords[w] {
			en++
		}
		if italianWords[w] {
			it++
		}
	}
	if en >= 2 && en > it {
		return "en"
	}
	return "it"
}
