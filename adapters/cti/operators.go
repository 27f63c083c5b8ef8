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
	// OperatorEnabled: the user exists and may act: the PBX's report of them is recognised.
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

// UserCheck tells the PBX what Sportello made of the user its event named.
type UserCheck struct {
	// UserRecognized is present when the event named a user: false when that is no enabled
	// Sportello user (the call keeps the name as reported, but no operator's inbox follows it).
	UserRecognized *bool `json:"user_recognized,omitempty"`
	// Warning says the same in words, for whoever reads the PBX's logs.
	Warning string `json:"warning,omitempty"`
}

// operatorCheck is the verdict on an event's user.
type operatorCheck struct {
	// operator is what the call records: the user as the PBX reported it (clipped).
	operator string
	status   OperatorStatus
	answer   UserCheck
}

// recognized reports whether the event named an enabled user.
func (o operatorCheck) recognized() bool { return o.status == OperatorEnabled }

// checkOperator looks up the user the event names. Who answered is the PBX's own report, and
// the call keeps it as reported: the PBX authenticated with its token, and a name we do not
// know (an extension, a user not created yet) is still a fact about the call. But a name that
// is no enabled Sportello user is only a name: the answer and a warning in the log say so, and
// the call's record carries a note, so that a PBX sending made-up or stale names is seen at
// once. A screen pop for such a name reaches nobody. What the user's comuni are is not checked:
// a PBX routes its calls by its own rules, the call's comune may still be undecided when it is
// answered, and what a user may see of the call is the inbox's business.
func (h *Handler) checkOperator(ctx context.Context, user string) (operatorCheck, error) {
	if user == "" {
		return operatorCheck{}, nil
	}
	status, err := h.o.Operators.OperatorStatus(ctx, user)
	if err != nil {
		return operatorCheck{}, fmt.Errorf("cti: looking up user %q: %w", clip(user), err)
	}
	check := operatorCheck{operator: clip(user), status: status}
	recognized := check.recognized()
	check.answer.UserRecognized = &recognized
	if !recognized {
		check.answer.Warning = fmt.Sprintf("user %q is not an enabled Sportello user (%s): the call records the name as reported, but no operator's inbox follows it", clip(user), status)
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
