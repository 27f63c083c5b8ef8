package desk_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/desk"
	"github.com/sportello/sportello/router"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

func ptr(s string) *string { return &s }

func TestCannedSeedScopeAndAudit(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		ctx := context.Background()
		admin := f.user("admin", store.RoleAdmin)
		fiSup := f.user("fi-sup", store.RoleSupervisor, "firenze")
		fiOp := f.user("fi-op", store.RoleOperator, "firenze")
		// Seeded once: a second start, or one after the admins deleted them all, adds nothing.
		for range 2 {
			if err := f.d.SeedCanned(ctx); err != nil {
				t.Fatal(err)
			}
		}
		shared, err := f.d.ListCanned(ctx, admin, "", "")
		if err != nil || len(shared) != 6 {
			t.Fatalf("seeded %d answers (%v), want the 6 built-in ones", len(shared), err)
		}
		for _, c := range shared {
			if c.Comune != nil || c.TextEN == "" || c.Segments.IT.Segments < 1 || c.Segments.EN == nil {
				t.Fatalf("a built-in answer: %+v", c)
			}
		}
		if st, _ := deskCode(t, func() error {
			_, err := f.d.UpdateCanned(ctx, fiSup, shared[0].ID, desk.CannedInput{Title: "x", TextIT: "y"})
			return err
		}()); st != 403 {
			t.Fatalf("a comune's supervisor changed a shared answer: %d", st)
		}
		emp, err := f.d.CreateCanned(ctx, admin, desk.CannedInput{Title: "Empoli", TextIT: "Solo Empoli, {nome}", Comune: ptr("empoli"), Channels: []string{"sms"}})
		if err != nil {
			t.Fatal(err)
		}
		fi, err := f.d.CreateCanned(ctx, fiSup, desk.CannedInput{Title: "Firenze", TextIT: "Gentile {nome}, {comune} risponde {orari}. È così.",
			TextEN: "Dear {name}, the {comune} answers {hours}.", Comune: ptr("firenze"), Channels: []string{"sms", "email", "sms"}})
		if err != nil {
			t.Fatal(err)
		}
		if fi.Segments.IT.Encoding != "UCS-2" || strings.Join(fi.Channels, ",") != "email,sms" {
			t.Fatalf("created: %+v", fi)
		}
		// Out of scope is a 404 for every verb; bad input a 400.
		for name, err := range map[string]error{
			"get": func() error { _, err := f.d.GetCanned(ctx, fiSup, emp.ID); return err }(),
			"update": func() error {
				_, err := f.d.UpdateCanned(ctx, fiSup, emp.ID, desk.CannedInput{Title: "x", TextIT: "y", Comune: ptr("firenze")})
				return err
			}(),
			"delete": f.d.DeleteCanned(ctx, fiSup, emp.ID),
			"create": func() error {
				_, err := f.d.CreateCanned(ctx, fiSup, desk.CannedInput{Title: "x", TextIT: "y", Comune: ptr("empoli")})
				return err
			}(),
			"list": func() error { _, err := f.d.ListCanned(ctx, fiSup, "empoli", ""); return err }(),
		} {
			if st, _ := deskCode(t, err); st != 404 {
				t.Errorf("%s of an Empoli answer by a Firenze supervisor: %d, want 404", name, st)
			}
		}
		if st, code := deskCode(t, func() error {
			_, err := f.d.CreateCanned(ctx, fiSup, desk.CannedInput{Title: "x", TextIT: "{cognome}", Comune: ptr("firenze")})
			return err
		}()); st != 400 || code != "invalid_placeholder" {
			t.Fatalf("unknown placeholder: %d %s", st, code)
		}
		if st, _ := deskCode(t, func() error {
			_, err := f.d.CreateCanned(ctx, fiSup, desk.CannedInput{Title: "x", TextIT: "y", Comune: ptr("firenze"), Channels: []string{"pigeon"}})
			return err
		}()); st != 400 {
			t.Fatalf("unknown channel: %d", st)
		}
		list, err := f.d.ListCanned(ctx, fiOp, "", "")
		if err != nil || len(list) != 7 {
			t.Fatalf("a Firenze operator sees %d answers (%v), want 6 shared + 1 of Firenze", len(list), err)
		}
		// The picker: a Firenze SMS gets the shared answers and Firenze's, placeholders filled.
		r := f.text(mobile, "+390552768000", "buongiorno, la ztl")
		picked, err := f.d.CannedFor(ctx, f.contact(r.ContactID))
		if err != nil || len(picked) != 7 {
			t.Fatalf("picked %d (%v)", len(picked), err)
		}
		var body string
		for _, p := range picked {
			if p.ID == fi.ID {
				body = p.Body
			}
			if p.ID == emp.ID {
				t.Fatal("Empoli's answer offered for a Firenze contact")
			}
		}
		if !strings.Contains(body, "Comune di Firenze risponde dal lunedì al sabato dalle 8:00 alle 20:00") {
			t.Fatalf("rendered: %q", body)
		}
		if _, err := f.d.UpdateCanned(ctx, fiSup, fi.ID, desk.CannedInput{Title: "Firenze 2", TextIT: "Testo", Comune: ptr("firenze"), Channels: []string{"email"}}); err != nil {
			t.Fatal(err)
		}
		if picked, _ := f.d.CannedFor(ctx, f.contact(r.ContactID)); len(picked) != 6 {
			t.Fatalf("an email-only answer is offered for an SMS: %d", len(picked))
		}
		if err := f.d.DeleteCanned(ctx, fiSup, fi.ID); err != nil {
			t.Fatal(err)
		}
		for _, action := range []string{desk.AuditCannedCreate, desk.AuditCannedUpdate, desk.AuditCannedDelete} {
			log, _, err := s.AuditLog(ctx, store.AuditFilter{Action: action, Actor: "fi-sup"})
			if err != nil || len(log) != 1 || log[0].Target != fi.ID || !strings.Contains(log[0].Detail, "comune=firenze") {
				t.Fatalf("audit %s: %+v %v", action, log, err)
			}
		}
	})
}

