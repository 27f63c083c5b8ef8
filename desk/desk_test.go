package desk_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/desk"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

const mobile = "+393471234567"

func TestDecideRoutesComuneCategoryQueue(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		ctx := context.Background()
		// The comune's own number decides.
		d := f.d.Decide(ctx, channels.InboundMessage{Channel: channels.SMS, From: mobile, To: "+390552768000", Body: "ho preso una multa con l'autovelox"})
		if d.Comune != "firenze" || d.Category != "contravvenzioni" || d.Queue != "multe" || d.Priority != 1 {
			t.Fatalf("comune number: %+v", d)
		}
		if want := openTime.Add(30 * time.Minute); !d.SLADue.Equal(want) && d.SLADue.Sub(f.clock.Now()) != 30*time.Minute {
			t.Fatalf("SLA due %v", d.SLADue)
		}
		// A shared number: the comune named in the text.
		d = f.d.Decide(ctx, channels.InboundMessage{Channel: channels.SMS, From: mobile, To: "+39055055", Body: "blocco del traffico a Empoli domani?"})
		if d.Comune != "empoli" || d.Category != "blocco-traffico" || d.Queue != "traffico" {
			t.Fatalf("shared number with a comune in the text: %+v", d)
		}
		// A shared number, nothing in the text, unknown citizen: to be decided.
		d = f.d.Decide(ctx, channels.InboundMessage{Channel: channels.SMS, From: "+393339999999", To: "+39055055", Body: "informazioni"})
		if d.Comune != "" || d.Queue != "generale" {
			t.Fatalf("unknown comune: %+v", d)
		}
		// The citizen's last known comune, once they wrote to a comune's number.
		f.text(mobile, "+39057175761", "buongiorno")
		d = f.d.Decide(ctx, channels.InboundMessage{Channel: channels.SMS, From: mobile, To: "+39055055", Body: "ancora io"})
		if d.Comune != "empoli" {
			t.Fatalf("last known comune: %+v", d)
		}
		q, prio, due := f.d.QueueFor("firenze", "permessi-ztl", channels.Phone)
		if q != "traffico" || prio != 2 || due.Sub(f.clock.Now()) != 15*time.Minute {
			t.Fatalf("QueueFor = %s %d %v", q, prio, due)
		}
	})
}

func TestAutomaticAssignmentAndDrain(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		ctx := context.Background()
		anna := f.user("anna", store.RoleOperator)
		bruno := f.user("bruno", store.RoleOperator, "empoli")
		carla := f.user("carla", store.RoleOperator)
		// Nobody is available: the contact waits.
		r := f.text(mobile, "+390552768000", "multa")
		if c := f.contact(r.ContactID); c.Assignee != nil || c.Status != channels.StatusOpen {
			t.Fatalf("assigned to someone offline: %+v", c.Assignee)
		}
		if err := f.d.SetPresence(ctx, carla, "away"); err != nil {
			t.Fatal(err)
		}
		// Anna becomes available: the backlog drains to her.
		if err := f.d.SetPresence(ctx, anna, "available"); err != nil {
			t.Fatal(err)
		}
		if c := f.contact(r.ContactID); str(c.Assignee) != "anna" || c.Status != channels.StatusAssigned {
			t.Fatalf("backlog not drained to anna: %s %s", str(c.Assignee), c.Status)
		}
		// Bruno only does Empoli: a Firenze contact goes to anna, an Empoli one to bruno who
		// waited longer.
		if err := f.d.SetPresence(ctx, bruno, "available"); err != nil {
			t.Fatal(err)
		}
		f.clock.Add(time.Second)
		r2 := f.text("+393470000002", "+390552768000", "ztl")
		if c := f.contact(r2.ContactID); str(c.Assignee) != "anna" {
			t.Fatalf("firenze contact went to %s", str(c.Assignee))
		}
		r3 := f.text("+393470000003", "+39057175761", "ztl")
		if c := f.contact(r3.ContactID); str(c.Assignee) != "bruno" {
			t.Fatalf("empoli contact went to %s", str(c.Assignee))
		}
		// Capacity: anna holds 2 of 5; three more fill her, the sixth waits.
		for i := 0; i < 4; i++ {
			f.clock.Add(time.Second)
			f.text("+39347100000"+string(rune('0'+i)), "+390552768000", "servizi")
		}
		ops, err := s.Operators(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range ops {
			if o.Open > o.Capacity {
				t.Fatalf("%s holds %d over capacity %d", o.Username, o.Open, o.Capacity)
			}
			if o.Username == "carla" && o.Open != 0 {
				t.Fatal("carla is away and got contacts")
			}
		}
		waiting, _, err := s.ListContacts(ctx, store.ContactFilter{Status: "open"})
		if err != nil || len(waiting) != 1 {
			t.Fatalf("want 1 waiting contact, got %d (%v)", len(waiting), err)
		}
		// Anna resolves one: the waiting contact drains to her.
		if err := f.d.Resolve(ctx, anna, r.ContactID, desk.Resolution{Outcome: "first_level"}); err != nil {
			t.Fatal(err)
		}
		if c := f.contact(waiting[0].ID); str(c.Assignee) != "anna" {
			t.Fatalf("freed place not refilled: %s", str(c.Assignee))
		}
		// Anna goes offline: her contacts return to the queue.
		if err := f.d.SetPresence(ctx, anna, "offline"); err != nil {
			t.Fatal(err)
		}
		if c := f.contact(r2.ContactID); c.Assignee != nil || c.Status != channels.StatusOpen {
			t.Fatalf("offline operator kept contact: %s %s", str(c.Assignee), c.Status)
		}
		log, _, err := s.AuditLog(ctx, store.AuditFilter{Action: store.AuditPresence})
		if err != nil || len(log) != 4 {
			t.Fatalf("presence audit entries: %d %v", len(log), err)
		}
	})
}

