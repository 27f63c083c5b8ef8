package auth

import (
	_ "embed"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MinPasswordLength is the shortest password a user may choose (characters, not bytes).
const MinPasswordLength = 10

// commonPasswords is the 10,000 most common passwords of public leaks, most common first, one a
// line: zxcvbn's "passwords" frequency list (MIT, Dropbox), cut at 10,000.
//
//go:embed common_passwords.txt
var commonPasswords string

// PolicyError says why a new password is refused: "too_short" or "too_common".
type PolicyError struct {
	Code string
	Min  int
}

func (e *PolicyError) Error() string {
	if e.Code == "too_short" {
		return "the password must have at least " + strconv.Itoa(e.Min) + " characters"
	}
	return "the password is one of the most common passwords, or the username: choose another"
}

// CheckNewPassword refuses a password a user may not choose: shorter than MinPasswordLength,
// the username itself, or on the common list (compared without case, and without trailing
// digits and punctuation, so "Password2024!" counts as "password").
func CheckNewPassword(password, username string) error {
	if utf8.RuneCountInString(password) < MinPasswordLength {
		return &PolicyError{Code: "too_short", Min: MinPasswordLength}
	}
	p := strings.ToLower(strings.TrimSpace(password))
	if utf8.RuneCountInString(username) >= 4 && strings.Contains(p, strings.ToLower(username)) {
		return &PolicyError{Code: "too_common"}
	}
	if isCommon(p) {
		return &PolicyError{Code: "too_common"}
	}
	if base := strings.TrimRight(p, "0123456789!?.@#$%&*_-+ "); base != p && utf8.RuneCountInString(base) >= 4 && isCommon(base) {
		return &PolicyError{Code: "too_common"}
	}
	return nil
}

// isCommon looks p up in the list: one substring search of the 80 KB list for the line, no
// index kept in memory (the check runs only when a password is set).
func isCommon(p string) bool {
	return p != "" && (strings.HasPrefix(commonPasswords, p+"\n") || strings.Contains(commonPasswords, "\n"+p+"\n"))
}
