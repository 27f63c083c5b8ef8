package pages

import (
	"strings"
	"unicode"
)

// PlainName makes a name or number someone else chose safe to show: it drops the bidi
// controls (U+202A–U+202E embeddings and overrides, U+2066–U+2069 isolates, U+200E/U+200F
// marks, U+061C), zero-width and other invisible format characters (U+200B, U+2060–U+2064,
// U+FEFF, soft hyphens, tags) and control characters.
//
// Why strip rather than escape: an override turns "+39 347…" or "moc.enummoc@urp" around on
// screen so an operator reads another number or address than the one stored, and invisible
// characters make two different senders look identical; no real name or phone number needs
// them. Legitimate right-to-left names (Arabic, Hebrew) need no control characters to show
// correctly, and the pages isolate each name anyway (a <bdi> element). Zero-width
// joiner and non-joiner (U+200D, U+200C) stay: emoji sequences and Persian and Indic names
// need them, and they reorder nothing.
//
// Why on display and not in the database: the store keeps what was received, as evidence and
// for the citizen's data export (GDPR); every page that shows a sender's name or number goes
// through this function (the "plain" template function), so nothing reaches the screen raw.
func PlainName(s string) string {
	if strings.IndexFunc(s, hidden) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if hidden(r) {
			return -1
		}
		return r
	}, s)
}

func hidden(r rune) bool {
	switch r {
	case '\u200c', '\u200d':
		return false
	}
	return unicode.Is(unicode.Cf, r) || unicode.IsControl(r) || r == '\u2028' || r == '\u2029'
}
