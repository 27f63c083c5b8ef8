package fiscalcode

import (
	"errors"
	"testing"
)

func TestNormalizeAcceptsKnownCodes(t *testing.T) {
	for raw, want := range map[string]string{
		"RSSMRA85T10A562S":      "RSSMRA85T10A562S",
		"rssmra85t10a562s":      "RSSMRA85T10A562S",
		" RSS MRA 85T10 A562S ": "RSSMRA85T10A562S",
		"BNCLRA80A41F205G":      "BNCLRA80A41F205G", // a woman: day 01 + 40
	} {
		got, err := Normalize(raw)
		if err != nil || got != want {
			t.Errorf("Normalize(%q) = %q, %v; want %q", raw, got, err, want)
		}
	}
}

func TestNormalizeRefuses(t *testing.T) {
	for _, raw := range []string{
		"",
		"RSSMRA85T10A562",   // short
		"RSSMRA85T10A562SX", // long
		"RSSMRA85T10A562T",  // wrong check character
		"RSSMRA85Z10A562S",  // no month Z
		"RSSMRA85T00A562S",  // day 00
		"RSSMRA85T32A562S",  // day 32
		"RSSMR185T10A562S",  // digit among the name letters
		"RSSMRA85T10A56ZS",  // Z is not an omocodic letter
		"RSSMRA85T10A562-",  // punctuation
		"RSSMRA85T10A562È",
	} {
		_, err := Normalize(raw)
		if err == nil {
			t.Errorf("Normalize(%q) accepted it", raw)
			continue
		}
		var fe *Error
		if !errors.Is(err, ErrInvalid) || !errors.As(err, &fe) || fe.Reason == "" {
			t.Errorf("Normalize(%q): %v is not a typed refusal", raw, err)
		}
	}
}

func TestCheckCharMatchesTheStandard(t *testing.T) {
	if c := CheckChar("RSSMRA85T10A562"); c != 'S' {
		t.Fatalf("check of RSSMRA85T10A562 = %c, want S", c)
	}
}

func TestOmocodia(t *testing.T) {
	// The last digit (2) replaced by its letter N, and then the 7 of the year's... all seven.
	first := "RSSMRA85T10A56N"
	omo := first + string(CheckChar(first))
	got, err := Normalize(omo)
	if err != nil {
		t.Fatalf("an omocodic code was refused: %v", err)
	}
	if got != omo {
		t.Fatalf("Normalize changed an omocodic code: %q", got)
	}
	canon, err := Canonical(omo)
	if err != nil || canon != "RSSMRA85T10A562S" {
		t.Fatalf("Canonical(%q) = %q, %v; want RSSMRA85T10A562S", omo, canon, err)
	}
	all := "RSSMRAURTMLARSN"
	all += string(CheckChar(all))
	canon, err = Canonical(all)
	if err != nil || canon != "RSSMRA85T10A562S" {
		t.Fatalf("Canonical(%q) = %q, %v; want RSSMRA85T10A562S", all, canon, err)
	}
	// An omocodic letter for the day still has to make a possible day: Q = 4, R = 5 -> 45 = 5th.
	if !Female("RSSMRA85TQRA562X") {
		t.Fatal("day 45 is a woman's")
	}
}
