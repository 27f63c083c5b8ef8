package desk

import (
	"context"
	"errors"
	"net/http"
	"net/mail"
	"strings"
	"unicode/utf8"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/events"
	"github.com/sportello/sportello/store"
)

// MaxReplyChars bounds an operator's reply (ten SMS segments is already long; an email
// answer rarely needs more).
const MaxReplyChars = 20000

// MaxSMSChars is the longest SMS body Twilio accepts (it splits it into up to ten segments).
const MaxSMSChars = 1600

// maxReferences bounds the References header of a reply.
const maxReferences = 20

// route is where and how a reply travels.
type route struct {
	channel   channels.Kind
	to, from  string
	subject   string
	inReplyTo string
	refs      []string
}

// Reply answers a contact on its own channel: SMS to the citizen's number from the number they
// texted, email threaded under the citizen's last message, fax through email-to-fax. A phone
// contact is answered by SMS when the caller's number is a mobile (or the citizen has another
// mobile number or an email address), else it is unreachable. The message is stored as
// "queued" together with the job that sends it, so an outage delays it and never loses it.
func (d *Desk) Reply(ctx context.Context, u store.User, contactID, body string) (channels.Message, error) {
	return d.ReplyVia(ctx, u, contactID, body, "")
}

// ReplyVia is Reply on a channel the operator chose: "" is the contact's own (Reply), app_io
// the citizen's App IO inbox (they need a fiscal code, the comune an App IO service).
func (d *Desk) ReplyVia(ctx context.Context, u store.User, contactID, body string, via channels.Kind) (channels.Message, error) {
	if via != "" && via != channels.AppIO {
		return channels.Message{}, badRequest("invalid_channel", "channel must be app_io, or empty for the contact's own")
	}
	if strings.TrimSpace(body) == "" {
		return channels.Message{}, badRequest("empty_body", "the reply is empty")
	}
	if utf8.RuneCountInString(body) > MaxReplyChars {
		return channels.Message{}, badRequest("body_too_long", "the reply is over %d characters", MaxReplyChars)
	}
	c, err := d.o.Store.ContactBrief(ctx, contactID, u.Scope())
	if err != nil {
		return channels.Message{}, notFoundAs(err, "contact")
	}
	var rt route
	if via == channels.AppIO {
		rt, body, err = d.appIORoute(ctx, c, body)
	} else {
		rt, err = d.replyRoute(ctx, c)
	}
	if err != nil {
		return channels.Message{}, err
	}
	// The subject is the contact's first message's: a tag it quotes (a mail naming an office
	// token opened the contact) goes, since a token must reach its office alone and a reply
	// never needs one.
	rt.subject = channels.WithoutOfficeTokenTags(rt.subject)
	if rt.channel == channels.SMS && utf8.RuneCountInString(body) > MaxSMSChars {
		return channels.Message{}, badRequest("body_too_long", "an SMS reply holds at most %d characters", MaxSMSChars)
	}
	m := channels.Message{ID: store.NewID(), ContactID: c.ID, Direction: channels.Outbound, Channel: rt.channel,
		From: rt.from, To: rt.to, Subject: rt.subject, Body: body, InReplyTo: rt.inReplyTo, References: rt.refs,
		Status: store.OutQueued, Author: u.Username, CreatedAt: d.now()}
	if rt.channel == channels.Email || rt.channel == channels.Fax || rt.channel == channels.PEC {
		m.MessageID = d.newMessageID()
	}
	if rt.channel == channels.PEC {
		// Its receipts come back to the PEC box; without a delivery receipt by then the
		// operator is told.
		due := m.CreatedAt.Add(d.o.Config.Email.PECDeliveryTimeout)
		m.DeliveryDueAt = &due
	}
	if err := d.enqueue(ctx, m, false, store.AuditEntry{Actor: u.Username, Action: store.AuditReply, ContactID: &c.ID,
		Target: rt.to, Detail: string(rt.channel)}); err != nil {
		return channels.Message{}, err
	}
	d.publish(ctx, events.ContactUpdated, c.ID, c.Comune)
	return m, nil
}

