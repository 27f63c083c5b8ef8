package alertstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/sportello/sportello/store"
)

// App IO's side of the alerts tables: subscriptions by fiscal code, the channel each recipient
// was reached on, and the messages App IO accepted whose delivery is still to be asked about.

// FiscalKey is the key (the phone column) of a subscription by fiscal code alone.
func FiscalKey(fiscalCode string) string { return "cf:" + fiscalCode }

// IsFiscalKey reports whether a subscription key is a fiscal code's, not a phone number.
func IsFiscalKey(phone string) bool { return strings.HasPrefix(phone, "cf:") }

// SetFiscalCode records a subscription's fiscal code (the comune gave both a phone and a
// fiscal code). Once that subscription is confirmed it stands for the citizen, and one of the
// same comune by the fiscal code alone is removed; until then (the SI may never come: a number
// that said STOP is never asked) the one by fiscal code keeps reaching them through App IO.
func (s *Store) SetFiscalCode(ctx context.Context, comune, phone, fiscalCode string, by ConsentActor) error {
	return s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		now := store.Micros(s.Now())
		if _, err := tx.Exec(ctx, "UPDATE subscribers SET fiscal_code = ?, updated_at = ? WHERE comune = ? AND phone = ?", fiscalCode, now, comune, phone); err != nil {
			return err
		}
		var status string
		if err := tx.QueryRow(ctx, "SELECT status FROM subscribers WHERE comune = ? AND phone = ?", comune, phone).Scan(&status); err != nil {
			return err
		}
		if status != SubscriberConfirmed {
			return nil
		}
		return replaceFiscalSubscription(ctx, tx, comune, phone, fiscalCode, by)
	})
}

// replaceFiscalSubscription removes the comune's subscription by fiscal code alone, now that
// the confirmed subscription of phone carries the same fiscal code: one citizen, one subscription.
func replaceFiscalSubscription(ctx context.Context, tx *store.Tx, comune, phone, fiscalCode string, by ConsentActor) error {
	res, err := tx.Exec(ctx, "UPDATE subscribers SET status = 'removed', updated_at = ? WHERE comune = ? AND phone = ? AND status <> 'removed'",
		store.Micros(tx.Store().Now()), comune, FiscalKey(fiscalCode))
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n > 0 {
		return AddConsent(ctx, tx, Consent{Comune: comune, Phone: FiscalKey(fiscalCode), Action: ConsentRemove, Via: by.Via, Actor: by.Actor,
			Detail: "replaced by the subscription of " + phone})
	}
	return nil
}

