package desk

import (
	"context"
	"errors"
	"net/http"
	"unicode/utf8"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/fiscalcode"
	"github.com/sportello/sportello/store"
)

// maxAppIOReply leaves room, under App IO's 10,000 characters, for escaping and the closing line.
const maxAppIOReply = 8000

// AddFiscalCode gives a citizen the codice fiscale an operator typed (check character
// verified), audited. It returns the code as stored. A code another citizen already has is a
// conflict: the two are one person, to be merged.
func (d *Desk) AddFiscalCode(ctx context.Context, u store.User, citizenID, raw string) (string, error) {
	cf, err := fiscalcode.Normalize(raw)
	if err != nil {
		return "", badRequest("invalid_fiscal_code", "%v", err)
	}
	if _, err := d.o.Store.GetCitizen(ctx, citizenID, u.Scope()); err != nil {
		return "", notFoundAs(err, "citizen")
	}
	_, err = d.o.Store.AddIdentity(ctx, citizenID, channels.Identity{Kind: channels.IdentityFiscalCode, Value: cf},
		store.AuditEntry{Actor: u.Username, Action: store.AuditIdentity, CitizenID: &citizenID, Target: cf, Detail: string(channels.IdentityFiscalCode)})
	switch {
	case errors.Is(err, store.ErrConflict):
		return "", fail(http.StatusConflict, "fiscal_code_taken", "the fiscal code %s belongs to another citizen: merge the two", cf)
	case errors.Is(err, store.ErrNotFound):
		return "", notFound("citizen")
	case err != nil:
		return "", err
	}
	return cf, nil
}

// CanReplyByAppIO reports whether the gateway can send App IO messages for the comune.
func (d *Desk) CanReplyByAppIO(comune string) bool {
	io, ok := d.o.Senders[channels.AppIO].(channels.AppIOClient)
	return ok && io.Enabled(comune)
}

// appIORoute is a reply by App IO to the contact's citizen: to their fiscal code, from the
// contact's comune's service.
func (d *Desk) appIORoute(ctx context.Context, c channels.Contact, body string) (route, string, error) {
	if c.Comune == nil || !d.CanReplyByAppIO(*c.Comune) {
		return route{}, "", badRequest("app_io_unavailable", "the contact's comune has no App IO service")
	}
	if c.Citizen == nil {
		return route{}, "", badRequest("no_fiscal_code", "the citizen has no fiscal code: add it on the citizen's page")
	}
	cf, err := d.o.Store.FiscalCodeOf(ctx, c.Citizen.ID)
	if err != nil {
		return route{}, "", err
	}
	if cf == "" {
		return route{}, "", badRequest("no_fiscal_code", "the citizen has no fiscal code: add it on the citizen's page")
	}
	// Asked now, so the operator learns at once (with the text kept) rather than from a failed
	// delivery later; an App IO that cannot answer now leaves it to the send job.
	io, _ := d.o.Senders[channels.AppIO].(channels.AppIOClient)
	if ok, err := io.Allowed(ctx, *c.Comune, cf); err == nil && !ok {
		return route{}, "", badRequest("app_io_refused", "the citizen's App IO profile does not accept the comune's messages (or there is none): reply on the contact's channel")
	} else if err != nil {
		d.o.Logger.Warn("asking App IO for a citizen's profile failed; the send will ask again", "contact", c.ID, "err", err)
	}
	if utf8.RuneCountInString(body) > maxAppIOReply {
		return route{}, "", badRequest("body_too_long", "an App IO reply holds at most %d characters", maxAppIOReply)
	}
	name := *c.Comune
	for _, cm := range d.o.Config.Comuni {
		if cm.ID == *c.Comune {
			name = cm.Name
		}
	}
	subject := "Risposta: " + c.Subject
	if c.Subject == "" {
		subject = "Risposta alla sua richiesta"
	}
	// The thread keeps the operator's text; the adapter makes it App IO markdown when it sends.
	subject, _ = channels.FitAppIO(subject+" - "+name, "", name)
	return route{channel: channels.AppIO, to: cf, from: *c.Comune, subject: subject}, body, nil
}
