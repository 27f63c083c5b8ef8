// Package fiscalcode reads Italian codici fiscali of persons: 16 characters whose last is a
// check character over the first 15. It is pure: no I/O, no state.
//
// Omocodia: when two people would get the same code, the revenue agency replaces digits of the
// later one, from the right, with letters (0-9 become L M N P Q R S T U V). Such a code is as
// valid as any other and its check character is computed over the letters, so it is accepted
// as written; Canonical recovers the digits.
package fiscalcode

import (
	"errors"
	"fmt"
	"strings"
)

// Length is the length of a person's codice fiscale.
const Length = 16

// ErrInvalid is what every refusal wraps (errors.Is(err, ErrInvalid)).
var ErrInvalid = errors.New("invalid codice fiscale")

// Error says why a string is not a codice fiscale.
type Error struct {
	Reason string
}

func (e *Error) Error() string { return "invalid codice fiscale: " + e.Reason }

// Is makes every *Error match ErrInvalid.
func (e *Error) Is(target error) bool { return target == ErrInvalid }

func invalid(format string, args ...any) error {
	return &Error{Reason: fmt.Sprintf(format, args...)}
}

// omocodici are the letters that replace the digits 0-9 in an omocodic code.
const omocodici = "LMNPQRSTUV"

// months are the letters of January..December.
const months = "ABCDEHLMPRST"

// digitPositions are the positions (0-based) that hold digits, or their omocodic letters.
var digitPositions = [...]int{6, 7, 9, 10, 12, 13, 14}

// oddValues are the values of the characters at odd positions (1-based) in the check sum,
// indexed by letter (A-Z); a digit counts as the letter at its index (0 = A).
var oddValues = [26]int{1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23}

// Normalize reads a codice fiscale as typed (spaces anywhere, any case) and returns it in
// upper case without spaces, or an *Error saying what is wrong: the length, a character in the
// wrong place, an impossible month or day, or a check character that does not match.
func Normalize(raw string) (string, error) {
	if len(raw) > 64 {
		return "", invalid("too long")
	}
	var b strings.Builder
	for _, r := range raw {
		switch {
		case r == ' ' || r == '\t':
			continue
		case r >= 'a' && r <= 'z':
			r -= 'a' - 'A'
		case (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9'):
		default:
			return "", invalid("character %q is not a letter or a digit", r)
		}
		b.WriteRune(r)
	}
	cf := b.String()
	if len(cf) != Length {
		return "", invalid("%d characters instead of %d", len(cf), Length)
	}
	for i := 0; i < 6; i++ {
		if !isLetter(cf[i]) {
			return "", invalid("character %d must be a letter", i+1)
		}
	}
	if !isLetter(cf[8]) || strings.IndexByte(months, cf[8]) < 0 {
		return "", invalid("character 9 is not a month letter (%s)", months)
	}
	if !isLetter(cf[11]) {
		return "", invalid("character 12 must be a letter")
	}
	for _, p := range digitPositions {
		if !isDigit(cf[p]) && strings.IndexByte(omocodici, cf[p]) < 0 {
			return "", invalid("character %d must be a digit (or one of %s)", p+1, omocodici)
		}
	}
	if !isLetter(cf[15]) {
		return "", invalid("character 16 must be a letter")
	}
	day := digitValue(cf[9])*10 + digitValue(cf[10])
	if day > 40 {
		day -= 40
	}
	if day < 1 || day > 31 {
		return "", invalid("day of birth %02d is impossible", day)
	}
	if want := CheckChar(cf[:15]); cf[15] != want {
		return "", invalid("check character is %c, should be %c", cf[15], want)
	}
	return cf, nil
}

// Valid reports whether raw is a codice fiscale (Normalize accepts it).
func Valid(raw string) bool {
	_, err := Normalize(raw)
	return err == nil
}

// CheckChar computes the check character of the first 15 characters of a code (upper-case
// letters and digits; anything else counts as zero).
func CheckChar(first15 string) byte {
	sum := 0
	for i := 0; i < 15 && i < len(first15); i++ {
		c := first15[i]
		idx := 0
		switch {
		case isDigit(c):
			idx = int(c - '0')
		case isLetter(c):
			idx = int(c - 'A')
		}
		if i%2 == 0 { // 1-based odd
			sum += oddValues[idx]
		} else {
			sum += idx
		}
	}
	return byte('A' + sum%26)
}

// Canonical returns a valid code with its omocodic letters turned back into digits (the check
// character recomputed), the form that identifies the person across substitutions. Codes that
// Normalize refuses are refused here too.
func Canonical(raw string) (string, error) {
	cf, err := Normalize(raw)
	if err != nil {
		return "", err
	}
	b := []byte(cf)
	for _, p := range digitPositions {
		if i := strings.IndexByte(omocodici, b[p]); i >= 0 {
			b[p] = byte('0' + i)
		}
	}
	b[15] = CheckChar(string(b[:15]))
	return string(b), nil
}

// Female reports whether the code belongs to a woman (day of birth plus 40).
func Female(cf string) bool {
	return len(cf) == Length && digitValue(cf[9]) >= 4
}

func isLetter(c byte) bool { return c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }

// digitValue reads a digit or its omocodic letter.
func digitValue(c byte) int {
	if isDigit(c) {
		return int(c - '0')
	}
	if i := strings.IndexByte(omocodici, c); i >= 0 {
		return i
	}
	return 0
}
