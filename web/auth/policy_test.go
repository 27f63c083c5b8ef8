package auth

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckNewPassword(t *testing.T) {
	if n := strings.Count(commonPasswords, "\n"); n != 10000 {
		t.Fatalf("the common list has %d lines, want 10000", n)
	}
	for _, c := range []struct {
		pw, user, code string
	}{
		{"short", "", "too_short"},
		{"ààààààààà", "", "too_short"}, // 9 runes, 18 bytes
		{"1234567890", "", "too_common"},
		{"qwertyuiop", "", "too_common"},
		{"Password2024!", "", "too_common"}, // "password" with digits and a mark
		{"ILOVEYOU12", "", "too_common"},
		{"mario.rossi-2026", "mario.rossi", "too_common"},
		{"correct horse battery", "", ""},
		{"Tramvia-Peretola-7", "rossi", ""},
	} {
		err := CheckNewPassword(c.pw, c.user)
		var pe *PolicyError
		switch {
		case c.code == "" && err != nil:
			t.Errorf("%q refused: %v", c.pw, err)
		case c.code != "" && (!errors.As(err, &pe) || pe.Code != c.code):
			t.Errorf("%q: got %v, want %s", c.pw, err, c.code)
		}
	}
}

func FuzzCheckNewPassword(f *testing.F) {
	for _, s := range []string{"", "password", "Password2024!", "àèìòù", "123456789012", "\x00\xff"} {
		f.Add(s, "mario")
	}
	f.Fuzz(func(t *testing.T, pw, user string) {
		err := CheckNewPassword(pw, user)
		var pe *PolicyError
		if err != nil && !errors.As(err, &pe) {
			t.Fatalf("untyped error %v", err)
		}
		if err == nil && len([]rune(pw)) < MinPasswordLength {
			t.Fatalf("%q accepted though short", pw)
		}
	})
}

func BenchmarkCheckNewPassword(b *testing.B) {
	for b.Loop() {
		if err := CheckNewPassword("Tramvia-Peretola-7", "mario"); err != nil {
			b.Fatal(err)
		}
	}
}