func TestAssignClaimPermissionsAndScope(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		ctx := context.Background()
		op := f.user("op", store.RoleOperator)
		other := f.user("other", store.RoleOperator)
		emp := f.user("emp", store.RoleOperator, "empoli")
		sup := f.user("sup", store.RoleSupervisor)
		r := f.text(mobile, "+390552768000", "multa")
		if st, code := deskCode(t, f.d.Assign(ctx, op, r.ContactID, "other")); st != 403 || code != "forbidden" {
			t.Fatalf("operator assigning to another: %d %s", st, code)
		}
		if st, _ := deskCode(t, f.d.Claim(ctx, emp, r.ContactID)); st != 404 {
			t.Fatalf("out-of-scope claim: %d", st)
		}
		if err := f.d.Assign(ctx, op, r.ContactID, "op"); err != nil {
			t.Fatal(err)
		}
		if st, code := deskCode(t, f.d.Claim(ctx, other, r.ContactID)); st != 409 || code != "conflict" {
			t.Fatalf("claiming someone's contact: %d %s", st, code)
		}
		if st, code := deskCode(t, f.d.Assign(ctx, sup, r.ContactID, "emp")); st != 400 || code != "out_of_scope" {
			t.Fatalf("assigning to a user who cannot see it: %d %s", st, code)
		}
		if st, code := deskCode(t, f.d.Assign(ctx, sup, r.ContactID, "nobody")); st != 400 || code != "unknown_user" {
			t.Fatalf("assigning to nobody: %d %s", st, code)
		}
		f.user("gone", store.RoleOperator)
		if _, err := s.DisableUser(ctx, "gone"); err != nil {
			t.Fatal(err)
		}
		if st, code := deskCode(t, f.d.Assign(ctx, sup, r.ContactID, "gone")); st != 400 || code != "user_disabled" {
			t.Fatalf("assigning to a disabled user: %d %s", st, code)
		}
		if err := f.d.Assign(ctx, sup, r.ContactID, "other"); err != nil {
			t.Fatal(err)
		}
		if c := f.contact(r.ContactID); str(c.Assignee) != "other" {
			t.Fatalf("supervisor reassignment: %s", str(c.Assignee))
		}
		log, _, _ := s.AuditLog(ctx, store.AuditFilter{ContactID: r.ContactID})
		if len(log) != 2 || log[0].Actor != "sup" || log[0].Target != "other" || log[1].Action != store.AuditClaim && log[1].Action != store.AuditAssign {
			t.Fatalf("audit: %+v", log)
		}
	})
}

