package desk

import (
	"fmt"
	"strings"
)

// Placeholders a canned answer may hold, in either language's name: the citizen's name, the
// comune's name, the competent office and the comune's opening hours.
var placeholderKeys = map[string]string{
	"nome": "name", "name": "name",
	"comune":  "comune",
	"ufficio": "office", "office": "office",
	"orari": "hours", "hours": "hours",
}

// PlaceholderError is a {word} in a canned answer that is not a known placeholder.
type PlaceholderError struct{ Name string }

func (e *PlaceholderError) Error() string {
	return fmt.Sprintf("unknown placeholder {%s}: use {nome}, {comune}, {ufficio} or {orari} (or {name}, {office}, {hours})", e.Name)
}

// expandPlaceholders replaces each {placeholder} with its value (by the keys name, comune,
// office, hours). A brace not around a lower-case word is text; an unknown word is an error.
func expandPlaceholders(text string, values map[string]string) (string, error) {
	var b strings.Builder
	for {
		i := strings.IndexByte(text, '{')
		if i < 0 {
			b.WriteString(text)
			return b.String(), nil
		}
		b.WriteString(text[:i])
		rest := text[i+1:]
		j := strings.IndexByte(rest, '}')
		if j < 0 || !isWord(rest[:j]) {
			b.WriteByte('{')
			text = rest
			continue
		}
		key, ok := placeholderKeys[rest[:j]]
		if !ok {
			return "", &PlaceholderError{Name: rest[:j]}
		}
		b.WriteString(values[key])
		text = rest[j+1:]
	}
}

func isWord(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for _, r := range s {
		if r < 'a' || r > 'z' {
			return false
		}
	}
	return true
}
