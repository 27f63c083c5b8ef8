package alerts

import (
	"reflect"
	"strings"
	"testing"
	"unicode"
)

func TestParseCommand(t *testing.T) {
	cases := []struct {
		body string
		kind CommandKind
		lang string
		args []string
	}{
		{"ISCRIVI", CmdSubscribe, "it", nil},
		{"  iscrivi Firenze traffico", CmdSubscribe, "it", []string{"firenze", "traffico"}},
		{"Subscribe empoli", CmdSubscribe, "en", []string{"empoli"}},
		{"Sì", CmdConfirm, "it", nil},
		{"SÌ!", CmdConfirm, "it", nil},
		{"si", CmdConfirm, "it", nil},
		{"YES", CmdConfirm, "en", nil},
		{"Stop", CmdStop, "it", nil},
		{"STOP.", CmdStop, "it", nil},
		{"cancella", CmdStop, "it", nil},
		{"ANNULLA tutto", CmdStop, "it", []string{"tutto"}},
		{"unsubscribe", CmdStop, "en", nil},
		{"BLOCCO", CmdTraffic, "it", nil},
		{"Traffico domani a Empoli?", CmdTraffic, "it", []string{"domani", "a", "empoli"}},
		{"aiuto", CmdHelp, "it", nil},
		{"INFO", CmdHelp, "it", nil},
		{"Help", CmdHelp, "en", nil},
		{"Buongiorno, volevo sapere del blocco", NotACommand, "", nil},
		{"stoppare la multa", NotACommand, "", nil},
		{"", NotACommand, "", nil},
		{"   ", NotACommand, "", nil},
		{"ⓈⓉⓄⓅ", CmdStop, "it", nil},
		{"ＳＴＯＰ", CmdStop, "it", nil},
		{"ｓｉ", CmdConfirm, "it", nil},
		{"\u202eSI\u202c", CmdConfirm, "it", nil},
		{" yes. ", CmdConfirm, "en", nil},
		{"Sì, confermo l'appuntamento di domani", NotACommand, "", nil},
		{"si grazie", NotACommand, "", nil},
		{"Sì 👍", NotACommand, "", nil},
		{"YES YES", NotACommand, "", nil},
	}
	for _, c := range cases {
		got := ParseCommand(c.body)
		if got.Kind != c.kind || got.Lang != c.lang || !sameWords(got.Args, c.args) {
			t.Errorf("ParseCommand(%q) = %+v, want kind %v lang %q args %q", c.body, got, c.kind, c.lang, c.args)
		}
	}
}

func TestMatchComuneLongestName(t *testing.T) {
	f := newFixture(t, 1000, 100)
	cases := []struct {
		words  []string
		comune string
		rest   []string
	}{
		{[]string{"sesto", "fiorentino", "traffico"}, "sesto-fiorentino", []string{"traffico"}},
		{[]string{"sesto", "traffico"}, "sesto-fiorentino", []string{"traffico"}},
		{[]string{"al", "comune", "di", "firenze"}, "firenze", []string{}},
		{[]string{"fi", "scuole"}, "firenze", []string{"scuole"}},
		{[]string{"traffico"}, "", []string{"traffico"}},
	}
	for _, c := range cases {
		got, rest, ok := matchComune(f.svc.names, c.words)
		if got != c.comune || (ok && !sameWords(rest, c.rest)) {
			t.Errorf("matchComune(%q) = %q %q %v, want %q %q", c.words, got, rest, ok, c.comune, c.rest)
		}
	}
	if got := findComune(f.svc.names, []string{"domani", "a", "empoli", "blocco"}); got != "empoli" {
		t.Errorf("findComune = %q", got)
	}
}

func sameWords(a, b []string) bool { return len(a) == 0 && len(b) == 0 || reflect.DeepEqual(a, b) }

func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{"ISCRIVI FIRENZE TRAFFICO", "Sì", "stop", "BLOCCO empoli", "È\u0300", "\xff\xfe", "help me"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		c := ParseCommand(body)
		if c.Kind == NotACommand && (c.Keyword != "" || len(c.Args) > 0) {
			t.Fatalf("not a command but %+v", c)
		}
		if c.Kind != NotACommand && c.Lang != "it" && c.Lang != "en" {
			t.Fatalf("language %q", c.Lang)
		}
		// The keyword is the first folded word, whatever the case and accents.
		if c.Kind != NotACommand && foldWords(body)[0] != c.Keyword {
			t.Fatalf("keyword %q is not the first word of %q", c.Keyword, body)
		}
	})
}

func FuzzFoldWords(f *testing.F) {
	for _, s := range []string{"ＳＴＯＰ", "Sì, confermo", "ⓈⓉⓄⓅ", "Bagno a Ripoli", "\u202eIS\u202c", "ﬁne", "İstanbul", "e\u0301", "x\x00y", "١٢٣"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		words := foldWords(text)
		for _, w := range words {
			if w == "" {
				t.Fatalf("empty word in %q", words)
			}
			for _, r := range w {
				if !unicode.IsLetter(r) && !unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) {
					t.Fatalf("%q holds %U", w, r)
				}
			}
		}
		// Folding is a fixed point: the folded words fold to themselves.
		if again := foldWords(strings.Join(words, " ")); !reflect.DeepEqual(again, words) && len(strings.Join(words, " ")) <= maxCommandBytes {
			t.Fatalf("fold(%q) = %q, refolded %q", text, words, again)
		}
	})
}

func FuzzConfirmWord(f *testing.F) {
	for _, s := range []string{"Sì", "SÌ!", " yes. ", "si grazie", "Sì, confermo l'appuntamento", "Sì 👍", "ｓｉ", "\u200bsi\u200b", "s\u0301i", "YES YES", "si\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		c := ParseCommand(body)
		if c.Kind != CmdConfirm {
			return
		}
		// A confirmation is one word, and nothing but punctuation, spaces and invisible
		// characters around it.
		words := foldWords(body)
		if len(words) != 1 || (words[0] != "si" && words[0] != "yes") || len(c.Args) != 0 || !isBare(body) {
			t.Fatalf("%q confirms: words %q", body, words)
		}
		for _, r := range normalize(body) {
			if unicode.IsSymbol(r) {
				t.Fatalf("%q confirms despite the symbol %U", body, r)
			}
		}
		// Adding a word always makes it a message for the operators.
		if ParseCommand(body+" domani").Kind == CmdConfirm {
			t.Fatalf("%q plus a word still confirms", body)
		}
	})
}
