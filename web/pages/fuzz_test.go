package pages

import (
	"strings"
	"testing"
)

func FuzzAcceptLanguage(f *testing.F) {
	for _, s := range []string{"", "en-US,en;q=0.9", "it;q=0.1, en;q=0.2", "*", "en;q=NaN", "en;q=-1, it", ";;,,", "ıt"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		if got := fromAcceptLanguage(h); !known(got) {
			t.Fatalf("%q gave the unknown language %q", h, got)
		}
	})
}

func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"", "/inbox", "//x", "/\\x", "http://x", "/inbox?a=b#c", "/%2F%2Fevil", "\t/inbox"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got := safeNext(next)
		if !strings.HasPrefix(got, "/") || strings.HasPrefix(got, "//") || strings.HasPrefix(got, "/\\") || strings.ContainsAny(got, "\r\n") {
			t.Fatalf("safeNext(%q) = %q leaves the site", next, got)
		}
	})
}
