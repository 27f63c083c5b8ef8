package router

import (
	"errors"
	"testing"

	"github.com/sportello/sportello/config"
)

func demoConfig(t testing.TB) *config.Config {
	t.Helper()
	c, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func demoResolver(t testing.TB) *ComuneResolver {
	t.Helper()
	r, err := NewComuneResolver(demoConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestByAddress(t *testing.T) {
	r := demoResolver(t)
	for _, tc := range []struct {
		to     string
		comune string
		shared bool
	}{
		{"+390552768000", "firenze", false},
		{"0552768000", "firenze", false},              // national form
		{"+39 055 449601", "sesto-fiorentino", false}, // spaced
		{"sip:+39055600501@pbx.local", "bagno-a-ripoli", false},
		{"urp@comune.empoli.fi.it", "empoli", false},
		{"URP@Comune.Fi.It", "firenze", false},
		{"Linea Comune <urp@comune.sesto-fiorentino.fi.it>", "sesto-fiorentino", false},
		{"+39055055", "", true},
		{"055055", "", true},
		{"+390551234567", "", false},
		{"altro@comune.fi.it", "", false},
		{"", "", false},
		{"anonymous", "", false},
	} {
		comune, shared := r.ByAddress(tc.to)
		if comune != tc.comune || shared != tc.shared {
			t.Errorf("ByAddress(%q) = %q, %v; want %q, %v", tc.to, comune, shared, tc.comune, tc.shared)
		}
	}
}

func TestInText(t *testing.T) {
	r := demoResolver(t)
	for text, want := range map[string]string{
		"Abito a Sesto Fiorentino, domenica c'è il blocco?": "sesto-fiorentino",
		"SESTO FIORENTINO":                "sesto-fiorentino",
		"multa presa a sesto":             "sesto-fiorentino",
		"sesto-fiorentino":                "sesto-fiorentino",
		"sono di Bagno a Ripoli":          "bagno-a-ripoli",
		"bagno-a-ripoli: orari anagrafe?": "bagno-a-ripoli",
		"Comune di Empoli":                "empoli",
		"empolese":                        "", // whole words only
		"ZTL Firenze centro":              "firenze",
		"fi":                              "firenze",
		"Firenze o Empoli?":               "firenze", // the first one named
		"Sesto Fiorentino (FI)":           "sesto-fiorentino",
		"è il sesto verbale che ricevo":   "sesto-fiorentino", // aliases are literal
		"Grazie, buona giornata":          "",
		"":                                "",
		"FIRENZÈ":                         "firenze",
		"fiorentino":                      "",
	} {
		if got := r.InText(text); got != want {
			t.Errorf("InText(%q) = %q, want %q", text, got, want)
		}
	}
}

func TestInTextSharedNameDecidesNothing(t *testing.T) {
	cfg := &config.Config{Comuni: []config.Comune{
		{ID: "sesto-fiorentino", Name: "Comune di Sesto Fiorentino", Aliases: []string{"sesto"}},
		{ID: "sesto-san-giovanni", Name: "Comune di Sesto San Giovanni", Aliases: []string{"sesto"}},
	}}
	r, err := NewComuneResolver(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for text, want := range map[string]string{
		"sesto":                          "",
		"Sesto San Giovanni":             "sesto-san-giovanni",
		"a sesto, cioè sesto fiorentino": "sesto-fiorentino",
	} {
		if got := r.InText(text); got != want {
			t.Errorf("InText(%q) = %q, want %q", text, got, want)
		}
	}
}

func TestNewComuneResolverRejectsAddressOfTwoComuni(t *testing.T) {
	cfg := &config.Config{Comuni: []config.Comune{
		{ID: "a", Name: "A", EmailAddresses: []string{"urp@x.it"}},
		{ID: "b", Name: "B", EmailAddresses: []string{"URP@x.it"}},
	}}
	_, err := NewComuneResolver(cfg)
	var ae *AddressError
	if !errors.As(err, &ae) || ae.Address != "urp@x.it" {
		t.Fatalf("error %v, want an *AddressError for urp@x.it", err)
	}
}

func FuzzInText(f *testing.F) {
	for _, s := range []string{"Sesto Fiorentino", "bagno a ripoli", "Comune di Empoli", "fi", "sesto sesto", "bagno a"} {
		f.Add(s)
	}
	r := demoResolver(f)
	valid := map[string]bool{"": true, "firenze": true, "sesto-fiorentino": true, "bagno-a-ripoli": true, "empoli": true}
	f.Fuzz(func(t *testing.T, text string) {
		got := r.InText(text)
		if !valid[got] {
			t.Fatalf("InText(%q) = %q", text, got)
		}
		// A name written first in a text decides.
		if got := r.InText("Empoli " + text); got != "empoli" {
			t.Fatalf("InText(Empoli + %q) = %q", text, got)
		}
	})
}

func FuzzByAddress(f *testing.F) {
	for _, s := range []string{"+390552768000", "055055", "urp@comune.fi.it", "<a@b>", "sip:+39055@pbx", "tel:+39", "@", "00390552768000"} {
		f.Add(s)
	}
	r := demoResolver(f)
	f.Fuzz(func(t *testing.T, to string) {
		comune, shared := r.ByAddress(to)
		if shared && comune != "" {
			t.Fatalf("ByAddress(%q) = %q and shared", to, comune)
		}
	})
}