// An edited holiday closes the desk: an SMS that day gets the closed-hours answer.
func TestEditedHolidaySendsClosedAnswer(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		ctx := context.Background()
		if err := f.d.SeedCalendars(ctx); err != nil {
			t.Fatal(err)
		}
		admin := f.user("admin", store.RoleAdmin)
		fiSup := f.user("fi-sup", store.RoleSupervisor, "firenze")
		cal, err := f.d.Calendar(ctx, admin, "firenze")
		if err != nil || !cal.Edited || len(cal.Holidays) < 12 {
			t.Fatalf("seeded calendar: %+v %v", cal, err)
		}
		// openTime is Wednesday 25 November 2026, 10:00 in Rome: open.
		in := channels.InboundMessage{Channel: channels.SMS, ExternalID: "SM1", From: mobile, To: "+390552768000", Body: "buongiorno"}
		r, err := f.in.Receive(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if got := f.d.AutoReplySMS(ctx, in, r); got != "" {
			t.Fatalf("answered while open: %q", got)
		}
		if st, _ := deskCode(t, func() error { _, err := f.d.SetCalendar(ctx, fiSup, "firenze", cal.Calendar); return err }()); st != 403 {
			t.Fatalf("a supervisor edited the hours: %d", st)
		}
		bad := cal.Calendar
		bad.Holidays = append(append([]router.NamedHoliday(nil), bad.Holidays...), router.NamedHoliday{Rule: "31-12"})
		if st, code := deskCode(t, func() error { _, err := f.d.SetCalendar(ctx, admin, "firenze", bad); return err }()); st != 400 || code != "invalid_holiday" {
			t.Fatalf("bad rule: %d %s", st, code)
		}
		edited := cal.Calendar
		edited.Holidays = append(append([]router.NamedHoliday(nil), edited.Holidays...), router.NamedHoliday{Rule: "2026-11-25", Name: "Chiusura straordinaria"})
		got, err := f.d.SetCalendar(ctx, admin, "firenze", edited)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Upcoming) == 0 || got.Upcoming[0] != (desk.UpcomingHoliday{Date: "2026-11-25", Name: "Chiusura straordinaria"}) {
			t.Fatalf("upcoming: %+v", got.Upcoming)
		}
		if f.d.Hours().Open("firenze", f.clock.Now()) || !f.d.Hours().Open("empoli", f.clock.Now()) {
			t.Fatal("the edited holiday must close Firenze only")
		}
		in2 := channels.InboundMessage{Channel: channels.SMS, ExternalID: "SM2", From: "+393470000009", To: "+390552768000", Body: "buongiorno"}
		r2, err := f.in.Receive(ctx, in2)
		if err != nil {
			t.Fatal(err)
		}
		if got := f.d.AutoReplySMS(ctx, in2, r2); !strings.Contains(got, "lunedì") {
			t.Fatalf("no closed-hours answer on the edited holiday: %q", got)
		}
		log, _, err := s.AuditLog(ctx, store.AuditFilter{Action: desk.AuditHoursUpdate})
		if err != nil || len(log) != 1 || log[0].Target != "firenze" || !strings.Contains(log[0].Detail, "2026-11-25") {
			t.Fatalf("audit: %+v %v", log, err)
		}
		// Easter Monday is preloaded and computed.
		if !f.d.Hours().Closed("firenze", 2027, time.March, 29) || !f.d.Hours().Closed("firenze", 2026, time.June, 24) {
			t.Fatal("Easter Monday 2027 and San Giovanni must be holidays")
		}
	})
}