// SubscribeFiscalCode subscribes a citizen by fiscal code alone. A confirmed subscription of
// the comune that already carries the fiscal code (with a phone) only has its topics changed;
// one still pending does not stand for the citizen yet. A new one is
// confirmed at once: App IO asks the citizen's own consent (the service's switch in the app),
// and nothing reaches them unless their profile accepts the comune's service.
func (s *Store) SubscribeFiscalCode(ctx context.Context, comune, fiscalCode string, topics []string, lang string, by ConsentActor) (Subscriber, error) {
	key := FiscalKey(fiscalCode)
	err := s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		now := store.Micros(s.Now())
		var phone string
		err := tx.QueryRow(ctx, "SELECT phone FROM subscribers WHERE comune = ? AND fiscal_code = ? AND status = 'confirmed' AND phone <> ? ORDER BY phone LIMIT 1",
			comune, fiscalCode, key).Scan(&phone)
		if err == nil {
			key = phone
			if _, err := tx.Exec(ctx, "UPDATE subscribers SET topics = ?, updated_at = ? WHERE comune = ? AND phone = ?", joinTopics(topics), now, comune, phone); err != nil {
				return err
			}
			return AddConsent(ctx, tx, Consent{Comune: comune, Phone: phone, Action: ConsentSubscribe, Via: by.Via, Actor: by.Actor, Topics: topics, Detail: "fiscal code " + fiscalCode})
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO subscribers (comune, phone, status, topics, lang, source, created_at, updated_at, confirmed_at, fiscal_code)
			VALUES (?, ?, 'confirmed', ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (comune, phone) DO UPDATE SET status = 'confirmed', topics = excluded.topics, lang = excluded.lang,
				updated_at = excluded.updated_at, confirmed_at = COALESCE(subscribers.confirmed_at, excluded.confirmed_at)`,
			comune, key, joinTopics(topics), lang, by.Via, now, now, now, fiscalCode); err != nil {
			return err
		}
		return AddConsent(ctx, tx, Consent{Comune: comune, Phone: key, Action: ConsentSubscribe, Via: by.Via, Actor: by.Actor, Topics: topics, Detail: "App IO"})
	})
	if err != nil {
		return Subscriber{}, err
	}
	return s.Subscriber(ctx, comune, key)
}

// SubscriberByFiscalCode reads the comune's subscription that carries a fiscal code (a
// confirmed one first, then one with a phone, else by fiscal code alone); a removed one is
// store.ErrNotFound.
func (s *Store) SubscriberByFiscalCode(ctx context.Context, comune, fiscalCode string) (Subscriber, error) {
	return scanSubscriber(s.QueryRow(ctx, "SELECT "+subscriberColumns+` FROM subscribers WHERE comune = ? AND fiscal_code = ? AND status <> 'removed'
		ORDER BY CASE WHEN status = 'confirmed' THEN 0 ELSE 1 END, CASE WHEN phone LIKE 'cf:%' THEN 1 ELSE 0 END, phone LIMIT 1`, comune, fiscalCode))
}

// SubscriptionsOfFiscalCode lists the keys of the comune's subscriptions that carry a fiscal
// code (by phone, or by the fiscal code alone), removed ones left out.
func (s *Store) SubscriptionsOfFiscalCode(ctx context.Context, comune, fiscalCode string) ([]string, error) {
	rows, err := s.Query(ctx, "SELECT phone FROM subscribers WHERE comune = ? AND fiscal_code = ? AND status <> 'removed' ORDER BY phone", comune, fiscalCode)
	return store.Collect(rows, err, scanString)
}

// recordChannels writes the channel of each result that names one, one statement per channel.
func recordChannels(ctx context.Context, t *store.Tx, alertID string, results []SendResult) error {
	by := map[string][]int64{}
	for _, r := range results {
		if r.Channel != "" {
			by[r.Channel] = append(by[r.Channel], r.Seq)
		}
	}
	for ch, seqs := range by {
		inSeqs, seqArgs := seqsIn(seqs)
		args := append([]any{ch, alertID}, seqArgs...)
		if _, err := t.Exec(ctx, "UPDATE alert_recipients SET channel = ? WHERE alert_id = ? AND "+inSeqs, args...); err != nil {
			return err
		}
	}
	return nil
}

// IOPending is a recipient App IO accepted a message for and has not yet reported processed.
type IOPending struct {
	AlertID    string
	Seq        int64
	SID        string // "io:" + App IO's id
	FiscalCode string
	Comune     string
}

// AppIOPrefix marks App IO's message ids among the recipients' provider ids.
const AppIOPrefix = "io:"

// AppIOSent lists recipients reached through App IO still "sent", not looked at since before,
// oldest first.
func (s *Store) AppIOSent(ctx context.Context, before time.Time, limit int) ([]IOPending, error) {
	rows, err := s.Query(ctx, `SELECT r.alert_id, r.seq, r.sid, r.fiscal_code, a.comune FROM alert_recipients r JOIN alerts a ON a.id = r.alert_id
		WHERE r.channel = 'app_io' AND r.status = 'sent' AND r.updated_at < ? ORDER BY r.updated_at LIMIT ?`, store.Micros(before), limit)
	return store.Collect(rows, err, func(r interface{ Scan(...any) error }) (IOPending, error) {
		var p IOPending
		err := r.Scan(&p.AlertID, &p.Seq, &p.SID, &p.FiscalCode, &p.Comune)
		return p, err
	})
}

// TouchRecipient notes that a recipient was looked at now (it goes to the back of AppIOSent).
func (s *Store) TouchRecipient(ctx context.Context, alertID string, seq int64) error {
	return s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		_, err := tx.Exec(ctx, "UPDATE alert_recipients SET updated_at = ? WHERE alert_id = ? AND seq = ? AND status = 'sent'", store.Micros(s.Now()), alertID, seq)
		return err
	})
}

// ChannelCounts is where an alert's recipients stand, per channel they were reached on ("" =
// not yet sent).
func (s *Store) ChannelCounts(ctx context.Context, alertID string) (map[string]AlertCounts, error) {
	rows, err := s.Query(ctx, "SELECT channel, status, COUNT(*) FROM alert_recipients WHERE alert_id = ? GROUP BY channel, status", alertID)
	list, err := store.Collect(rows, err, func(r interface{ Scan(...any) error }) (statusCount, error) {
		var sc statusCount
		err := r.Scan(&sc.channel, &sc.status, &sc.n)
		return sc, err
	})
	if err != nil {
		return nil, err
	}
	out := map[string]AlertCounts{}
	for _, sc := range list {
		c := out[sc.channel]
		c.add(sc.status, sc.n)
		out[sc.channel] = c
	}
	return out, nil
}
