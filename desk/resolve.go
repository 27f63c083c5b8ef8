package desk

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/config"
	"github.com/sportello/sportello/events"
	"github.com/sportello/sportello/store"
)

// Resolution is how an operator closes a contact.
type Resolution struct {
	// Outcome is first_level, transferred_phone or forwarded_email.
	Outcome string
	// Category, when set, corrects the contact's category.
	Category string
	// Office is required for transferred_phone and forwarded_email: an office id of the
	// contact's comune.
	Office string
	Note   string
}

// MaxNoteChars bounds an operator's note.
const MaxNoteChars = 4000

// Resolve closes a contact with an outcome. transferred_phone records the office and its
// number; forwarded_email emails the contact, its whole thread and its attachments to the
// office, durably (the forward is a message of the thread, queued with its job in the same
// transaction as the resolution). Anything invalid is refused before anything is written.
func (d *Desk) Resolve(ctx context.Context, u store.User, contactID string, r Resolution) error {
	if !channels.ValidOutcome(r.Outcome) {
		return badRequest("invalid_outcome", "outcome must be first_level, transferred_phone or forwarded_email")
	}
	if r.Category != "" && !slices.ContainsFunc(d.o.Config.Categories, func(c config.Category) bool { return c.ID == r.Category }) {
		return badRequest("invalid_category", "unknown category %q", r.Category)
	}
	if len(r.Note) > MaxNoteChars {
		return badRequest("note_too_long", "the note is over %d characters", MaxNoteChars)
	}
	c, err := d.o.Store.GetContact(ctx, contactID, u.Scope())
	if err != nil {
		return notFoundAs(err, "contact")
	}
	if c.Status == channels.StatusResolved {
		return conflict("the contact is already resolved")
	}
	sr := store.Resolution{Outcome: r.Outcome, Category: r.Category, Note: r.Note}
	var forward *channels.Message
	if r.Outcome != channels.OutcomeFirstLevel {
		office, err := d.office(c.Comune, r.Office)
		if err != nil {
			return err
		}
		sr.Office = office.ID
		switch r.Outcome {
		case channels.OutcomeTransferredPhone:
			if office.Phone == "" {
				return badRequest("unreachable", "office %q has no phone number", office.ID)
			}
			sr.OfficePhone = office.Phone
		case channels.OutcomeForwardedEmail:
			if office.Email == "" {
				return badRequest("unreachable", "office %q has no email address", office.ID)
			}
			if d.o.Senders[channels.Email] == nil {
				return fail(503, "channel_unavailable", "no email sender is configured")
			}
			m, err := d.forwardMessage(c, office, u, r.Note)
			if err != nil {
				return err
			}
			forward = &m
		}
	} else if r.Office != "" {
		return badRequest("unknown_office", "an office goes with transferred_phone or forwarded_email")
	}
	jc := d.o.Jobs()
	if forward != nil && jc == nil {
		return fail(503, "jobs_unavailable", "background jobs are not running")
	}
	target := sr.Office
	if sr.OfficePhone != "" {
		target += " " + sr.OfficePhone
	}
	err = d.o.Store.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		ok, err := d.o.Store.ResolveTx(ctx, tx, c.ID, sr)
		if err != nil {
			return err
		}
		if !ok {
			return conflict("the contact is already resolved")
		}
		if err := d.o.Store.AuditTx(ctx, tx, store.AuditEntry{Actor: u.Username, Action: store.AuditResolve, ContactID: &c.ID,
			Target: strings.TrimSpace(target), Detail: r.Outcome}); err != nil {
			return err
		}
		if forward == nil {
			return nil
		}
		// The office's answer joins the thread by this token when its mailer drops the
		// In-Reply-To naming our forward (the store's threading).
		token, err := d.o.Store.OfficeTokenTx(ctx, tx, c.ID, forward.To)
		if err != nil {
			return err
		}
		forward.Subject = channels.WithOfficeToken(forward.Subject, token)
		if err := d.o.Store.InsertOutboundTx(ctx, tx, *forward); err != nil {
			return err
		}
		return insertSend(ctx, jc, tx, SendArgs{MessageID: forward.ID, Forward: true}, d.o.MaxSendAttempts)
	})
	if err != nil {
		return err
	}
	d.publish(ctx, events.ContactUpdated, c.ID, c.Comune)
	if sr.OfficePhone != "" && c.Channel == channels.Phone {
		d.transferCall(ctx, c.ID, sr.OfficePhone)
	}
	if c.Assignee != nil {
		d.drainQuietly(ctx, *c.Assignee)
	}
	return nil
}

// office finds an office of the contact's comune.
func (d *Desk) office(comune *string, id string) (config.Office, error) {
	if id == "" {
		return config.Office{}, badRequest("unknown_office", "this outcome needs an office")
	}
	if comune == nil {
		return config.Office{}, badRequest("unknown_office", "the contact has no comune: its offices are unknown")
	}
	for _, o := range d.Offices(*comune) {
		if o.ID == id {
			return o, nil
		}
	}
	return config.Office{}, badRequest("unknown_office", "comune %s has no office %q", *comune, id)
}

// Offices lists a comune's competent offices (nil for an unknown comune).
func (d *Desk) Offices(comune string) []config.Office {
	if cm, ok := d.o.Config.ComuneByID(comune); ok {
		return slices.Clone(cm.Offices)
	}
	return nil
}

// forwardMessage renders the forward of a contact to an office.
func (d *Desk) forwardMessage(c channels.Contact, office config.Office, u store.User, note string) (channels.Message, error) {
	comuneName := ""
	if c.Comune != nil {
		if cm, ok := d.o.Config.ComuneByID(*c.Comune); ok {
			comuneName = cm.Name
		}
	}
	body, err := d.o.Text.Render("email/forward.txt", map[string]any{
		"Contact": c, "Office": office, "Operator": u.Username, "Note": note, "Comune": comuneName,
		"Received": c.ReceivedAt.In(d.hours.Location()).Format("02/01/2006 15:04"),
		"Messages": forwardThread(c.Messages, d),
	})
	if err != nil {
		return channels.Message{}, fmt.Errorf("desk: forward template: %w", err)
	}
	subject := c.Subject
	if subject == "" {
		subject = fmt.Sprintf("contatto %s da %s", c.Channel, c.From)
	}
	return channels.Message{ID: store.NewID(), ContactID: c.ID, Direction: channels.Outbound, Channel: channels.Email,
		From: d.formatFrom(d.fromAddr), To: office.Email, Subject: "[Linea Comune] Inoltro: " + subject, Body: body,
		MessageID: d.newMessageID(), Status: store.OutQueued, Author: u.Username, CreatedAt: d.now(),
		Notes: []string{"forward to " + office.ID}}, nil
}

type forwardItem struct {
	When, Direction, From, To, Subject, Body string
	Attachments                              []string
}

func forwardThread(msgs []channels.Message, d *Desk) []forwardItem {
	out := make([]forwardItem, 0, len(msgs))
	for _, m := range msgs {
		// An earlier forward's token is for its own office: not one to show another.
		it := forwardItem{When: m.CreatedAt.In(d.hours.Location()).Format("02/01/2006 15:04"), Direction: string(m.Direction),
			From: m.From, To: m.To, Subject: channels.WithoutOfficeTokenTags(m.Subject), Body: m.Body}
		for _, a := range m.Attachments {
			it.Attachments = append(it.Attachments, a.Filename)
		}
		out = append(out, it)
	}
	return out
}
