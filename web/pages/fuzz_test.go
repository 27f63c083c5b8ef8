package pages

import (
	"net/url"
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
	for _, s := range []string{"", "/inbox", "//x", "/\\x", "http://x", "/inbox?a=b#c", "/%2F%2Fevil", "\t/inbox",
		"/\t/evil.example", "/%09/evil.example", "/\n/evil", "/\\/evil", "/%5C/evil", "/%2f/evil", "/inbox/%2F%2Fx",
		"/ /evil", "/\x00/evil", "/\u00a0/evil", "/inbox?next=//evil", "/inbox#//evil", "/.//evil", "/login?next=/x"} {
		f.Add(s)
	}
	base, _ := url.Parse("https://sportello.test/login")
	f.Fuzz(func(t *testing.T, next string) {
		got := SafeNext(next)
		if got != DefaultNext && got != next {
			t.Fatalf("SafeNext(%q) = %q: neither the input nor the default", next, got)
		}
		// Read got as a browser would (WHATWG URL): tabs and newlines removed, C0 and spaces
		// trimmed, backslashes as slashes; and once more after decoding it.
		for _, candidate := range []string{got, mustUnescape(got)} {
			s := strings.Map(func(r rune) rune {
				if r == '\t' || r == '\n' || r == '\r' {
					return -1
				}
				if r == '\\' {
					return '/'
				}
				return r
			}, candidate)
			s = strings.TrimFunc(s, func(r rune) bool { return r <= ' ' })
			if !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") {
				t.Fatalf("SafeNext(%q) = %q, which a browser reads as %q: not a path of ours", next, got, s)
			}
			if candidate != got {
				continue // the decoded form need not parse; it only must not name another host
			}
			u, err := url.Parse(s)
			if err != nil {
				t.Fatalf("SafeNext(%q) = %q, which does not parse: %v", next, got, err)
			}
			if to := base.ResolveReference(u); to.Host != base.Host || to.Scheme != base.Scheme {
				t.Fatalf("SafeNext(%q) = %q leaves the site for %s", next, got, to)
			}
		}
	})
}

func mustUnescape(s string) string {
	if d, err := url.PathUnescape(s); err == nil {
		return d
	}
	return s
}
