package cti

import (
	"context"
	"fmt"
	"unicode/utf8"
)

// OperatorStatus is what Sportello knows of the user a PBX names.
type OperatorStatus int

const (
	// OperatorUnknown: no such user, or one that was deleted.
	OperatorUnknown OperatorStatus = iota
	// OperatorDisabled: the user exists but may not act.
	OperatorDisabled
	// OperatorEnabled: the user may be recorded as the call's operator.
	OperatorEnabled
)

func (s OperatorStatus) String() string {
	switch s {
	case OperatorEnabled:
		return "enabled"
	case OperatorDisabled:
		return "disabled"
	}
	return "unknown"
}

// Operators tells what the `user` of an event (a username) names.
type Operators interface {
	OperatorStatus(ctx context.Context, username string) (OperatorStatus, error)
}

// UserCheck tells the PBX what became of the user its event named.
type UserCheck struct {
	// UserRecognized is present when the event named a user: false when that is no enabled
	// Sportello user, and the call was recorded without an operator.
	UserRecognized *bool `json:"user_recognized,omitempty"`
	// Warning says the same in words, for whoever reads the PBX's logs.
	Warning string `json:"warning,omitempty"`
}

// operatorCheck is the verdict on an event's user.
type operatorCheck struct {
	// operator is what the call records: the user, or "" when not recognised.
	operator string
	status   OperatorStatus
	answer   UserCheck
}

// checkOperator looks up the user the event names. Only an existing, enabled user becomes the
// call's operator: the operator's answered calls, talk time and screen pops come from it, and
// a PBX (or whoever holds its token) must not be able to put a call on a made-up name or on
// someone disabled. What the user's comuni are is not checked: a PBX routes its calls by its
// own rules, the call's comune may still be undecided when it is answered, and who talked to
// the caller is a fact the PBX knows better than Sportello; what a user may see of the call is
// the inbox's business (a screen pop outside the user's comuni shows nothing).
func (h *Handler) checkOperator(ctx context.Context, user string) (operatorCheck, error) {
	if user == "" {
		return operatorCheck{}, nil
	}
	status, err := h.o.Operators.OperatorStatus(ctx, user)
	if err != nil {
		return operatorCheck{}, fmt.Errorf("cti: looking up user %q: %w", clip(user), err)
	}
	recognized := status == OperatorEnabled
	check := operatorCheck{status: status, answer: UserCheck{UserRecognized: &recognized}}
	if recognized {
		check.operator = user
	} else {
		check.answer.Warning = fmt.Sprintf("user %q is not an enabled Sportello user: the call is recorded without an operator", clip(user))
	}
	return check, nil
}

// maxShownUser bounds how much of a PBX's user goes into logs, notes and answers: anything
// longer names nobody.
const maxShownUser = 64

func clip(s string) string {
	if len(s) <= maxShownUser {
		return s
	}
	cut := maxShownUser
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