func TestReplySMSDurableWithRetries(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		ctx := context.Background()
		op := f.user("op", store.RoleOperator)
		r := f.text(mobile, "+39055055", "a che ora apre l'anagrafe a Firenze?")
		if st, code := deskCode(t, func() error { _, err := f.d.Reply(ctx, op, r.ContactID, "   "); return err }()); st != 400 || code != "empty_body" {
			t.Fatalf("empty reply: %d %s", st, code)
		}
		if st, code := deskCode(t, func() error { _, err := f.d.Reply(ctx, op, r.ContactID, strings.Repeat("a", 1601)); return err }()); st != 400 || code != "body_too_long" {
			t.Fatalf("an SMS over 1600 characters: %d %s", st, code)
		}
		// Two temporary failures (an outage), then the provider accepts.
		f.sms.fail = func(n int) error {
			if n <= 2 {
				return &channels.SendError{Message: "service unavailable", Code: 503}
			}
			return nil
		}
		m, err := f.d.Reply(ctx, op, r.ContactID, "Apre alle 8:30.")
		if err != nil {
			t.Fatal(err)
		}
		if m.Status != "queued" || m.Author != "op" || m.To != mobile || m.From != "+39055055" {
			t.Fatalf("queued message: %+v", m)
		}
		f.waitFor("the reply to be sent after the outage", func() bool { return f.lastOutbound(r.ContactID).Status == "sent" })
		got := f.lastOutbound(r.ContactID)
		if got.ExternalID != "EXT3" || got.Error != "" || f.sms.Attempts() != 3 {
			t.Fatalf("after recovery: %+v attempts %d", got, f.sms.Attempts())
		}
		sent := f.sms.Sent()
		if len(sent) != 1 || sent[0].StatusCallback != "https://sportello.test/webhooks/twilio/status?of=reply" || sent[0].Body != "Apre alle 8:30." {
			t.Fatalf("sent: %+v", sent)
		}
		// The provider's status callbacks move it on, never backwards; unknown ids are ignored.
		if err := f.d.UpdateDelivery(ctx, channels.DeliveryUpdate{ExternalID: "EXT3", Status: "delivered", Channel: channels.SMS}); err != nil {
			t.Fatal(err)
		}
		if err := f.d.UpdateDelivery(ctx, channels.DeliveryUpdate{ExternalID: "EXT3", Status: "sent", Channel: channels.SMS}); err != nil {
			t.Fatal(err)
		}
		if err := f.d.UpdateDelivery(ctx, channels.DeliveryUpdate{ExternalID: "SMunknown", Status: "delivered", Channel: channels.SMS}); err != nil {
			t.Fatal(err)
		}
		if st := f.lastOutbound(r.ContactID).Status; st != "delivered" {
			t.Fatalf("status after callbacks: %s", st)
		}
		// A permanent refusal is shown on the message and not retried.
		f.sms.fail = func(int) error {
			return &channels.SendError{Code: 21610, Message: "unsubscribed recipient", Permanent: true}
		}
		before := f.sms.Attempts()
		if _, err := f.d.Reply(ctx, op, r.ContactID, "Altro?"); err != nil {
			t.Fatal(err)
		}
		f.waitFor("the permanent failure", func() bool { return f.lastOutbound(r.ContactID).Status == "failed" })
		f.waitFor("no send left to retry", f.jobsSettled)
		if m := f.lastOutbound(r.ContactID); !strings.Contains(m.Error, "unsubscribed") || f.sms.Attempts() != before+1 {
			t.Fatalf("failed message: %+v attempts %d", m, f.sms.Attempts()-before)
		}
	})
}

