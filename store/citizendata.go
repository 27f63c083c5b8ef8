package store

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sportello/sportello/channels"
)

// CitizenData is everything Sportello keeps about one citizen, for an export (GDPR art. 15
// and 20): the citizen with identities, every contact in scope with its whole thread and
// attachments, and the alert subscriptions and consent trail of the citizen's numbers and
// fiscal codes (App IO).
type CitizenData struct {
	Citizen       channels.Citizen
	Contacts      []channels.Contact
	Subscriptions []SubscriptionRecord
	Consents      []ConsentRecord
	OptOuts       []OptOutRecord
}

// SubscriptionRecord is one alert subscription of a citizen's number or fiscal code. Phone
// is "cf:" and the fiscal code for a subscription by fiscal code alone (App IO).
type SubscriptionRecord struct {
	Comune      string     `json:"comune"`
	Phone       string     `json:"phone"`
	FiscalCode  string     `json:"fiscal_code,omitempty"`
	Status      string     `json:"status"`
	Topics      string     `json:"topics"`
	Lang        string     `json:"lang"`
	Source      string     `json:"source"`
	CreatedAt   time.Time  `json:"created_at"`
	ConfirmedAt *time.Time `json:"confirmed_at"`
}

// ConsentRecord is one recorded change of a number's (or an App IO subscription's) consent.
type ConsentRecord struct {
	Comune string    `json:"comune"`
	Phone  string    `json:"phone"`
	Action string    `json:"action"`
	Via    string    `json:"via"`
	Actor  string    `json:"actor"`
	Topics string    `json:"topics"`
	Detail string    `json:"detail"`
	At     time.Time `json:"at"`
}

// OptOutRecord says a number is on the STOP list, since when and how.
type OptOutRecord struct {
	Phone string    `json:"phone"`
	Via   string    `json:"via"`
	At    time.Time `json:"at"`
}

