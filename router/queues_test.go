package router

import (
	"testing"
	"time"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/config"
)

func TestMatchDefaultQueues(t *testing.T) {
	q := NewQueues(config.DefaultQueues())
	for _, tc := range []struct {
		comune, category string
		ch               channels.Kind
		want             string
	}{
		{"firenze", "blocco-traffico", channels.SMS, "traffico"},
		{"", "permessi-ztl", channels.Email, "traffico"},
		{"empoli", "contravvenzioni", channels.Phone, "multe"},
		{"firenze", "servizi-generici", channels.Fax, "generale"},
		{"firenze", "", channels.SMS, "generale"},
		{"", "altro", channels.Email, "generale"},
	} {
		if got := q.Match(tc.comune, tc.category, tc.ch); got.ID != tc.want {
			t.Errorf("Match(%q, %q, %q) = %q, want %q", tc.comune, tc.category, tc.ch, got.ID, tc.want)
		}
	}
}

func TestMatchEveryListMustHold(t *testing.T) {
	qs := []config.Queue{
		{ID: "fi-multe-tel", Comuni: []string{"firenze"}, Categories: []string{"contravvenzioni"}, Channels: []string{"phone"}},
		{ID: "fi", Comuni: []string{"firenze", "sesto-fiorentino"}},
		{ID: "scritti", Channels: []string{"email", "fax"}},
		{ID: "generale", Default: true},
		{ID: "ultima"},
	}
	q := NewQueues(qs)
	for _, tc := range []struct {
		comune, category string
		ch               channels.Kind
		want             string
	}{
		{"firenze", "contravvenzioni", channels.Phone, "fi-multe-tel"},
		{"firenze", "contravvenzioni", channels.SMS, "fi"},     // channel list fails
		{"sesto-fiorentino", "altro", channels.Phone, "fi"},    // second comune of the list
		{"empoli", "contravvenzioni", channels.Fax, "scritti"}, // comune list fails
		{"", "contravvenzioni", channels.Phone, "generale"},    // unknown comune matches no list
		{"empoli", "altro", channels.SMS, "generale"},          // nothing: the Default, not the last
	} {
		if got := q.Match(tc.comune, tc.category, tc.ch); got.ID != tc.want {
			t.Errorf("Match(%q, %q, %q) = %q, want %q", tc.comune, tc.category, tc.ch, got.ID, tc.want)
		}
	}

	noDefault := NewQueues([]config.Queue{{ID: "a", Comuni: []string{"x"}}, {ID: "b", Comuni: []string{"y"}}})
	if got := noDefault.Match("z", "", channels.SMS); got.ID != "b" {
		t.Errorf("without a default: %q, want the last queue", got.ID)
	}
	if got := NewQueues(nil).Match("z", "", channels.SMS); got.ID != "" {
		t.Errorf("without queues: %q, want the zero queue", got.ID)
	}
	// The queues are copied: changing the caller's slice changes nothing.
	qs[0].ID = "changed"
	if got, ok := q.ByID("fi-multe-tel"); !ok || got.ID != "fi-multe-tel" {
		t.Errorf("ByID after the caller's change: %+v, %v", got, ok)
	}
}

func TestSLADue(t *testing.T) {
	at := time.Date(2026, 3, 29, 1, 50, 0, 0, time.UTC)
	if got := SLADue(config.Queue{SLAMinutes: 15}, at); !got.Equal(at.Add(15 * time.Minute)) {
		t.Errorf("SLADue = %v", got)
	}
	if got := SLADue(config.Queue{}, at); !got.IsZero() {
		t.Errorf("no SLA: %v, want zero", got)
	}
	if got := SLADue(config.Queue{SLAMinutes: 15}, time.Time{}); !got.IsZero() {
		t.Errorf("unknown receipt time: %v, want zero", got)
	}
}

func TestOverdueAndEscalation(t *testing.T) {
	due := time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC)
	if Overdue(due, due) || Overdue(due.Add(-time.Second), due) || !Overdue(due.Add(time.Nanosecond), due) {
		t.Error("overdue only strictly after the due time")
	}
	if Overdue(due, time.Time{}) {
		t.Error("no SLA is never overdue")
	}

	late := due.Add(time.Minute)
	if p, esc := (Escalation{}).Apply(late, due, 2, false); p != 2+DefaultEscalationStep || !esc {
		t.Errorf("default step: %d, %v", p, esc)
	}
	if p, esc := (Escalation{Step: 3}).Apply(late, due, 2, false); p != 5 || !esc {
		t.Errorf("step 3: %d, %v", p, esc)
	}
	if p, esc := (Escalation{Step: 3}).Apply(late, due, 5, true); p != 5 || !esc {
		t.Errorf("already escalated: %d, %v, want no second raise", p, esc)
	}
	if p, esc := (Escalation{Step: 3}).Apply(due, due, 2, false); p != 2 || esc {
		t.Errorf("on time: %d, %v", p, esc)
	}
}