// enqueue stores an outbound message, its audit line and the job that sends it in one
// transaction.
func (d *Desk) enqueue(ctx context.Context, m channels.Message, forward bool, audit store.AuditEntry) error {
	if d.o.Senders[m.Channel] == nil {
		return fail(http.StatusServiceUnavailable, "channel_unavailable", "no %s sender is configured", m.Channel)
	}
	jc := d.o.Jobs()
	if jc == nil {
		return fail(http.StatusServiceUnavailable, "jobs_unavailable", "background jobs are not running")
	}
	return d.o.Store.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := d.o.Store.InsertOutboundTx(ctx, tx, m); err != nil {
			return err
		}
		if audit.Action != "" {
			if err := d.o.Store.AuditTx(ctx, tx, audit); err != nil {
				return err
			}
		}
		return insertSend(ctx, jc, tx, SendArgs{MessageID: m.ID, Forward: forward}, d.o.MaxSendAttempts)
	})
}

func (d *Desk) newMessageID() string { return store.NewID() + "@" + d.domain }

// replyRoute decides a reply's channel and addresses.
func (d *Desk) replyRoute(ctx context.Context, c channels.Contact) (route, error) {
	switch c.Channel {
	case channels.SMS:
		if c.From == "" {
			return route{}, badRequest("unreachable", "the contact has no sender number to answer")
		}
		return route{channel: channels.SMS, to: c.From, from: d.smsFrom(c)}, nil
	case channels.Email:
		to, err := channels.NormalizeEmail(c.From)
		if err != nil {
			return route{}, badRequest("unreachable", "the contact has no valid email address to answer")
		}
		rt := route{channel: channels.Email, to: to, from: d.emailFrom(c.To), subject: replySubject(c.Subject)}
		rt.inReplyTo, rt.refs, err = d.threading(ctx, c.ID, to)
		return rt, err
	case channels.PEC:
		to, err := channels.NormalizeEmail(c.From)
		if err != nil {
			return route{}, badRequest("unreachable", "the PEC contact has no valid sender address to answer")
		}
		cm, ok := d.o.Config.ComuneByID(deref(c.Comune))
		if !ok || cm.PECAddress == "" {
			return route{}, badRequest("unreachable", "the contact's comune has no pec_address to answer from")
		}
		from, err := channels.NormalizeEmail(cm.PECAddress)
		if err != nil {
			return route{}, badRequest("unreachable", "the comune's pec_address is not an address")
		}
		rt := route{channel: channels.PEC, to: to, from: d.formatFrom(from), subject: replySubject(c.Subject)}
		rt.inReplyTo, rt.refs, err = d.threading(ctx, c.ID, to)
		return rt, err
	case channels.Fax:
		if _, err := channels.NormalizePhone(c.From); err != nil {
			return route{}, badRequest("unreachable", "the fax has no sender number to answer")
		}
		rt := route{channel: channels.Fax, to: c.From, from: d.formatFrom(d.fromAddr), subject: replySubject(c.Subject)}
		if strings.TrimSpace(c.Subject) == "" {
			rt.subject = "Risposta al suo fax"
		}
		return rt, nil
	case channels.Phone:
		caller := c.From
		if c.Direction == channels.Outbound {
			caller = c.To
		}
		if channels.IsMobile(caller) {
			return route{channel: channels.SMS, to: caller, from: d.callSMSFrom(c)}, nil
		}
		ids, err := d.o.Store.CitizenIdentities(ctx, c.Citizen.ID)
		if err != nil {
			return route{}, err
		}
		for _, id := range ids {
			if id.Kind == channels.IdentityPhone && channels.IsMobile(id.Value) {
				return route{channel: channels.SMS, to: id.Value, from: d.callSMSFrom(c)}, nil
			}
		}
		for _, id := range ids {
			if id.Kind == channels.IdentityEmail {
				return route{channel: channels.Email, to: id.Value, from: d.formatFrom(d.fromAddr), subject: "Linea Comune: la sua chiamata"}, nil
			}
		}
		return route{}, badRequest("unreachable", "the caller's number is not a mobile and the citizen has no other address: call them back")
	}
	return route{}, badRequest("unreachable", "contacts on channel %q cannot be answered", c.Channel)
}

