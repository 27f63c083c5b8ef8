package store

import (
	"strings"
	"unicode/utf8"
)

// MaxErrorText bounds the error texts kept for people to read (a send's, a deletion's).
const MaxErrorText = 500

// ErrorText makes an outside system's error text storable: at most MaxErrorText bytes, cut
// on a character's edge, its bytes that are not UTF-8 replaced with U+FFFD and its NULs
// dropped. The text is whatever a provider's answer held, and PostgreSQL refuses text that is
// not UTF-8 or holds a NUL, and with it the whole write (a fan-out chunk's record, a reply's
// state).
func ErrorText(s string) string {
	s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
	if len(s) <= MaxErrorText {
		return s
	}
	n := MaxErrorText
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
