package desk

import (
	"errors"
	"strings"
	"testing"
)

func TestExpandPlaceholders(t *testing.T) {
	vals := map[string]string{"name": "Anna", "comune": "Comune di Firenze", "office": "Polizia Municipale", "hours": "dalle 8 alle 20"}
	for in, want := range map[string]string{
		"Gentile {nome}, {comune} risponde {orari}.": "Gentile Anna, Comune di Firenze risponde dalle 8 alle 20.",
		"Dear {name}, ask the {office} ({ufficio})":  "Dear Anna, ask the Polizia Municipale (Polizia Municipale)",
		"{ } {} {Nome} {a b} {":                      "{ } {} {Nome} {a b} {",
		"no placeholders":                            "no placeholders",
	} {
		got, err := expandPlaceholders(in, vals)
		if err != nil || got != want {
			t.Errorf("%q → %q, %v; want %q", in, got, err, want)
		}
	}
	var pe *PlaceholderError
	if _, err := expandPlaceholders("Buongiorno {cognome}", vals); !errors.As(err, &pe) || pe.Name != "cognome" {
		t.Fatalf("unknown placeholder: %v", err)
	}
}

func FuzzExpandPlaceholders(f *testing.F) {
	for _, s := range []string{"Gentile {nome}", "{orari}{hours}", "{", "}{", "{{nome}}", "{xyz}", "{nome"} {
		f.Add(s)
	}
	vals := map[string]string{"name": "N", "comune": "C", "office": "O", "hours": "H"}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := expandPlaceholders(s, vals)
		if err != nil {
			var pe *PlaceholderError
			if !errors.As(err, &pe) || !strings.Contains(s, "{"+pe.Name+"}") {
				t.Fatalf("%q: %v", s, err)
			}
			return
		}
		// Expanding is idempotent once no known placeholder is left: values hold no braces.
		if again, err := expandPlaceholders(out, vals); err != nil || again != out {
			t.Fatalf("%q → %q → %q, %v", s, out, again, err)
		}
		if !strings.Contains(s, "{") && out != s {
			t.Fatalf("%q without braces changed to %q", s, out)
		}
	})
}
