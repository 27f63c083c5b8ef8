package channels

import (
	"strings"
	"testing"
)

var officeTokenSeeds = []string{
	"Re: [Linea Comune] Inoltro: Multa [#K7Q2ZPAB]", "R: [#k7q2zpab]", "[#[#AAAAAAAA]BBBBBBBB]", "[#K7Q2ZPA0]",
	"[Ticket#12345] Multa", "[#", "[#]", "", "[#AAAAAAAA][#BBBBBBBB][#CCCCCCCC]", "[#ÀAAAAAAA]", "K7Q2K7Q2ZPABZPAB",
	"Inoltro \u212a7Q2ZPAB", "=?utf-8?q?Multa_[#K7Q2ZPAB]?=",
}

// Reading tokens never panics, reads only tokens, and reads back what WithOfficeToken wrote,
// alone: the tag of any other office is gone.
func FuzzOfficeTokensIn(f *testing.F) {
	for _, s := range officeTokenSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, subject string) {
		got := OfficeTokensIn(subject)
		if len(got) > maxOfficeTokens {
			t.Fatalf("OfficeTokensIn(%q) read %d tokens", subject, len(got))
		}
		for _, tok := range got {
			if !isOfficeToken(tok) || tok != strings.ToUpper(tok) || !strings.Contains(strings.ToUpper(subject), OfficeTokenTag(tok)) {
				t.Fatalf("OfficeTokensIn(%q) read %q", subject, tok)
			}
		}
		if left := OfficeTokensIn(WithoutOfficeTokenTags(subject)); len(left) != 0 {
			t.Fatalf("WithoutOfficeTokenTags(%q) left %q", subject, left)
		}
		const ours = "K7Q2ZPAB"
		if got := OfficeTokensIn(WithOfficeToken(subject, ours)); len(got) != 1 || got[0] != ours {
			t.Fatalf("WithOfficeToken(%q) reads back as %q", subject, got)
		}
	})
}

// What WithoutOfficeTokens leaves holds the token in no case, tagged or bare, however the text
// nests it ("K7Q2K7Q2ZPABZPAB").
func FuzzWithoutOfficeTokens(f *testing.F) {
	for i, s := range officeTokenSeeds {
		f.Add(s, uint64(i))
	}
	f.Fuzz(func(t *testing.T, text string, seed uint64) {
		token := make([]byte, OfficeTokenLength)
		for i := range token {
			token[i] = officeTokenAlphabet[seed%uint64(len(officeTokenAlphabet))]
			seed /= uint64(len(officeTokenAlphabet))
		}
		// The seed's token written into the text, whole and in halves, so the fuzzer starts near it.
		text = string(token[:4]) + text + string(token) + strings.ToLower(string(token[4:])) + text
		got := WithoutOfficeTokens(text, []string{string(token)})
		if strings.Contains(upperASCIIOnly(got), string(token)) {
			t.Fatalf("WithoutOfficeTokens(%q, %q) = %q", text, token, got)
		}
	})
}

// upperASCIIOnly is strings.ToUpper for ASCII letters alone ("ſ" stays, unlike in ToUpper).
func upperASCIIOnly(s string) string {
	b := []byte(s)
	for i, c := range b {
		b[i] = upperASCII(c)
	}
	return string(b)
}
