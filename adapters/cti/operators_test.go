package cti_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/adapters/cti"
	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/ingest"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

// userAnswer is the part of an event's answer that speaks of its user.
type userAnswer struct {
	ContactID      string `json:"contact_id"`
	UserRecognized *bool  `json:"user_recognized"`
	Warning        string `json:"warning"`
}

var operators = fakeOperators{"anna": cti.OperatorEnabled, "bruno": cti.OperatorDisabled}

// The call keeps the user the PBX reported, but only an enabled user is recognised: for an
// unknown or disabled one the answer (still 200: the event was recorded) and a warning in the
// log say so; an event without a user says nothing of it.
func TestOnlyAnEnabledUserIsRecognized(t *testing.T) {
	sink, logs := &recordingSink{}, &syncBuffer{}
	e := serve(t, cti.Options{Sources: []cti.Source{{Name: "pbx-nord", Token: nordToken}}, Operators: operators,
		Sink: sink, Calls: sink, Logger: slog.New(slog.NewTextHandler(logs, nil))}, false)
	for _, c := range []struct {
		event, operator string
		recognized      *bool
		logged          string
	}{
		{`{"event": "newCall", "callId": "c1", "from": "+393471234567", "user": "ghost"}`, "ghost", ptr(false), `user=ghost user_status=unknown`},
		{`{"event": "answer", "callId": "c1", "user": "bruno"}`, "bruno", ptr(false), `user=bruno user_status=disabled`},
		{`{"event": "answer", "callId": "c1", "user": "Anna"}`, "Anna", ptr(false), `user=Anna user_status=unknown`},
		{`{"event": "hangup", "callId": "c1", "user": "anna", "cause": "busy"}`, "anna", ptr(true), `user=anna`},
		{`{"event": "hangup", "callId": "c1"}`, "", nil, `event=hangup call_id=c1 contact_id=c1`},
	} {
		rec := postAs(e, nordToken, "192.0.2.1:5060", c.event)
		var got userAnswer
		if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &got) != nil || got.ContactID != "c1" {
			t.Fatalf("%s: %d %s", c.event, rec.Code, rec.Body)
		}
		if (got.UserRecognized == nil) != (c.recognized == nil) || (got.UserRecognized != nil && *got.UserRecognized != *c.recognized) {
			t.Errorf("%s: user_recognized %v, want %v (%s)", c.event, deref(got.UserRecognized), deref(c.recognized), rec.Body)
		}
		if (c.recognized != nil && !*c.recognized) != strings.Contains(got.Warning, "not an enabled Sportello user") {
			t.Errorf("%s: warning %q", c.event, got.Warning)
		}
		if c.recognized == nil && strings.Contains(rec.Body.String(), "user_recognized") {
			t.Errorf("%s: an event without a user answers about one: %s", c.event, rec.Body)
		}
		if !strings.Contains(logs.String(), c.logged) {
			t.Errorf("%s: the log lacks %q:\n%s", c.event, c.logged, logs)
		}
		var operator string
		if strings.Contains(c.event, "newCall") {
			operator = sink.lastCall().Call.Operator
		} else {
			operator = sink.updates[len(sink.updates)-1].Operator
		}
		if operator != c.operator {
			t.Errorf("%s: recorded operator %q, want %q", c.event, operator, c.operator)
		}
	}
	if !strings.Contains(logs.String(), `level=WARN msg="cti event: the user is not an enabled user; the call records the name as reported" source=pbx-nord event=answer call_id=c1`) {
		t.Errorf("no warning for the disabled user:\n%s", logs)
	}
	// The facts are all there, whoever the PBX named.
	answer, hangup := sink.updates[0], sink.updates[2]
	if answer.AnsweredAt == nil || answer.Status != "in-progress" || hangup.EndedAt == nil || hangup.Status != "completed:busy" {
		t.Errorf("answer %+v, hangup %+v: the call's facts were not recorded", answer, hangup)
	}
	if notes := strings.Join(sink.calls[0].Notes, "\n"); !strings.Contains(notes, `operatore "ghost", che non è un utente attivo di Sportello`) ||
		!strings.Contains(notes, `centralino "pbx-nord"`) {
		t.Errorf("the call's notes: %q", notes)
	}
}

