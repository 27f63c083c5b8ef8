package desk

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzLanguage: any text gets "it" or "en", without panicking on broken UTF-8 or huge input.
func FuzzLanguage(f *testing.F) {
	for _, s := range []string{"", "Hello, I got a ticket", "Buongiorno, ho una multa", "the the the la la la", "\xff\xfe'''", strings.Repeat("the ", 2000)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if l := Language(s); l != "it" && l != "en" {
			t.Fatalf("Language(%q) = %q", s, l)
		}
	})
}

// FuzzReplySubject: a reply's subject is marked once, however often it is answered.
func FuzzReplySubject(f *testing.F) {
	for _, s := range []string{"", "Permesso ZTL", "Re: Permesso", "R: multa", "  RE:x", "\xffre:"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		once := replySubject(s)
		if twice := replySubject(once); twice != once {
			t.Fatalf("replySubject not idempotent: %q -> %q -> %q", s, once, twice)
		}
		low := strings.ToLower(once)
		if !strings.HasPrefix(low, "re:") && !strings.HasPrefix(low, "r:") {
			t.Fatalf("replySubject(%q) = %q", s, once)
		}
		if utf8.ValidString(s) && !utf8.ValidString(once) {
			t.Fatalf("replySubject broke UTF-8: %q", once)
		}
	})
}