func TestReplyRoutesByChannel(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		ctx := context.Background()
		op := f.user("op", store.RoleOperator)
		// Email: threaded under the citizen's last message, from the comune address written to.
		r, err := f.in.Receive(ctx, channels.InboundMessage{Channel: channels.Email, ExternalID: "m1@example.it", MessageID: "m1@example.it",
			From: "mario@example.it", To: "urp@comune.fi.it", Subject: "Permesso ZTL", Body: "vorrei il permesso", ReceivedAt: f.clock.Now()})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.in.Receive(ctx, channels.InboundMessage{Channel: channels.Email, ExternalID: "m2@example.it", MessageID: "m2@example.it",
			InReplyTo: "m1@example.it", References: []string{"m1@example.it"}, From: "mario@example.it", To: "urp@comune.fi.it",
			Subject: "Re: Permesso ZTL", Body: "ancora", ReceivedAt: f.clock.Now()}); err != nil {
			t.Fatal(err)
		}
		m, err := f.d.Reply(ctx, op, r.ContactID, "Ecco come fare.")
		if err != nil {
			t.Fatal(err)
		}
		if m.Channel != channels.Email || m.To != "mario@example.it" || m.InReplyTo != "m2@example.it" || m.Subject != "Re: Permesso ZTL" ||
			strings.Join(m.References, " ") != "m1@example.it m2@example.it" || !strings.HasSuffix(m.MessageID, "@055055.example") ||
			!strings.Contains(m.From, "urp@comune.fi.it") {
			t.Fatalf("email reply: %+v", m)
		}
		f.waitFor("the email reply", func() bool { return len(f.email.Sent()) == 1 })
		if e := f.email.Sent()[0]; e.MessageID != m.MessageID || e.InReplyTo != "m2@example.it" {
			t.Fatalf("sent email: %+v", e)
		}
		// The citizen's answer to our reply joins the same contact.
		r2, err := f.in.Receive(ctx, channels.InboundMessage{Channel: channels.Email, ExternalID: "m3@example.it", MessageID: "m3@example.it",
			InReplyTo: m.MessageID, From: "mario@example.it", To: "urp@comune.fi.it", Subject: "Re: Permesso ZTL", Body: "grazie", ReceivedAt: f.clock.Now()})
		if err != nil || r2.ContactID != r.ContactID {
			t.Fatalf("answer to our reply opened %s (want %s): %v", r2.ContactID, r.ContactID, err)
		}
		// Fax: answered by email-to-fax with the fax number as recipient.
		rf, err := f.in.Receive(ctx, channels.InboundMessage{Channel: channels.Fax, ExternalID: "fax1@gw", From: "+390551234567", To: "urp@comune.fi.it",
			Subject: "Fax da +390551234567", ReceivedAt: f.clock.Now()})
		if err != nil {
			t.Fatal(err)
		}
		if m, err := f.d.Reply(ctx, op, rf.ContactID, "Ricevuto."); err != nil || m.Channel != channels.Fax || m.To != "+390551234567" {
			t.Fatalf("fax reply: %+v %v", m, err)
		}
		f.waitFor("the fax reply", func() bool { return len(f.fax.Sent()) == 1 })
		// A call from a mobile: answered by SMS from the configured sender.
		call := func(from string) string {
			r, err := f.in.Receive(ctx, channels.InboundMessage{Channel: channels.Phone, ExternalID: nextSid("CA"), From: from, To: "+390552768000",
				Call: &channels.Call{Status: "completed"}, ReceivedAt: f.clock.Now()})
			if err != nil {
				t.Fatal(err)
			}
			return r.ContactID
		}
		if m, err := f.d.Reply(ctx, op, call("+393479876543"), "La richiamiamo."); err != nil || m.Channel != channels.SMS || m.From != "+390550550" {
			t.Fatalf("reply to a mobile caller: %+v %v", m, err)
		}
		// A call from a landline of a citizen with no other address: unreachable, nothing stored.
		landline := call("+390557654321")
		if st, code := deskCode(t, func() error { _, err := f.d.Reply(ctx, op, landline, "x"); return err }()); st != 400 || code != "unreachable" {
			t.Fatalf("landline caller: %d %s", st, code)
		}
		if msgs, _ := s.Messages(ctx, landline); len(msgs) != 1 {
			t.Fatalf("a refused reply left %d messages", len(msgs))
		}
		// Outside the user's comuni: not found.
		emp := f.user("emp", store.RoleOperator, "empoli")
		if st, _ := deskCode(t, func() error { _, err := f.d.Reply(ctx, emp, r.ContactID, "x"); return err }()); st != 404 {
			t.Fatalf("out-of-scope reply: %d", st)
		}
	})
}

