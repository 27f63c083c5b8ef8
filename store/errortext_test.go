package store_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sportello/sportello/store"
)

func TestErrorTextIsStorable(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"HTTP 400: invalid number", "HTTP 400: invalid number"},
		{"bad \xff\xfe bytes", "bad \uFFFD bytes"},
		{"a\x00b", "ab"},
		{strings.Repeat("a", 499) + "è", strings.Repeat("a", 499)},
		{strings.Repeat("é", 300), strings.Repeat("é", 250)},
	} {
		got := store.ErrorText(c.in)
		if got != c.want || !utf8.ValidString(got) || len(got) > store.MaxErrorText {
			t.Errorf("ErrorText(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
