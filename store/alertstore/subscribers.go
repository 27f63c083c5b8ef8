package alertstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/sportello/sportello/store"
)

// Subscription statuses.
const (
	SubscriberPending   = "pending"
	SubscriberConfirmed = "confirmed"
	SubscriberStopped   = "stopped"
	SubscriberRemoved   = "removed"
)

// Consent actions and the ways a consent change arrives.
const (
	ConsentSubscribe = "subscribe" // the citizen subscribed (ISCRIVI) or confirmed an import
	ConsentRequest   = "request"   // the comune asked to subscribe the number: pending
	ConsentConfirm   = "confirm"   // the citizen confirmed a pending subscription (SI)
	ConsentStop      = "stop"      // the citizen (or the carrier, 21610) said STOP
	ConsentRemove    = "remove"    // the comune removed the subscriber
	ConsentImport    = "import"    // imported as already consenting

	ViaSMS     = "sms"
	ViaAPI     = "api"
	ViaImport  = "import"
	ViaCarrier = "carrier"
	ViaPage    = "page"
)

// Subscriber is one number's subscription to one comune's alerts.
type Subscriber struct {
	Comune      string
	Phone       string
	Status      string
	Topics      []string // empty: every alert of the comune
	Lang        string
	Source      string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	ConfirmedAt *time.Time
	// FiscalCode is the citizen's codice fiscale, for App IO ("" = none). A subscription by
	// fiscal code alone has FiscalKey(FiscalCode) as its Phone.
	FiscalCode string
}

// Consent is one recorded change of a number's consent.
type Consent struct {
	ID     string
	Comune string
	Phone  string
	Action string
	Via    string
	Actor  string
	Topics []string
	Detail string
	At     time.Time
}

// consentColumns are the columns scanConsent reads, in order.
const consentColumns = "id, comune, phone, action, via, actor, topics, detail, at"

func scanConsent(row interface{ Scan(...any) error }) (Consent, error) {
	var c Consent
	var topics string
	var at int64
	err := row.Scan(&c.ID, &c.Comune, &c.Phone, &c.Action, &c.Via, &c.Actor, &topics, &c.Detail, &at)
	c.Topics, c.At = splitList(topics), store.FromMicros(at)
	return c, err
}

// ConsentActor says who made a change and how, for the consent record.
type ConsentActor struct {
	Via   string
	Actor string
}

func joinTopics(t []string) string { return strings.Join(t, ",") }

const subscriberColumns = "comune, phone, status, topics, lang, source, created_at, updated_at, confirmed_at, fiscal_code"

func scanSubscriber(row interface{ Scan(...any) error }) (Subscriber, error) {
	var sb Subscriber
	var topics string
	var created, updated int64
	var confirmed sql.NullInt64
	err := row.Scan(&sb.Comune, &sb.Phone, &sb.Status, &topics, &sb.Lang, &sb.Source, &created, &updated, &confirmed, &sb.FiscalCode)
	if errors.Is(err, sql.ErrNoRows) {
		return sb, store.ErrNotFound
	}
	sb.Topics, sb.CreatedAt, sb.UpdatedAt, sb.ConfirmedAt = splitList(topics), store.FromMicros(created), store.FromMicros(updated), nullMicros(confirmed)
	return sb, err
}

// Subscriber reads one subscription.
func (s *Store) Subscriber(ctx context.Context, comune, phone string) (Subscriber, error) {
	return scanSubscriber(s.QueryRow(ctx, "SELECT "+subscriberColumns+" FROM subscribers WHERE comune = ? AND phone = ?", comune, phone))
}

// SubscriptionsOf lists every subscription of a number.
func (s *Store) SubscriptionsOf(ctx context.Context, phone string) ([]Subscriber, error) {
	rows, err := s.Query(ctx, "SELECT "+subscriberColumns+" FROM subscribers WHERE phone = ? ORDER BY comune", phone)
	return store.Collect(rows, err, scanSubscriber)
}