func TestResolveOutcomes(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		ctx := context.Background()
		op := f.user("op", store.RoleOperator)
		r, err := f.in.Receive(ctx, channels.InboundMessage{Channel: channels.Email, ExternalID: "v1@example.it", MessageID: "v1@example.it",
			From: "mario@example.it", To: "urp@comune.fi.it", Subject: "Ricorso verbale", Body: "allego il verbale",
			Attachments: []channels.Attachment{{Filename: "verbale.pdf", ContentType: "application/pdf", Data: []byte("%PDF-1.4 test")}},
			ReceivedAt:  f.clock.Now()})
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range []struct {
			r    desk.Resolution
			code string
		}{
			{desk.Resolution{Outcome: "solved"}, "invalid_outcome"},
			{desk.Resolution{Outcome: "forwarded_email", Office: "anagrafe"}, "unknown_office"},
			{desk.Resolution{Outcome: "transferred_phone"}, "unknown_office"},
			{desk.Resolution{Outcome: "transferred_phone", Office: "senza-telefono"}, "unreachable"},
			{desk.Resolution{Outcome: "first_level", Category: "nope"}, "invalid_category"},
		} {
			if st, code := deskCode(t, f.d.Resolve(ctx, op, r.ContactID, bad.r)); st != 400 || code != bad.code {
				t.Fatalf("%+v: %d %s", bad.r, st, code)
			}
		}
		if c := f.contact(r.ContactID); c.Status == channels.StatusResolved || len(c.Messages) != 1 {
			t.Fatalf("a refused resolution changed the contact: %s, %d messages", c.Status, len(c.Messages))
		}
		if err := f.d.Resolve(ctx, op, r.ContactID, desk.Resolution{Outcome: "forwarded_email", Office: "polizia-municipale",
			Category: "contravvenzioni", Note: "ricorso da valutare"}); err != nil {
			t.Fatal(err)
		}
		c := f.contact(r.ContactID)
		if c.Status != channels.StatusResolved || str(c.Outcome) != "forwarded_email" || str(c.Office) != "polizia-municipale" || c.Note != "ricorso da valutare" {
			t.Fatalf("resolved: %+v", c)
		}
		f.waitFor("the forward", func() bool { return len(f.email.Sent()) == 1 })
		fw := f.email.Sent()[0]
		if fw.To != "pm@comune.fi.it" || len(fw.Attachments) != 1 || string(fw.Attachments[0].Data) != "%PDF-1.4 test" ||
			!strings.Contains(fw.Body, "allego il verbale") || !strings.Contains(fw.Body, "ricorso da valutare") {
			t.Fatalf("forward: %+v", fw)
		}
		if st, code := deskCode(t, f.d.Resolve(ctx, op, r.ContactID, desk.Resolution{Outcome: "first_level"})); st != 409 || code != "conflict" {
			t.Fatalf("resolving twice: %d %s", st, code)
		}
		// Transferred by phone: the office and its number are recorded.
		r2 := f.text(mobile, "+390552768000", "multa")
		if err := f.d.Resolve(ctx, op, r2.ContactID, desk.Resolution{Outcome: "transferred_phone", Office: "polizia-municipale"}); err != nil {
			t.Fatal(err)
		}
		if n, err := s.OfficePhone(ctx, r2.ContactID); err != nil || n != "+390553283333" {
			t.Fatalf("office phone %q %v", n, err)
		}
		log, _, _ := s.AuditLog(ctx, store.AuditFilter{ContactID: r2.ContactID, Action: store.AuditResolve})
		if len(log) != 1 || log[0].Target != "polizia-municipale +390553283333" {
			t.Fatalf("resolve audit: %+v", log)
		}
		// A citizen writing again on a resolved contact reopens it.
		r3 := f.text(mobile, "+390552768000", "scusate, un'altra domanda")
		if r3.ContactID != r2.ContactID {
			t.Fatalf("a new SMS after resolution opened a new contact")
		}
		if c := f.contact(r2.ContactID); c.Status != channels.StatusOpen || c.Outcome != nil {
			t.Fatalf("not reopened: %s %v", c.Status, str(c.Outcome))
		}
	})
}

