package pages

import (
	"strings"
	"testing"
)

func TestPhonesAsItaliansWriteThem(t *testing.T) {
	for in, want := range map[string]string{
		"+393471234567":     "347 123 4567",
		"+390557654321":     "055 765 4321",
		"+390552768000":     "055 276 8000",
		"+441632960961":     "+44 1632 960961",
		"anna@cittadino.it": "anna@cittadino.it",
		"+39abc":            "+39abc",
	} {
		if got := NationalPhone(in); got != want {
			t.Errorf("NationalPhone(%q) = %q, want %q", in, got, want)
		}
	}
	link := string(phoneLink("+393471234567"))
	for _, want := range []string{`href="tel:+393471234567"`, `title="+393471234567"`, `>347 123 4567</a>`} {
		if !strings.Contains(link, want) {
			t.Errorf("phoneLink lacks %s: %s", want, link)
		}
	}
	if got := string(phoneLink(`<b>@x`)); got != "&lt;b&gt;@x" {
		t.Errorf("a non-number is escaped text: %s", got)
	}
}