// smsFrom is the number the citizen texted; without one, the configured sender.
func (d *Desk) smsFrom(c channels.Contact) string {
	if c.To != "" {
		return c.To
	}
	return d.o.Config.Twilio.From
}

// callSMSFrom answers a caller by SMS from the configured SMS sender: the number they called
// may be a landline that cannot text.
func (d *Desk) callSMSFrom(c channels.Contact) string {
	if d.o.Config.Twilio.From != "" {
		return d.o.Config.Twilio.From
	}
	if c.Direction == channels.Outbound {
		return c.From
	}
	return c.To
}

// emailFrom answers from the comune address the citizen wrote to, so their next answer comes
// back to a mailbox we read; else from email.from.
func (d *Desk) emailFrom(writtenTo string) string {
	if a, err := channels.NormalizeEmail(writtenTo); err == nil {
		if c, shared := d.comuni.ByAddress(a); c != "" || shared {
			return d.formatFrom(a)
		}
	}
	return d.formatFrom(d.fromAddr)
}

func (d *Desk) formatFrom(addr string) string {
	return (&mail.Address{Name: d.fromName, Address: addr}).String()
}

func replySubject(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return "Re:"
	}
	low := strings.ToLower(s)
	if strings.HasPrefix(low, "re:") || strings.HasPrefix(low, "r:") {
		return s
	}
	return "Re: " + s
}

// threading is In-Reply-To (the citizen's last usable Message-ID) and References (the thread's
// ids between the citizen and us, oldest first, the last maxReferences of them). Ids are bare,
// without angle brackets, as the store keeps them.
//
// Our mail to anyone else in the thread (the forward to an office, a later mail to it) and
// their answers stay out, and so do the ids of that mail where a message of the citizen's side
// quotes them: the Message-ID of our mail to an office is what lets the office's answer join
// the thread (store's threadFor), so it must reach the office alone, never the citizen.
func (d *Desk) threading(ctx context.Context, contactID, citizen string) (string, []string, error) {
	msgs, err := d.o.Store.Messages(ctx, contactID)
	if err != nil {
		return "", nil, err
	}
	citizen = strings.ToLower(strings.TrimSpace(citizen))
	others, private := channels.ThirdParties(msgs, func(addr string) bool { return addr == citizen })
	var inReplyTo string
	var refs []string
	seen := map[string]bool{}
	for _, m := range msgs {
		if m.MessageID == "" {
			continue
		}
		if m.Direction == channels.Outbound && others[strings.ToLower(strings.TrimSpace(m.To))] {
			continue // forwards to offices are not part of the citizen's thread
		}
		if m.Direction == channels.Inbound && others[strings.ToLower(strings.TrimSpace(m.From))] {
			continue // nor are the offices' answers
		}
		if m.Direction == channels.Inbound {
			for _, r := range m.References {
				if usableThreadID(r) && !seen[r] && !private[r] {
					seen[r] = true
					refs = append(refs, r)
				}
			}
		}
		if !usableThreadID(m.MessageID) || private[m.MessageID] {
			continue
		}
		if m.Direction == channels.Inbound {
			inReplyTo = m.MessageID
		}
		if !seen[m.MessageID] {
			seen[m.MessageID] = true
			refs = append(refs, m.MessageID)
		}
	}
	if len(refs) > maxReferences {
		refs = append(refs[:1:1], refs[len(refs)-maxReferences+1:]...)
	}
	return inReplyTo, refs, nil
}

// usableThreadID reports whether a stored id can go into In-Reply-To or References: one with a
// control character (a stray CR, stored before the parser refused them) would make go-message
// refuse the header, and with it every reply of the thread.
func usableThreadID(id string) bool {
	return id != "" && strings.IndexFunc(id, func(r rune) bool { return r < 0x20 || r == 0x7f }) < 0
}

var errNoSender = errors.New("no sender is configured for this channel")
