package alerts

import (
	"reflect"
	"testing"
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