func TestSLAEscalatesOnce(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		ctx := context.Background()
		sub, stop := f.hub.Subscribe(64)
		defer stop()
		r := f.text(mobile, "+390552768000", "blocco traffico") // traffico: priority 2, SLA 15 min
		f.clock.Add(14 * time.Minute)
		if ids, err := f.d.Escalate(ctx); err != nil || len(ids) != 0 {
			t.Fatalf("escalated within SLA: %v %v", ids, err)
		}
		f.clock.Add(2 * time.Minute)
		ids, err := f.d.Escalate(ctx)
		if err != nil || len(ids) != 1 || ids[0] != r.ContactID {
			t.Fatalf("escalate: %v %v", ids, err)
		}
		c := f.contact(r.ContactID)
		if !c.Escalated || c.Priority != 12 {
			t.Fatalf("escalated contact: escalated=%v priority=%d", c.Escalated, c.Priority)
		}
		f.clock.Add(time.Hour)
		if ids, _ := f.d.Escalate(ctx); len(ids) != 0 {
			t.Fatal("escalated twice")
		}
		if c := f.contact(r.ContactID); c.Priority != 12 {
			t.Fatalf("priority raised again: %d", c.Priority)
		}
		got := false
		for len(sub) > 0 {
			if e := <-sub; e.Type == "contact.sla" && e.ContactID == r.ContactID {
				got = true
			}
		}
		if !got {
			t.Fatal("no contact.sla event")
		}
	})
}