// IsOptedOut reports whether a number said STOP (or its owner's data was erased: the list keeps
// only store.ErasedKey of it) and has not subscribed again since.
func (s *Store) IsOptedOut(ctx context.Context, phone string) (bool, error) {
	key, err := s.ErasedKey(ctx, phone)
	if err != nil {
		return false, err
	}
	var n int
	err = s.QueryRow(ctx, "SELECT COUNT(*) FROM sms_optouts WHERE phone IN (?, ?)", phone, key).Scan(&n)
	return n > 0, err
}

// liftOptOut takes a number off the STOP list, under either form, when the citizen subscribes
// by themselves.
func liftOptOut(ctx context.Context, t *store.Tx, phone string) error {
	key, err := t.Store().ErasedKey(ctx, phone)
	if err != nil {
		return err
	}
	_, err = t.Exec(ctx, "DELETE FROM sms_optouts WHERE phone IN (?, ?)", phone, key)
	return err
}

// Consents lists a number's consent records for one comune, oldest first, with the STOPs
// (which concern every comune) made since that comune first touched the number: an older STOP
// is the business of the comuni the citizen had then, not of one that asks later.
func (s *Store) Consents(ctx context.Context, comune, phone string) ([]Consent, error) {
	rows, err := s.Query(ctx, "SELECT "+consentColumns+` FROM subscriber_consents
		WHERE phone = ? AND (comune = ? OR (comune = '' AND at >= (SELECT MIN(f.at) FROM subscriber_consents f WHERE f.phone = ? AND f.comune = ?)))
		ORDER BY at, id`, phone, comune, phone, comune)
	return store.Collect(rows, err, scanConsent)
}

