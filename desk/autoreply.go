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
// is configured, only to a sender that is who it says (senderVerified), at most once per
// contact and closed period and once per address a day (RFC 3834 §2, on every replica);
// threaded under the citizen's message and marked Auto-Submitted: auto-replied (RFC 3834
// §5), so that the citizen's own responder does not answer it. The answer never repeats the
// incoming subject or text: a stranger's words must not travel under the comune's name to a
// forged address.
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
	if !senderVerified(in, to) {
		d.o.Logger.Info("closed-hours email answer withheld: sender not verified", "contact", r.ContactID,
			"from", to, "envelope_from", in.EnvelopeFrom, "check", string(in.SenderCheck))
		return nil
	}
	jc := d.o.Jobs()
	if jc == nil {
		d.o.Logger.Warn("closed-hours email answer skipped: background jobs are not running", "contact", r.ContactID)
		return nil
	}
	// A new contact's comune is routing's (the receipt's); a thread's is what its contact holds.
	comune := r.Comune
	if !r.New {
		h, err := d.o.Store.ContactHeadTx(ctx, tx, r.ContactID, store.Scope{})
		if err != nil {
			return err
		}
		comune = deref(h.Comune)
	}
	now := d.now()
	if d.hours.Open(comune, now) {
		return nil
	}
	claimed, err := d.o.Store.ClaimAutoReplyTx(ctx, tx, r.ContactID, d.hours.NextOpen(comune, now), channels.Email)
	if err != nil || !claimed {
		return err
	}
	if claimed, err = d.o.Store.ClaimAutoReplyRecipientTx(ctx, tx, channels.Email, to); err != nil || !claimed {
		return err
	}
	lang := Language(in.Subject + "\n" + in.Body)
	body, err := d.o.Text.Render("email/closed.txt", map[string]string{"Lang": lang, "Hours": d.hours.Describe(comune, lang)})
	if err != nil {
		return err
	}
	subject, err := d.o.Text.Render("email/closed_subject.txt", map[string]string{"Lang": lang})
	if err != nil {
		return err
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
	return insertSend(ctx, jc, tx, SendArgs{MessageID: m.ID, AutoReply: true}, d.o.MaxSendAttempts)
}

// senderVerified says whether an automatic answer may go to the header From addr: the
// envelope sender must be the same address (a spammer's bounce address differs from the
// victim it puts in From), and SPF, DKIM or DMARC must have passed for it.
//
// When the DNS could not be asked (SenderDNSUnavailable: no network, resolver down), the
// envelope check alone decides. A deployment whose resolver is down, or one on a closed
// network behind a relay that already checked the mail, then still tells citizens it is
// closed; and a forger cannot choose this path for a real victim: only lookups in the
// victim's own domain count (its DMARC record, SPF for its envelope, keys of signatures in
// its name), not those of domains the forger owns and can make fail, and the victim's
// failing SPF or enforced DMARC policy (SenderFail) outranks any temporary failure
// (email.SenderChecker). The once-a-day limit per address bounds what remains. A sender with
// no record either way (SenderNone) or one nobody checked (SenderUnchecked) gets no answer.
func senderVerified(in channels.InboundMessage, addr string) bool {
	envelope, err := channels.NormalizeEmail(in.EnvelopeFrom)
	if err != nil || envelope != addr {
		return false
	}
	return in.SenderCheck == channels.SenderPass || in.SenderCheck == channels.SenderDNSUnavailable
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