func TestClosedHoursAnswers(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		ctx := context.Background()
		f.clock.Set(closedTime)
		in := channels.InboundMessage{Channel: channels.SMS, ExternalID: nextSid("SM"), From: mobile, To: "+390552768000", Body: "Hello, is the office open tomorrow? Thanks", ReceivedAt: closedTime}
		r, err := f.in.Receive(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		text := f.d.AutoReplySMS(ctx, in, r)
		if !strings.Contains(text, "closed") || !strings.Contains(text, "Monday to Saturday, 8:00 to 20:00") {
			t.Fatalf("English closed answer: %q", text)
		}
		if m := f.lastOutbound(r.ContactID); m.Body != text || m.To != mobile {
			t.Fatalf("answer not recorded: %+v", m)
		}
		in2 := in
		in2.ExternalID, in2.Body = nextSid("SM"), "ancora io"
		r2, _ := f.in.Receive(ctx, in2)
		if r2.ContactID != r.ContactID || f.d.AutoReplySMS(ctx, in2, r2) != "" {
			t.Fatal("a second answer in the same closed period")
		}
		// Italian, during opening hours: nothing.
		f.clock.Set(openTime)
		in3 := channels.InboundMessage{Channel: channels.SMS, ExternalID: nextSid("SM"), From: "+393330000001", To: "+390552768000", Body: "buongiorno", ReceivedAt: openTime}
		r3, _ := f.in.Receive(ctx, in3)
		if f.d.AutoReplySMS(ctx, in3, r3) != "" {
			t.Fatal("answered while open")
		}
		// Email when closed: one threaded answer through the email sender; none to auto-replies.
		f.clock.Set(closedTime)
		if _, err := f.in.Receive(ctx, channels.InboundMessage{Channel: channels.Email, ExternalID: "e1@x.it", MessageID: "e1@x.it",
			From: "lucia@example.it", To: "urp@comune.fi.it", Subject: "Rifiuti", Body: "Buongiorno, quando passa il ritiro?", ReceivedAt: closedTime,
			EnvelopeFrom: "lucia@example.it", SenderCheck: channels.SenderPass}); err != nil {
			t.Fatal(err)
		}
		// Spam reflection: a forged From (envelope elsewhere, or SPF/DKIM failing, or never
		// checked) gets nothing; nor does Lucia's second new message the same day.
		for i, m := range []channels.InboundMessage{
			{From: "victim@example.org", EnvelopeFrom: "spammer@evil.example", SenderCheck: channels.SenderPass},
			{From: "victim2@example.org", EnvelopeFrom: "victim2@example.org", SenderCheck: channels.SenderFail},
			{From: "victim3@example.org", EnvelopeFrom: "victim3@example.org"},
			{From: "lucia@example.it", EnvelopeFrom: "lucia@example.it", SenderCheck: channels.SenderPass},
		} {
			m.Channel, m.ExternalID, m.To, m.Subject, m.Body, m.ReceivedAt = channels.Email, fmt.Sprintf("forged%d@x.it", i), "urp@comune.fi.it", "Compra ora", "http://spam.example", closedTime
			if _, err := f.in.Receive(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := f.in.Receive(ctx, channels.InboundMessage{Channel: channels.Email, ExternalID: "e2@x.it", MessageID: "e2@x.it",
			From: "robot@example.it", To: "urp@comune.fi.it", Subject: "Out of office", Body: "I am away", AutoReply: true, ReceivedAt: closedTime}); err != nil {
			t.Fatal(err)
		}
		for i, from := range []string{"no-reply@bank.example", "MAILER-DAEMON@mx.example", "urp@comune.empoli.fi.it"} {
			if _, err := f.in.Receive(ctx, channels.InboundMessage{Channel: channels.Email, ExternalID: fmt.Sprintf("sys%d@x.it", i),
				From: from, To: "urp@comune.fi.it", Subject: "Notice", Body: "automatic", ReceivedAt: closedTime}); err != nil {
				t.Fatal(err)
			}
		}
		f.waitFor("the closed-hours email", func() bool { return len(f.email.Sent()) >= 1 })
		f.waitFor("every queued answer sent", f.jobsSettled)
		sent := f.email.Sent()
		if len(sent) != 1 || sent[0].To != "lucia@example.it" || sent[0].InReplyTo != "e1@x.it" || strings.Contains(sent[0].Body, "Rifiuti") ||
			strings.Contains(sent[0].Subject, "Rifiuti") || !strings.Contains(sent[0].Body, "chiusa") {
			t.Fatalf("closed-hours email: %+v", sent)
		}
	})
}

func TestMergeAndQueuesAndCanned(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		ctx := context.Background()
		sup := f.user("sup", store.RoleSupervisor)
		emp := f.user("emp", store.RoleOperator, "empoli")
		a := f.text(mobile, "+390552768000", "multa")
		b, err := f.in.Receive(ctx, channels.InboundMessage{Channel: channels.Email, ExternalID: "x1@y", From: "mario@example.it", To: "urp@comune.fi.it", Body: "ztl"})
		if err != nil {
			t.Fatal(err)
		}
		if st, code := deskCode(t, f.d.Merge(ctx, sup, a.CitizenID, a.CitizenID)); st != 400 || code != "self_merge" {
			t.Fatalf("self merge: %d %s", st, code)
		}
		if st, _ := deskCode(t, f.d.Merge(ctx, emp, a.CitizenID, b.CitizenID)); st != 404 {
			t.Fatalf("out-of-scope merge: %d", st)
		}
		if err := f.d.Merge(ctx, sup, a.CitizenID, b.CitizenID); err != nil {
			t.Fatal(err)
		}
		cz, err := s.GetCitizen(ctx, a.CitizenID, store.Scope{})
		if err != nil || len(cz.Contacts) != 2 || len(cz.Identities) != 2 {
			t.Fatalf("merged citizen: %+v %v", cz, err)
		}
		qs, err := f.d.Queues(ctx, sup)
		if err != nil {
			t.Fatal(err)
		}
		byID := map[string]desk.QueueStats{}
		for _, q := range qs {
			byID[q.ID] = q
		}
		if byID["multe"].Waiting != 1 || byID["traffico"].Waiting != 1 || len(qs) != 3 {
			t.Fatalf("queues: %+v", qs)
		}
		f.clock.Add(90 * time.Second)
		if qs, _ := f.d.Queues(ctx, emp); qs[1].Waiting != 0 {
			t.Fatalf("an empoli operator sees firenze's queue load: %+v", qs)
		}
		if qs, _ := f.d.Queues(ctx, sup); qs[1].OldestWaitSeconds < 90 {
			t.Fatalf("oldest wait: %+v", qs)
		}
		if err := f.d.SeedCanned(ctx); err != nil {
			t.Fatal(err)
		}
		canned, err := f.d.CannedFor(ctx, f.contact(a.ContactID))
		if err != nil || len(canned) < 4 || canned[0].Title == "" || strings.Contains(canned[1].Body, "{") || !strings.Contains(canned[1].Body, "lunedì") {
			t.Fatalf("canned: %+v %v", canned, err)
		}
		if offices := f.d.Offices("firenze"); len(offices) != 2 || f.d.Offices("nowhere") != nil {
			t.Fatalf("offices: %+v", offices)
		}
	})
}