// AddConsent records a consent change inside a transaction.
func AddConsent(ctx context.Context, t *store.Tx, c Consent) error {
	if c.ID == "" {
		c.ID = store.NewID()
	}
	if c.At.IsZero() {
		c.At = t.Store().Now()
	}
	_, err := t.Exec(ctx, `INSERT INTO subscriber_consents (id, comune, phone, action, via, actor, topics, detail, at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, c.ID, c.Comune, c.Phone, c.Action, c.Via, c.Actor, joinTopics(c.Topics), c.Detail, store.Micros(c.At))
	return err
}

// SubscribeByCitizen records the citizen's own subscription (ISCRIVI): it lifts their STOP,
// and the subscription is confirmed at once with the topics given (none = every alert).
func SubscribeByCitizen(ctx context.Context, t *store.Tx, comune, phone string, topics []string, lang string, by ConsentActor) error {
	now := store.Micros(t.Store().Now())
	if err := liftOptOut(ctx, t, phone); err != nil {
		return err
	}
	_, err := t.Exec(ctx, `INSERT INTO subscribers (comune, phone, status, topics, lang, source, created_at, updated_at, confirmed_at)
		VALUES (?, ?, 'confirmed', ?, ?, ?, ?, ?, ?)
		ON CONFLICT (comune, phone) DO UPDATE SET status = 'confirmed', topics = excluded.topics, lang = excluded.lang,
			updated_at = excluded.updated_at, confirmed_at = excluded.confirmed_at`,
		comune, phone, joinTopics(topics), lang, by.Via, now, now, now)
	if err != nil {
		return err
	}
	return AddConsent(ctx, t, Consent{Comune: comune, Phone: phone, Action: ConsentSubscribe, Via: by.Via, Actor: by.Actor, Topics: topics})
}

// ConfirmPending confirms the pending subscriptions of a number (the citizen answered SI) and
// returns the comuni confirmed. Only subscriptions whose confirmation request was sent at or
// after since count, and only those of comune ("" = any: the SI came to a shared number or to
// the number the requests are sent from). A subscription no request was sent for (the number
// had said STOP, or had a request that day already) is never confirmed by an SI.
func ConfirmPending(ctx context.Context, t *store.Tx, phone, comune string, since time.Time, by ConsentActor) ([]string, error) {
	rows, err := t.Query(ctx, `SELECT comune, topics, COALESCE(fiscal_code, '') FROM subscribers WHERE phone = ? AND status = 'pending'
		AND asked_at IS NOT NULL AND asked_at >= ? AND (? = '' OR comune = ?) ORDER BY comune`, phone, store.Micros(since), comune, comune)
	if err != nil {
		return nil, err
	}
	type pending struct{ comune, topics, fiscalCode string }
	list, err := store.Collect(rows, err, func(r interface{ Scan(...any) error }) (pending, error) {
		var p pending
		err := r.Scan(&p.comune, &p.topics, &p.fiscalCode)
		return p, err
	})
	if err != nil {
		return nil, err
	}
	now := store.Micros(t.Store().Now())
	var comuni []string
	for _, p := range list {
		if _, err := t.Exec(ctx, "UPDATE subscribers SET status = 'confirmed', updated_at = ?, confirmed_at = ? WHERE comune = ? AND phone = ? AND status = 'pending'",
			now, now, p.comune, phone); err != nil {
			return nil, err
		}
		if err := liftOptOut(ctx, t, phone); err != nil {
			return nil, err
		}
		if err := AddConsent(ctx, t, Consent{Comune: p.comune, Phone: phone, Action: ConsentConfirm, Via: by.Via, Actor: by.Actor, Topics: splitList(p.topics)}); err != nil {
			return nil, err
		}
		if p.fiscalCode != "" {
			if err := replaceFiscalSubscription(ctx, t, p.comune, phone, p.fiscalCode, by); err != nil {
				return nil, err
			}
		}
		comuni = append(comuni, p.comune)
	}
	return comuni, nil
}

// OptOut records a STOP: the number goes on the opt-out list, every subscription of it stops,
// and whatever alerts still queued for it are cancelled. It returns the comuni it was subscribed to.
func OptOut(ctx context.Context, t *store.Tx, phone string, by ConsentActor, detail string) ([]string, error) {
	now := store.Micros(t.Store().Now())
	_, err := t.Exec(ctx, "INSERT INTO sms_optouts (phone, via, created_at) VALUES (?, ?, ?) ON CONFLICT (phone) DO NOTHING", phone, by.Via, now)
	if err != nil {
		return nil, err
	}
	rows, err := t.Query(ctx, "SELECT comune FROM subscribers WHERE phone = ? AND status IN ('pending', 'confirmed') ORDER BY comune", phone)
	comuni, err := store.Collect(rows, err, scanString)
	if err != nil {
		return nil, err
	}
	if _, err := t.Exec(ctx, "UPDATE subscribers SET status = 'stopped', updated_at = ? WHERE phone = ? AND status IN ('pending', 'confirmed')", now, phone); err != nil {
		return nil, err
	}
	if _, err := t.Exec(ctx, "UPDATE alert_recipients SET status = 'cancelled', error = 'stop', updated_at = ? WHERE phone = ? AND status = 'queued'", now, phone); err != nil {
		return nil, err
	}
	return comuni, AddConsent(ctx, t, Consent{Phone: phone, Action: ConsentStop, Via: by.Via, Actor: by.Actor, Detail: detail})
}

// ConfirmationInterval is how often at most a number gets a confirmation request, whatever the
// API calls and whichever comune makes them: a key must not be able to SMS-bomb a number by
// repeating POST /api/v1/subscribers.
const ConfirmationInterval = 24 * time.Hour

// RequestSubscription is the comune asking, through the API, to subscribe a number: the
// subscription waits for the citizen's SI. It returns the subscription and whether a
// confirmation request must be sent now; onPending then runs in the same transaction, to
// enqueue it (its error undoes everything). No request is sent when the number is already
// confirmed (only the topics change), when a request went to the number in the last
// ConfirmationInterval (from any comune), or when the number said STOP.
//
// A number that said STOP is answered like any other pending subscription, and stays pending
// for good: telling one comune that a citizen said STOP to another would leak it, and nothing
// is ever sent to it (no request, and SI confirms only subscriptions a request was sent for).
func (s *Store) RequestSubscription(ctx context.Context, comune, phone string, topics []string, lang string, by ConsentActor,
	onPending func(ctx context.Context, tx *store.Tx) error) (Subscriber, bool, error) {
	var out Subscriber
	var ask bool
	err := s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		ask = false
		key, err := s.ErasedKey(ctx, phone)
		if err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM sms_optouts WHERE phone IN (?, ?)", phone, key).Scan(&n); err != nil {
			return err
		}
		optedOut := n > 0
		now := store.Micros(s.Now())
		var status string
		pending := false
		err = tx.QueryRow(ctx, "SELECT status FROM subscribers WHERE comune = ? AND phone = ?", comune, phone).Scan(&status)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			_, err = tx.Exec(ctx, `INSERT INTO subscribers (comune, phone, status, topics, lang, source, created_at, updated_at)
				VALUES (?, ?, 'pending', ?, ?, ?, ?, ?)`, comune, phone, joinTopics(topics), lang, by.Via, now, now)
			pending = true
		case err != nil:
			return err
		case status == SubscriberConfirmed && !optedOut:
			_, err = tx.Exec(ctx, "UPDATE subscribers SET topics = ?, updated_at = ? WHERE comune = ? AND phone = ?", joinTopics(topics), now, comune, phone)
		default: // pending again, removed earlier by the comune, or stopped: ask (again). A
			// request already sent stays valid for the SI unless the citizen said STOP since.
			_, err = tx.Exec(ctx, `UPDATE subscribers SET status = 'pending', topics = ?, lang = ?, source = ?, updated_at = ?, confirmed_at = NULL,
				asked_at = CASE WHEN status = 'stopped' THEN NULL ELSE asked_at END WHERE comune = ? AND phone = ?`,
				joinTopics(topics), lang, by.Via, now, comune, phone)
			pending = true
		}
		if err != nil {
			return err
		}
		action := ConsentRequest
		if !pending {
			action = ConsentSubscribe
		}
		if err := AddConsent(ctx, tx, Consent{Comune: comune, Phone: phone, Action: action, Via: by.Via, Actor: by.Actor, Topics: topics}); err != nil {
			return err
		}
		if !pending || optedOut {
			return nil
		}
		// One request a day per number, across replicas: the row is the reservation, and a
		// concurrent transaction for the same number waits on it and then finds it taken.
		res, err := tx.Exec(ctx, `INSERT INTO sms_confirmations (phone, comune, sent_at) VALUES (?, ?, ?)
			ON CONFLICT (phone) DO UPDATE SET comune = excluded.comune, sent_at = excluded.sent_at
			WHERE sms_confirmations.sent_at <= ?`, phone, comune, now, now-ConfirmationInterval.Microseconds())
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		ask = true
		if _, err := tx.Exec(ctx, "UPDATE subscribers SET asked_at = ? WHERE comune = ? AND phone = ?", now, comune, phone); err != nil {
			return err
		}
		if onPending != nil {
			return onPending(ctx, tx)
		}
		return nil
	})
	if err != nil {
		return Subscriber{}, false, err
	}
	out, err = s.Subscriber(ctx, comune, phone)
	return out, ask, err
}

// RemoveSubscriber is the comune deleting a subscription (status removed; the consent trail
// stays). A number not subscribed, or already removed, is store.ErrNotFound.
func (s *Store) RemoveSubscriber(ctx context.Context, comune, phone string, by ConsentActor) error {
	return s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		now := store.Micros(s.Now())
		res, err := tx.Exec(ctx, "UPDATE subscribers SET status = 'removed', updated_at = ? WHERE comune = ? AND phone = ? AND status <> 'removed'", now, comune, phone)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		if _, err := tx.Exec(ctx, `UPDATE alert_recipients SET status = 'cancelled', error = 'removed', updated_at = ?
			WHERE phone = ? AND status = 'queued' AND alert_id IN (SELECT id FROM alerts WHERE comune = ?)`, now, phone, comune); err != nil {
			return err
		}
		return AddConsent(ctx, tx, Consent{Comune: comune, Phone: phone, Action: ConsentRemove, Via: by.Via, Actor: by.Actor})
	})
}

// ImportResult counts what an import did with its rows.
type ImportResult struct {
	Imported int // subscriptions created or confirmed
	OptedOut int // skipped: the number said STOP
}

// importChunk is how many rows one multi-row INSERT carries (8 parameters each: well under
// both databases' parameter limits).
const importChunk = 400

// ImportRow is one subscriber to import.
type ImportRow struct {
	Phone string // E.164
	Lang  string // it, en
}

// importPerTx is how many subscribers one write of an import carries: enough that commits are
// a small part of its time, few enough that people's writes wait for one only briefly (20,000
// held SQLite's only writer for about 280 ms here).
const importPerTx = 2000

// ImportSubscribers records already-consenting subscribers of a comune, confirmed, in bulk
// writes of importPerTx. Numbers that said STOP are skipped and counted; a stopped subscription
// is never turned back on. Phones must be E.164, unique within the call.
func (s *Store) ImportSubscribers(ctx context.Context, comune string, rows []ImportRow, topics []string, by ConsentActor) (ImportResult, error) {
	var res ImportResult
	for start := 0; start < len(rows); start += importPerTx {
		part := rows[start:min(start+importPerTx, len(rows))]
		var r ImportResult
		err := s.Write(store.Bulk(ctx), func(ctx context.Context, tx *store.Tx) error {
			r = ImportResult{}
			ps := preparedSet{tx: tx, stmts: map[string]*sql.Stmt{}}
			defer ps.close()
			for i := 0; i < len(part); i += importChunk {
				n, skipped, err := ps.importChunk(ctx, comune, part[i:min(i+importChunk, len(part))], topics, by)
				if err != nil {
					return err
				}
				r.Imported += n
				r.OptedOut += skipped
			}
			return nil
		})
		if err != nil {
			return res, err
		}
		res.Imported += r.Imported
		res.OptedOut += r.OptedOut
	}
	return res, nil
}

// preparedSet reuses the statements of one transaction: an import runs the same large
// multi-row statements hundreds of times, and preparing them is a good part of the cost.
type preparedSet struct {
	tx    *store.Tx
	stmts map[string]*sql.Stmt
}

func (p *preparedSet) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := p.stmts[query]; ok {
		return st, nil
	}
	st, err := p.tx.SQL().PrepareContext(ctx, p.tx.Store().Rebind(query))
	if err != nil {
		return nil, err
	}
	p.stmts[query] = st
	return st, nil
}

func (p *preparedSet) close() {
	for _, st := range p.stmts {
		st.Close()
	}
}

// RefreshAudienceStats has PostgreSQL sample the subscribers anew after a large import, so that
// an alert's chunks are read along an index rather than sorted each time (autovacuum would get
// there, but only later). SQLite needs nothing.
func (s *Store) RefreshAudienceStats(ctx context.Context) error {
	if s.Dialect() != store.Postgres {
		return nil
	}
	_, err := s.DB().ExecContext(ctx, "ANALYZE subscribers")
	return err
}

func (p *preparedSet) importChunk(ctx context.Context, comune string, phones []ImportRow, topics []string, by ConsentActor) (int, int, error) {
	t := p.tx
	// A number is looked up as itself (STOP) and as its erased key (its owner's data was
	// erased: an import must not subscribe it again).
	args := make([]any, 0, 2*len(phones))
	byKey := make(map[string]string, len(phones))
	for _, p := range phones {
		args = append(args, p.Phone)
	}
	for _, row := range phones {
		key, err := t.Store().ErasedKey(ctx, row.Phone)
		if err != nil {
			return 0, 0, err
		}
		byKey[key] = row.Phone
		args = append(args, key)
	}
	q, err := p.stmt(ctx, "SELECT phone FROM sms_optouts WHERE phone IN ("+qmarks(len(args))+")")
	if err != nil {
		return 0, 0, err
	}
	rows, err := q.QueryContext(ctx, args...)
	optedOut, err := store.Collect(rows, err, scanString)
	if err != nil {
		return 0, 0, err
	}
	stopped := make(map[string]bool, len(optedOut))
	for _, k := range optedOut {
		if phone, ok := byKey[k]; ok {
			k = phone
		}
		stopped[k] = true
	}
	now := store.Micros(t.Store().Now())
	tp := joinTopics(topics)
	var sb, cb strings.Builder
	sb.WriteString("INSERT INTO subscribers (comune, phone, status, topics, lang, source, created_at, updated_at, confirmed_at) VALUES ")
	cb.WriteString("INSERT INTO subscriber_consents (id, comune, phone, action, via, actor, topics, detail, at) VALUES ")
	subArgs := make([]any, 0, len(phones)*8)
	conArgs := make([]any, 0, len(phones)*8)
	n := 0
	for _, row := range phones {
		p, lang := row.Phone, row.Lang
		if lang == "" {
			lang = "it"
		}
		if stopped[p] {
			continue
		}
		if n > 0 {
			sb.WriteByte(',')
			cb.WriteByte(',')
		}
		sb.WriteString("(?, ?, 'confirmed', ?, ?, ?, ?, ?, ?)")
		subArgs = append(subArgs, comune, p, tp, lang, by.Via, now, now, now)
		cb.WriteString("(?, ?, ?, 'import', ?, ?, ?, '', ?)")
		conArgs = append(conArgs, store.NewID(), comune, p, by.Via, by.Actor, tp, now)
		n++
	}
	if n == 0 {
		return 0, len(stopped), nil
	}
	// A subscription stopped by the citizen stays stopped whatever the import says.
	sb.WriteString(` ON CONFLICT (comune, phone) DO UPDATE SET
		status = CASE WHEN subscribers.status = 'stopped' THEN 'stopped' ELSE 'confirmed' END,
		topics = excluded.topics, updated_at = excluded.updated_at,
		confirmed_at = COALESCE(subscribers.confirmed_at, excluded.confirmed_at)`)
	for _, st := range []struct {
		q    string
		args []any
	}{{sb.String(), subArgs}, {cb.String(), conArgs}} {
		stmt, err := p.stmt(ctx, st.q)
		if err != nil {
			return 0, 0, err
		}
		if _, err := stmt.ExecContext(ctx, st.args...); err != nil {
			return 0, 0, err
		}
	}
	return n, len(stopped), nil
}

// qmarks is n comma-separated placeholders.
func qmarks(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?,", n-1) + "?"
}

// SubscriberCount is how many subscriptions of a comune have a status, per topic.
type SubscriberCount struct {
	Comune string
	Status string
	Topics string // the subscription's topic list as stored ("" = everything)
	Lang   string
	Count  int
}

// CountSubscribers groups a comune's subscriptions ("" = every comune) by status, topic list
// and language.
func (s *Store) CountSubscribers(ctx context.Context, comune string) ([]SubscriberCount, error) {
	rows, err := s.Query(ctx, `SELECT comune, status, topics, lang, COUNT(*) FROM subscribers WHERE (? = '' OR comune = ?)
		GROUP BY comune, status, topics, lang ORDER BY comune, status, topics, lang`, comune, comune)
	return store.Collect(rows, err, func(r interface{ Scan(...any) error }) (SubscriberCount, error) {
		var c SubscriberCount
		err := r.Scan(&c.Comune, &c.Status, &c.Topics, &c.Lang, &c.Count)
		return c, err
	})
}

// SMSCommand is an inbound SMS command already acted on.
type SMSCommand struct {
	MessageSid string
	Phone      string
	Keyword    string
	Handled    bool
	Reply      string
	At         time.Time
}

// SMSCommandBySid finds a command already acted on (store.ErrNotFound otherwise).
func (s *Store) SMSCommandBySid(ctx context.Context, sid string) (SMSCommand, error) {
	var c SMSCommand
	var handled int
	var at int64
	err := s.QueryRow(ctx, "SELECT message_sid, phone, keyword, handled, reply, at FROM sms_commands WHERE message_sid = ?", sid).
		Scan(&c.MessageSid, &c.Phone, &c.Keyword, &handled, &c.Reply, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return c, store.ErrNotFound
	}
	c.Handled, c.At = handled == 1, store.FromMicros(at)
	return c, err
}

// RecordSMSCommand records a command in the transaction that acts on it; the same MessageSid
// twice is store.ErrConflict, which undoes the second action with its transaction.
func RecordSMSCommand(ctx context.Context, t *store.Tx, c SMSCommand) error {
	_, err := t.Exec(ctx, "INSERT INTO sms_commands (message_sid, phone, keyword, handled, reply, at) VALUES (?, ?, ?, ?, ?, ?)",
		c.MessageSid, c.Phone, c.Keyword, boolInt(c.Handled), c.Reply, store.Micros(t.Store().Now()))
	if store.IsUniqueViolation(err) {
		return store.ErrConflict
	}
	return err
}
