package desk

import (
	"context"
	"strings"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/events"
	"github.com/sportello/sportello/store"
)

// AutoReplySMS answers an SMS that arrived while the comune's desk is closed, at most once per
// contact and closed period (twilio.AutoReplier): the text goes back in the TwiML <Message>
// and is recorded as an outbound message of the contact. "" means no answer.
func (d *Desk) AutoReplySMS(ctx context.Context, in channels.InboundMessage, r channels.Receipt) string {
	if in.AutoReply || r.Duplicate || r.ContactID == "" {
		return ""
	}
	now := d.now()
	// Most SMS arrive while the desk is open: find that out from the routing decision, not
	// from a write transaction on every webhook.
	if !r.Duplicate && d.hours.Open(r.Comune, now) {
		return ""
	}
	var text string
	err := d.o.Store.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		text = ""
		h, err := d.o.Store.ContactHeadTx(ctx, tx, r.ContactID, store.Scope{})
		if err != nil {
			return err
		}
		comune := deref(h.Comune)
		if d.hours.Open(comune, now) {
			return nil
		}
		lang := Language(in.Body)
		body, err := d.o.Text.Render("sms/closed.txt", map[string]string{"Lang": lang, "Hours": d.hours.Describe(comune, lang)})
		if err != nil {
			return err
		}
		claimed, err := d.o.Store.ClaimAutoReplyTx(ctx, tx, r.ContactID, d.hours.NextOpen(comune, now), channels.SMS)
		if err != nil || !claimed {
			return err
		}
		m := channels.Message{ID: store.NewID(), ContactID: r.ContactID, Direction: channels.Outbound, Channel: channels.SMS,
			From: in.To, To: in.From, Body: body, Status: store.OutSent, CreatedAt: now, Notes: []string{"closed-hours automatic answer"}}
		if err := d.o.Store.InsertOutboundTx(ctx, tx, m); err != nil {
			return err
		}
		text = body
		return nil
	})
	if err != nil {
		// The message is stored; only the courtesy answer is lost.
		d.o.Logger.Error("closed-hours SMS answer failed", "contact", r.ContactID, "err", err)
		return ""
	}
	if text != "" {
		d.count(string(channels.SMS), "auto_reply")
		d.publish(ctx, events.ContactUpdated, r.ContactID, nil)
	}
	return text
}

// AutoReplyEmailTx answers an email that arrived while the comune's desk is closed (an
// ingest.InTx: it runs in the transaction that stores the message, so the answer's job exists
// exactly when the message does). Never to auto-replies or bounces, only when an email sender
// is configured, at most once per contact and closed period; threaded under the citizen's
// message.
func (d *Desk) AutoReplyEmailTx(ctx context.Context, tx *store.Tx, in channels.InboundMessage, r channels.Receipt) error {
	if in.Channel != channels.Email || in.AutoReply || r.Duplicate || d.o.Senders[channels.Email] == nil {
		return nil
	}
	to, err := channels.NormalizeEmail(in.From)
	if err != nil || !answerable(to) {
		return nil // no address to answer, or one that must never get an automatic answer
	}
	if c, shared := d.comuni.ByAddress(to); c != "" || shared || to == d.fromAddr {
		return nil // our own address: answering it would loop
	}
	jc := d.o.Jobs()
	if jc == nil {
		d.o.Logger.Warn("closed-hours email answer skipped: background jobs are not running", "contact", r.ContactID)
		return nil
	}
	h, err := d.o.Store.ContactHeadTx(ctx, tx, r.ContactID, store.Scope{})
	if err != nil {
		return err
	}
	now := d.now()
	comune := deref(h.Comune)
	if d.hours.Open(comune, now) {
		return nil
	}
	claimed, err := d.o.Store.ClaimAutoReplyTx(ctx, tx, r.ContactID, d.hours.NextOpen(comune, now), channels.Email)
	if err != nil || !claimed {
		return err
	}
	lang := Language(in.Subject + "\n" + in.Body)
	body, err := d.o.Text.Render("email/closed.txt", map[string]string{"Lang": lang, "Hours": d.hours.Describe(comune, lang), "Subject": in.Subject})
	if err != nil {
		return err
	}
	subject := replySubject(in.Subject)
	if in.Subject == "" {
		subject, err = d.o.Text.Render("email/closed_subject.txt", map[string]string{"Lang": lang})
		if err != nil {
			return err
		}
	}
	refs := append([]string{}, in.References...)
	if in.MessageID != "" {
		refs = append(refs, in.MessageID)
	}
	if len(refs) > maxReferences {
		refs = refs[len(refs)-maxReferences:]
	}
	m := channels.Message{ID: store.NewID(), ContactID: r.ContactID, Direction: channels.Outbound, Channel: channels.Email,
		From: d.emailFrom(in.To), To: to, Subject: subject, Body: body, MessageID: d.newMessageID(), InReplyTo: in.MessageID,
		References: refs, Status: store.OutQueued, CreatedAt: now, Notes: []string{"closed-hours automatic answer"}}
	if err := d.o.Store.InsertOutboundTx(ctx, tx, m); err != nil {
		return err
	}
	return insertSend(ctx, jc, tx, SendArgs{MessageID: m.ID}, d.o.MaxSendAttempts)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// answerable is false for addresses that never get automatic answers (RFC 3834 §2): mail
// systems and senders that say they read nothing.
func answerable(addr string) bool {
	local := addr
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		local = addr[:i]
	}
	switch strings.ReplaceAll(strings.ReplaceAll(local, "-", ""), "_", "") {
	case "mailerdaemon", "postmaster", "noreply", "donotreply", "bounce", "bounces":
		return false
	}
	return !strings.HasPrefix(local, "owner-") && !strings.HasSuffix(local, "-request")
}