func TestLanguage(t *testing.T) {
	t.Parallel()
	for text, want := range map[string]string{
		"Hello, I got a ticket, what can I do?":            "en",
		"Buongiorno, ho preso una multa, come posso fare?": "it",
		"multa":                 "it",
		"":                      "it",
		"the ZTL permit please": "en",
	} {
		if got := desk.Language(text); got != want {
			t.Errorf("Language(%q) = %s, want %s", text, got, want)
		}
	}
}

// A status callback that arrives before the worker recorded the provider's id is applied once
// it does.
func TestEarlyDeliveryCallback(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		ctx := context.Background()
		op := f.user("op", store.RoleOperator)
		r := f.text(mobile, "+390552768000", "ztl")
		// A callback for an id nobody is sending is someone else's, and is not held.
		if err := f.d.UpdateDelivery(ctx, channels.DeliveryUpdate{ExternalID: "EXT1", Status: "failed", Channel: channels.SMS}); err != nil {
			t.Fatal(err)
		}
		// The provider calls back while our send is in flight, before its id is written.
		f.sms.fail = func(n int) error {
			return f.d.UpdateDelivery(ctx, channels.DeliveryUpdate{ExternalID: fmt.Sprintf("EXT%d", n), Status: "delivered", Channel: channels.SMS})
		}
		if _, err := f.d.Reply(ctx, op, r.ContactID, "ok"); err != nil {
			t.Fatal(err)
		}
		f.waitFor("the early callback to apply", func() bool { return f.lastOutbound(r.ContactID).Status == "delivered" })
	})
}

// A contact whose comune is to be decided gets one from an operator; its queue follows and it
// is offered to the operators who cover that comune.
func TestRerouteDecidesComune(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		ctx := context.Background()
		sup := f.user("sup", store.RoleSupervisor)
		emp := f.user("emp", store.RoleOperator, "empoli")
		if err := f.d.SetPresence(ctx, emp, "available"); err != nil {
			t.Fatal(err)
		}
		r := f.text("+393335550001", "+39055055", "una domanda")
		if c := f.contact(r.ContactID); c.Comune != nil || c.Assignee != nil {
			t.Fatalf("comune should be undecided: %v %v", str(c.Comune), str(c.Assignee))
		}
		if st, _ := deskCode(t, f.d.Reroute(ctx, emp, r.ContactID, desk.Route{Comune: "empoli"})); st != 404 {
			t.Fatalf("a scoped operator rerouted a contact they cannot see: %d", st)
		}
		for _, bad := range []struct {
			r    desk.Route
			code string
		}{{desk.Route{}, "empty_route"}, {desk.Route{Comune: "atlantide"}, "unknown_comune"}, {desk.Route{Category: "nope"}, "invalid_category"}} {
			if st, code := deskCode(t, f.d.Reroute(ctx, sup, r.ContactID, bad.r)); st != 400 || code != bad.code {
				t.Fatalf("%+v: %d %s", bad.r, st, code)
			}
		}
		if err := f.d.Reroute(ctx, sup, r.ContactID, desk.Route{Comune: "empoli", Category: "contravvenzioni"}); err != nil {
			t.Fatal(err)
		}
		c := f.contact(r.ContactID)
		if str(c.Comune) != "empoli" || str(c.Category) != "contravvenzioni" || str(c.Queue) != "multe" || str(c.Assignee) != "emp" {
			t.Fatalf("rerouted: comune %s category %s queue %s assignee %s", str(c.Comune), str(c.Category), str(c.Queue), str(c.Assignee))
		}
		// The citizen's next message on the shared number knows the comune.
		if d := f.d.Decide(ctx, channels.InboundMessage{Channel: channels.SMS, From: "+393335550001", To: "+39055055", Body: "ancora"}); d.Comune != "empoli" {
			t.Fatalf("last known comune after reroute: %q", d.Comune)
		}
	})
}