// A user too long to be anyone's name is clipped in the warning, the note and the log.
func TestAnOverlongUserIsClipped(t *testing.T) {
	sink, logs := &recordingSink{}, &syncBuffer{}
	e := serve(t, cti.Options{Sources: []cti.Source{{Token: legacyToken}}, Operators: operators,
		Sink: sink, Calls: sink, Logger: slog.New(slog.NewTextHandler(logs, nil))}, false)
	long := strings.Repeat("è", 5000)
	rec := postAs(e, legacyToken, "192.0.2.1:5060", `{"event": "newCall", "callId": "c1", "from": "+393471234567", "user": "`+long+`"}`)
	if rec.Code != http.StatusOK || len(rec.Body.String()) > 1000 {
		t.Fatalf("%d, %d bytes", rec.Code, len(rec.Body.String()))
	}
	if len(strings.Join(sink.lastCall().Notes, "")) > 300 || len(logs.String()) > 1000 {
		t.Errorf("the user went whole into the note (%d bytes) or the log (%d bytes)", len(strings.Join(sink.lastCall().Notes, "")), len(logs.String()))
	}
}

type failingOperators struct{}

func (failingOperators) OperatorStatus(context.Context, string) (cti.OperatorStatus, error) {
	return cti.OperatorUnknown, errors.New("database unavailable")
}

// When the users cannot be read the event is not half-recorded: it fails, and the PBX retries.
func TestUserLookupFailureRecordsNothing(t *testing.T) {
	sink := &recordingSink{}
	e := serve(t, cti.Options{Sources: []cti.Source{{Token: legacyToken}}, Operators: failingOperators{}, Sink: sink, Calls: sink}, false)
	if rec := postAs(e, legacyToken, "192.0.2.1:5060", `{"event": "answer", "callId": "c1", "user": "anna"}`); rec.Code != http.StatusInternalServerError {
		t.Errorf("%d %s, want 500", rec.Code, rec.Body)
	}
	if rec := postAs(e, legacyToken, "192.0.2.1:5060", `{"event": "hangup", "callId": "c1"}`); rec.Code != http.StatusOK {
		t.Errorf("an event without a user needs no lookup: %d %s", rec.Code, rec.Body)
	}
	if len(sink.updates) != 1 {
		t.Errorf("%d updates recorded, want only the hang-up", len(sink.updates))
	}
}

// On both databases: a call answered and hung up by a name that is no enabled user is an
// answered call with its wait, talk and cause, on the name the PBX reported; the call's record
// notes who reported it and that the name is no user of ours.
func TestUnrecognizedUserLeavesTheCallsFactsRecorded(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		svc, err := ingest.New(ingest.Options{Store: s})
		if err != nil {
			t.Fatal(err)
		}
		defer svc.Close()
		now := time.Date(2026, 2, 3, 9, 2, 0, 0, time.UTC)
		e := serve(t, cti.Options{Sources: []cti.Source{{Name: "pbx-nord", Token: nordToken}}, Operators: operators,
			Sink: svc, Calls: svc, Now: func() time.Time { return now }}, false)
		var contactID string
		for _, event := range []string{
			`{"event": "newCall", "callId": "pbx-9", "from": "+393471234567", "to": "+39055055", "user": "ghost", "timestamp": "2026-02-03T09:00:00Z"}`,
			`{"event": "answer", "callId": "pbx-9", "user": "bruno", "timestamp": "2026-02-03T09:00:10Z"}`,
			`{"event": "hangup", "callId": "pbx-9", "user": "ghost", "cause": "busy", "timestamp": "2026-02-03T09:01:00Z"}`,
		} {
			rec := postAs(e, nordToken, "192.0.2.1:5060", event)
			var got userAnswer
			if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &got) != nil || got.UserRecognized == nil || *got.UserRecognized {
				t.Fatalf("%s: %d %s", event, rec.Code, rec.Body)
			}
			contactID = got.ContactID
		}
		c, err := s.GetContact(context.Background(), contactID, store.Scope{})
		if err != nil || c.Call == nil {
			t.Fatalf("contact %+v %v", c, err)
		}
		call := c.Call
		if call.Status != "completed:busy" || call.Result == nil || *call.Result != channels.CallAnswered || call.AnsweredAt == nil ||
			call.WaitSeconds == nil || *call.WaitSeconds != 10 || call.TalkSeconds == nil || *call.TalkSeconds != 50 {
			t.Errorf("call %+v (result %v, wait %v, talk %v), want completed:busy, answered, wait 10, talk 50",
				call, deref(call.Result), deref(call.WaitSeconds), deref(call.TalkSeconds))
		}
		if call.Operator != "ghost" || call.AnsweredBy == nil || *call.AnsweredBy != "ghost" {
			t.Errorf("the call is on %q (answered by %v), want the name the PBX reported last", call.Operator, deref(call.AnsweredBy))
		}
		if len(c.Messages) == 0 {
			t.Fatal("the call has no message")
		}
		notes := strings.Join(c.Messages[0].Notes, "\n")
		if !strings.Contains(notes, `centralino "pbx-nord"`) || !strings.Contains(notes, `operatore "ghost"`) {
			t.Errorf("the call's notes: %q", notes)
		}
	})
}

func ptr[T any](v T) *T { return &v }
