package channels

import (
	"slices"
	"strings"
	"testing"
)

func TestNewOfficeTokenIsReadableAndVaries(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		tok := NewOfficeToken()
		if !isOfficeToken(tok) || strings.ContainsAny(tok, "01OIL") {
			t.Fatalf("NewOfficeToken() = %q: not %d symbols of %q", tok, OfficeTokenLength, officeTokenAlphabet)
		}
		if seen[tok] {
			t.Fatalf("NewOfficeToken() gave %q twice in 200 draws", tok)
		}
		seen[tok] = true
	}
}

func TestOfficeTokensIn(t *testing.T) {
	for _, tc := range []struct {
		subject string
		want    []string
	}{
		{"Re: [Linea Comune] Inoltro: Multa [#K7Q2ZPAB]", []string{"K7Q2ZPAB"}},
		{"R: inoltro multa [#k7q2zpab]", []string{"K7Q2ZPAB"}},                 // a mailer that lowers the case
		{"[Ticket#12345] [#K7Q2ZPAB] Multa [#K7Q2ZPAB]", []string{"K7Q2ZPAB"}}, // once each
		{"[#K7Q2ZPAB][#MMMM2222]", []string{"K7Q2ZPAB", "MMMM2222"}},
		{"[#[#K7Q2ZPAB]", []string{"K7Q2ZPAB"}},
		{"Multa [#K7Q2ZPA]", nil},   // too short
		{"Multa [#K7Q2ZPABC]", nil}, // too long
		{"Multa [#K7Q2ZPA0]", nil},  // 0 is not a symbol
		{"Multa [# K7Q2ZPAB]", nil},
		{"Multa #K7Q2ZPAB", nil},
		{"", nil},
	} {
		if got := OfficeTokensIn(tc.subject); !slices.Equal(got, tc.want) {
			t.Errorf("OfficeTokensIn(%q) = %q, want %q", tc.subject, got, tc.want)
		}
	}
}

func TestOfficeTokensInReadsAFewAtMost(t *testing.T) {
	var b strings.Builder
	for range 100 {
		b.WriteString(OfficeTokenTag(NewOfficeToken()))
	}
	if got := OfficeTokensIn(b.String()); len(got) != maxOfficeTokens {
		t.Fatalf("a subject of 100 tags gave %d tokens, want %d", len(got), maxOfficeTokens)
	}
}

func TestWithOfficeTokenReplacesOtherTags(t *testing.T) {
	for _, tc := range []struct{ subject, want string }{
		{"[Linea Comune] Inoltro: Multa", "[Linea Comune] Inoltro: Multa [#K7Q2ZPAB]"},
		{"[Linea Comune] Inoltro: Re: Multa [#MMMM2222]", "[Linea Comune] Inoltro: Re: Multa [#K7Q2ZPAB]"},
		{"  ", "[#K7Q2ZPAB]"},
	} {
		if got := WithOfficeToken(tc.subject, "K7Q2ZPAB"); got != tc.want {
			t.Errorf("WithOfficeToken(%q) = %q, want %q", tc.subject, got, tc.want)
		}
	}
}

func TestWithoutOfficeTokens(t *testing.T) {
	text := "Re: Inoltro: Multa [#K7Q2ZPAB]\n> Oggetto: Inoltro: Multa [#k7q2zpab]\nPratica K7Q2ZPAB chiusa. [#MMMM2222]"
	want := "Re: Inoltro: Multa\n> Oggetto: Inoltro: Multa\nPratica […] chiusa. [#MMMM2222]"
	if got := WithoutOfficeTokens(text, []string{"K7Q2ZPAB"}); got != want {
		t.Errorf("WithoutOfficeTokens = %q, want %q", got, want)
	}
	if got := WithoutOfficeTokens("Multa", nil); got != "Multa" {
		t.Errorf("no tokens changed the text: %q", got)
	}
}