// ExportCitizen gathers a citizen's data within the scope (ErrNotFound outside it).
func (s *Store) ExportCitizen(ctx context.Context, id string, sc Scope) (CitizenData, error) {
	var d CitizenData
	c, err := s.GetCitizen(ctx, id, sc)
	if err != nil {
		return d, err
	}
	c.Contacts = nil
	d.Citizen = c
	cursor := ""
	for {
		page, next, err := s.ListContacts(ctx, ContactFilter{Citizen: id, Limit: 200, Cursor: cursor, Scope: sc, Oldest: true})
		if err != nil {
			return d, err
		}
		for _, p := range page {
			full, err := s.GetContact(ctx, p.ID, sc)
			if err != nil {
				return d, err
			}
			withoutOfficeThreadIDs(&full, c.Identities)
			tokens, err := s.OfficeTokens(ctx, p.ID)
			if err != nil {
				return d, err
			}
			withoutOfficeTokens(&full, tokens)
			d.Contacts = append(d.Contacts, full)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if d.Contacts == nil {
		d.Contacts = []channels.Contact{}
	}
	d.Subscriptions, d.Consents, d.OptOuts = []SubscriptionRecord{}, []ConsentRecord{}, []OptOutRecord{}
	for _, ident := range c.Identities {
		var err error
		switch ident.Kind {
		case channels.IdentityPhone:
			err = s.exportNumberConsents(ctx, ident.Value, sc, &d)
		case channels.IdentityFiscalCode:
			err = s.exportFiscalCodeConsents(ctx, ident.Value, sc, &d)
		}
		if err != nil {
			return d, err
		}
	}
	return d, nil
}

// withoutOfficeThreadIDs blanks, for an export handed to the citizen, the Message-ID of our
// mail to anyone but them (a forward to an office, a later mail to it) wherever the thread
// holds it: on that message (also its external id, which the relay sets to the Message-ID)
// and in the In-Reply-To and References of the answers. That id is what lets an office's
// answer join the thread (threadFor): it must reach the office alone.
func withoutOfficeThreadIDs(c *channels.Contact, identities []channels.Identity) {
	citizen := make(map[string]bool, len(identities))
	for _, id := range identities {
		citizen[strings.ToLower(id.Value)] = true
	}
	_, private := channels.ThirdParties(c.Messages, func(addr string) bool { return citizen[addr] })
	if len(private) == 0 {
		return
	}
	for i := range c.Messages {
		m := &c.Messages[i]
		if private[m.MessageID] {
			m.MessageID = ""
		}
		if private[m.ExternalID] {
			m.ExternalID = ""
		}
		if private[m.InReplyTo] {
			m.InReplyTo = ""
		}
		m.References = slices.DeleteFunc(m.References, func(r string) bool { return private[r] })
	}
}

// withoutOfficeTokens takes, for an export handed to the citizen, the contact's office tokens
// out of every subject and text of the thread: our forward's subject carries one, and the
// office's answer quotes it. Like the Message-ID of our mail to the office, a token is what
// lets the office's answer join the thread (threadByOfficeToken): it must reach the office alone.
func withoutOfficeTokens(c *channels.Contact, tokens []string) {
	if len(tokens) == 0 {
		return
	}
	c.Subject = channels.WithoutOfficeTokens(c.Subject, tokens)
	c.Body = channels.WithoutOfficeTokens(c.Body, tokens)
	for i := range c.Messages {
		m := &c.Messages[i]
		m.Subject = channels.WithoutOfficeTokens(m.Subject, tokens)
		m.Body = channels.WithoutOfficeTokens(m.Body, tokens)
	}
}

// exportNumberConsents adds a number's subscriptions, consent trail and STOP.
func (s *Store) exportNumberConsents(ctx context.Context, phone string, sc Scope, d *CitizenData) error {
	if err := s.exportSubscriptions(ctx, "phone", phone, sc, d); err != nil {
		return err
	}
	if err := s.exportConsentTrail(ctx, phone, sc, d); err != nil {
		return err
	}
	var o OptOutRecord
	var at int64
	err := s.queryRow(ctx, "SELECT phone, via, created_at FROM sms_optouts WHERE phone = ?", phone).Scan(&o.Phone, &o.Via, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	o.At = FromMicros(at)
	d.OptOuts = append(d.OptOuts, o)
	return nil
}

// exportFiscalCodeConsents adds the subscriptions carrying a fiscal code (by it alone, for App
// IO, or a number's the comune gave it to) and the consent trail of the one by fiscal code
// alone. A fiscal code has no STOP of its own.
func (s *Store) exportFiscalCodeConsents(ctx context.Context, fiscalCode string, sc Scope, d *CitizenData) error {
	if err := s.exportSubscriptions(ctx, "fiscal_code", fiscalCode, sc, d); err != nil {
		return err
	}
	return s.exportConsentTrail(ctx, fiscalKeyPrefix+fiscalCode, sc, d)
}

// exportSubscriptions adds the subscriptions in scope whose column (phone or fiscal_code) is
// value, except those already in d: a number's subscription carrying the citizen's fiscal
// code is found by both.
func (s *Store) exportSubscriptions(ctx context.Context, column, value string, sc Scope, d *CitizenData) error {
	args := []any{value}
	rows, err := s.query(ctx, "SELECT comune, phone, fiscal_code, status, topics, lang, source, created_at, confirmed_at FROM subscribers WHERE "+
		column+" = ?"+sc.clause("comune", &args)+" ORDER BY comune, phone", args...)
	subs, err := Collect(rows, err, func(r rowScanner) (SubscriptionRecord, error) {
		var sr SubscriptionRecord
		var created int64
		var confirmed sql.NullInt64
		err := r.Scan(&sr.Comune, &sr.Phone, &sr.FiscalCode, &sr.Status, &sr.Topics, &sr.Lang, &sr.Source, &created, &confirmed)
		sr.CreatedAt, sr.ConfirmedAt = FromMicros(created), nullMicros(confirmed)
		return sr, err
	})
	if err != nil {
		return err
	}
	for _, sr := range subs {
		if !slices.ContainsFunc(d.Subscriptions, func(o SubscriptionRecord) bool { return o.Comune == sr.Comune && o.Phone == sr.Phone }) {
			d.Subscriptions = append(d.Subscriptions, sr)
		}
	}
	return nil
}

// exportConsentTrail adds the consent trail of a subscription key (a number, or "cf:" and a
// fiscal code): the comuni in scope, and the STOPs (which concern every comune).
func (s *Store) exportConsentTrail(ctx context.Context, key string, sc Scope, d *CitizenData) error {
	args := []any{key}
	scope := ""
	if sc.Comuni != nil {
		scope = " AND (comune = ''"
		for _, cm := range sc.Comuni {
			scope += " OR comune = ?"
			args = append(args, cm)
		}
		scope += ")"
	}
	rows, err := s.query(ctx, "SELECT comune, phone, action, via, actor, topics, detail, at FROM subscriber_consents WHERE phone = ?"+scope+" ORDER BY at, id", args...)
	cons, err := Collect(rows, err, func(r rowScanner) (ConsentRecord, error) {
		var cr ConsentRecord
		var at int64
		err := r.Scan(&cr.Comune, &cr.Phone, &cr.Action, &cr.Via, &cr.Actor, &cr.Topics, &cr.Detail, &at)
		cr.At = FromMicros(at)
		return cr, err
	})
	if err != nil {
		return err
	}
	d.Consents = append(d.Consents, cons...)
	return nil
}

// AttachmentBytes reads an attachment's bytes for an export: nil when it has none stored (the provider
// keeps it) or when they were erased.
func (s *Store) AttachmentBytes(ctx context.Context, a channels.Attachment) ([]byte, error) {
	if a.SHA256 == "" {
		return nil, nil
	}
	data, err := s.Blob(ctx, a.SHA256)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	return data, err
}

// AuditExport records that an admin exported a citizen's data.
func (s *Store) AuditExport(ctx context.Context, actor, citizenID string, contacts int) error {
	return s.Audit(ctx, AuditEntry{Actor: actor, Action: AuditExport, CitizenID: &citizenID, Detail: plural(contacts, "contact")})
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}
