package alertstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/sportello/sportello/store"
)

// Alert statuses.
const (
	AlertScheduled  = "scheduled"
	AlertSending    = "sending"
	AlertSent       = "sent"
	AlertCancelled  = "cancelled"
	AlertSuperseded = "superseded"
	AlertExpired    = "expired"
)

// Recipient statuses.
const (
	RecipientQueued    = "queued"
	RecipientSending   = "sending"
	RecipientSent      = "sent"
	RecipientDelivered = "delivered"
	RecipientFailed    = "failed"
	RecipientCancelled = "cancelled"
)

// Alert is one SMS alert of a comune.
type Alert struct {
	ID        string
	Comune    string
	Category  string
	Message   string
	MessageEN string
	// TextIT and TextEN are what subscribers receive, by their language: the message through
	// the comune's template, GSM-7-rewritten when asked.
	TextIT      string
	TextEN      string
	Topics      []string
	Status      string
	GSM7Safe    bool
	Segments    int
	Encoding    string
	Recipients  int
	Source      string // api, cap, page
	CreatedBy   string // the API key id or the username
	ExternalRef string // the CAP sender and identifier, or the client's Idempotency-Key
	Replaces    string // the alert a CAP Update replaced
	SendAt      time.Time
	ExpiresAt   *time.Time
	StartedAt   *time.Time
	FinishedAt  *time.Time
	CancelledAt *time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
	// StalledAt is set while a sending alert makes no progress; StallReason says why.
	StalledAt   *time.Time
	StallReason string
	// Urgent alerts ignore the quiet hours; QuietHeld says the quiet hours moved SendAt to
	// their end.
	Urgent    bool
	QuietHeld bool
	// Channels are the ways the alert reaches subscribers, in order of preference: nil or
	// ["sms"] is SMS only; ["app_io", "sms"] tries App IO first for subscribers with a fiscal
	// code. ChannelAppIO and ChannelSMS name them.
	Channels []string
}

// The channels an alert may name.
const (
	ChannelSMS   = "sms"
	ChannelAppIO = "app_io"
)

// UsesAppIO reports whether the alert may reach subscribers through App IO.
func (a Alert) UsesAppIO() bool {
	for _, c := range a.Channels {
		if c == ChannelAppIO {
			return true
		}
	}
	return false
}

// UsesSMS reports whether the alert may reach subscribers by SMS (no channels named: yes).
func (a Alert) UsesSMS() bool {
	if len(a.Channels) == 0 {
		return true
	}
	for _, c := range a.Channels {
		if c == ChannelSMS {
			return true
		}
	}
	return false
}

// AlertCounts is where an alert's recipients stand.
type AlertCounts struct {
	Queued    int `json:"queued"`
	Sending   int `json:"sending"`
	Sent      int `json:"sent"`
	Delivered int `json:"delivered"`
	Failed    int `json:"failed"`
	Cancelled int `json:"cancelled"`
}

// Done is how many recipients reached a final state from the sender's point of view.
func (c AlertCounts) Done() int { return c.Sent + c.Delivered + c.Failed + c.Cancelled }

// Total is every recipient.
func (c AlertCounts) Total() int { return c.Queued + c.Sending + c.Done() }

// Enqueuer inserts the River jobs of an alert's batches, inside the transaction that creates them.
type Enqueuer func(ctx context.Context, tx *store.Tx, alertID string, batches []int) error

const alertColumns = `id, comune, category, message, message_en, text_it, text_en, topics, status, gsm7_safe, segments, encoding,
	recipients, source, created_by, external_ref, replaces, send_at, expires_at, started_at, finished_at, cancelled_at, created_at, updated_at,
	stalled_at, stall_reason, urgent, quiet_held, channels`

func scanAlert(row interface{ Scan(...any) error }) (Alert, error) {
	var a Alert
	var topics, chans string
	var gsm, urgent, held int
	var ext, repl sql.NullString
	var sendAt, created, updated int64
	var expires, started, finished, cancelled, stalled sql.NullInt64
	err := row.Scan(&a.ID, &a.Comune, &a.Category, &a.Message, &a.MessageEN, &a.TextIT, &a.TextEN, &topics, &a.Status, &gsm,
		&a.Segments, &a.Encoding, &a.Recipients, &a.Source, &a.CreatedBy, &ext, &repl, &sendAt, &expires, &started, &finished,
		&cancelled, &created, &updated, &stalled, &a.StallReason, &urgent, &held, &chans)
	a.Urgent, a.QuietHeld = urgent == 1, held == 1
	a.StalledAt = nullMicros(stalled)
	if errors.Is(err, sql.ErrNoRows) {
		return a, store.ErrNotFound
	}
	a.Topics, a.GSM7Safe, a.Channels = splitList(topics), gsm == 1, splitList(chans)
	a.ExternalRef, a.Replaces = ext.String, repl.String
	a.SendAt, a.CreatedAt, a.UpdatedAt = store.FromMicros(sendAt), store.FromMicros(created), store.FromMicros(updated)
	a.ExpiresAt, a.StartedAt, a.FinishedAt, a.CancelledAt = nullMicros(expires), nullMicros(started), nullMicros(finished), nullMicros(cancelled)
	return a, err
}

func microsOrNil(t *time.Time) any {
	if t == nil {
		return nil
	}
	return store.Micros(*t)
}

// CreateAlertOptions tune CreateAlert.
type CreateAlertOptions struct {
	// BatchSize is how many recipients one fan-out job takes.
	BatchSize int
	// Enqueue inserts the fan-out jobs when the alert starts at once.
	Enqueue Enqueuer
	// Prepare enqueues the job that writes the rest of a large audience (see StartOptions).
	Prepare PrepareEnqueuer
	// Owner is the process that starts the alert (see StartOptions).
	Owner string
	// Supersede, when set, is an alert of the same comune this one replaces (CAP Update): what
	// it has not sent yet is cancelled and it stops counting as active.
	Supersede string
}

// StartOptions say how a starting alert's recipients are written and worked.
type StartOptions struct {
	// BatchSize is how many recipients one fan-out job takes (default 500).
	BatchSize int
	// Enqueue inserts the fan-out jobs of complete batches.
	Enqueue Enqueuer
	// Prepare, when set, enqueues a job that calls PrepareAlert until the audience is written,
	// after its first chunk: the start's own transaction then stays short. Without it the
	// start writes the whole audience itself.
	Prepare PrepareEnqueuer
	// Owner is the sender id of the process writing the audience: while its heartbeat is fresh
	// nobody else resumes the preparation (UnpreparedAlerts).
	Owner string
}

func (o StartOptions) batchSize() int {
	if o.BatchSize < 1 {
		return 500
	}
	return o.BatchSize
}

// PrepareEnqueuer inserts the River job that prepares an alert, inside the given transaction.
type PrepareEnqueuer func(ctx context.Context, tx *store.Tx, alertID string) error

// CreateAlert stores an alert. One due now starts at once in the same transaction: it is marked
// sending and the first of its recipients (the comune's confirmed subscribers of its topics,
// never a number that said STOP) are written with their fan-out jobs, so a created alert is a
// started one; a large audience is written on by the job o.Prepare enqueues (see startAlert).
// A later send_at leaves it scheduled, with an estimate of its recipients. An ExternalRef
// already used by the comune is store.ErrConflict.
func (s *Store) CreateAlert(ctx context.Context, a Alert, o CreateAlertOptions) (Alert, error) {
	if a.ID == "" {
		a.ID = store.NewID()
	}
	now := s.Now().UTC()
	a.CreatedAt, a.UpdatedAt = now, now
	if a.SendAt.IsZero() || a.SendAt.Before(now) {
		a.SendAt = now
	}
	// Counted before the write, on a reader: the estimate a started alert shows while its
	// audience is written, and a scheduled alert's.
	estimate, err := s.CountAudienceFor(ctx, a.Comune, a.Topics, a.Channels)
	if err != nil {
		return a, err
	}
	err = s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		if o.Supersede != "" {
			if err := endAlert(ctx, tx, a.Comune, o.Supersede, AlertSuperseded); err != nil {
				return err
			}
			a.Replaces = o.Supersede
		}
		a.Status = AlertScheduled
		_, err := tx.Exec(ctx, `INSERT INTO alerts (id, comune, category, message, message_en, text_it, text_en, topics, status, gsm7_safe,
			segments, encoding, recipients, source, created_by, external_ref, replaces, send_at, expires_at, created_at, updated_at,
			urgent, quiet_held, channels)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			a.ID, a.Comune, a.Category, a.Message, a.MessageEN, a.TextIT, a.TextEN, joinTopics(a.Topics), a.Status, boolInt(a.GSM7Safe),
			a.Segments, a.Encoding, estimate, a.Source, a.CreatedBy, strOrNil(a.ExternalRef), strOrNil(a.Replaces), store.Micros(a.SendAt),
			microsOrNil(a.ExpiresAt), store.Micros(now), store.Micros(now), boolInt(a.Urgent), boolInt(a.QuietHeld), joinTopics(a.Channels))
		if store.IsUniqueViolation(err) {
			return store.ErrConflict
		}
		if err != nil {
			return err
		}
		a.Recipients = estimate
		if a.SendAt.After(now) {
			return nil
		}
		n, all, err := startAlert(ctx, tx, a.ID, estimate, StartOptions{BatchSize: o.BatchSize, Enqueue: o.Enqueue, Prepare: o.Prepare, Owner: o.Owner})
		if err != nil {
			return err
		}
		a.Recipients, a.StartedAt = n, &now
		a.Status = AlertSending
		if all && n == 0 {
			a.Status, a.FinishedAt = AlertSent, &now
		}
		return nil
	})
	return a, err
}

// audience is the WHERE clause selecting an alert's recipients among subscribers s. Without
// App IO, subscriptions by fiscal code alone (no phone) are left out; without SMS, those
// without a fiscal code.
func audience(comune string, topics []string, chans []string) (string, []any) {
	where := "s.comune = ? AND s.status = 'confirmed' AND NOT EXISTS (SELECT 1 FROM sms_optouts o WHERE o.phone = s.phone)"
	args := []any{comune}
	a := Alert{Channels: chans}
	if !a.UsesAppIO() {
		where += " AND s.phone NOT LIKE 'cf:%'"
	}
	if !a.UsesSMS() {
		where += " AND s.fiscal_code <> ''"
	}
	if len(topics) > 0 {
		parts := []string{"s.topics = ''"}
		for _, t := range topics {
			parts = append(parts, `',' || s.topics || ',' LIKE ? ESCAPE '\'`)
			args = append(args, "%,"+likeEscape(t)+",%")
		}
		where += " AND (" + strings.Join(parts, " OR ") + ")"
	}
	return where, args
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// CountAudience estimates how many subscribers an alert to these topics would reach now.
func (s *Store) CountAudience(ctx context.Context, comune string, topics []string) (int, error) {
	return s.CountAudienceFor(ctx, comune, topics, nil)
}

// CountAudienceFor is CountAudience for an alert sent on these channels (nil = SMS only).
func (s *Store) CountAudienceFor(ctx context.Context, comune string, topics []string, chans []string) (int, error) {
	where, args := audience(comune, topics, chans)
	var n int
	err := s.QueryRow(ctx, "SELECT COUNT(*) FROM subscribers s WHERE "+where, args...).Scan(&n)
	return n, err
}

// maxPrepareChunk is how many recipients one write of a starting alert adds at most: writing a
// large audience in one statement held SQLite's only writer for as long as it took (282 ms for
// 30,000 subscribers here, seconds for a million), and every webhook waited behind it; a chunk
// of 500 still took up to 14 ms during a fan-out.
const maxPrepareChunk = 100

// startAlert marks an alert sending and writes the first of its recipients (the comune's
// confirmed subscribers of its topics, in phone order), numbered and cut into batches, with
// their batches and jobs. When more remain, o.Prepare enqueues the job that writes them a chunk
// at a time (PrepareAlert), and estimate, counted beforehand, stands as the alert's recipients
// until the last chunk is written; without o.Prepare every chunk is written here. It returns
// the recipients and whether they are all written.
func startAlert(ctx context.Context, t *store.Tx, id string, estimate int, o StartOptions) (int, bool, error) {
	now := store.Micros(t.Store().Now())
	if _, err := t.Exec(ctx, "UPDATE alerts SET status = ?, recipients = ?, started_at = ?, updated_at = ?, prepare_cursor = '', prepared_at = ?, prepared = 0, prepare_owner = ? WHERE id = ?",
		AlertSending, estimate, now, now, now, strOrNil(o.Owner), id); err != nil {
		return 0, false, err
	}
	for {
		done, err := prepareChunk(ctx, t, id, o)
		if err != nil || done {
			n, rerr := writtenRecipients(ctx, t, id)
			return n, true, errors.Join(err, rerr)
		}
		if o.Prepare != nil {
			return estimate, false, o.Prepare(ctx, t, id)
		}
	}
}

// writtenRecipients is how many recipients of an alert are written.
func writtenRecipients(ctx context.Context, t *store.Tx, id string) (int, error) {
	var n int
	err := t.QueryRow(ctx, "SELECT prepared FROM alerts WHERE id = ?", id).Scan(&n)
	return n, err
}

// PrepareAlert writes the next chunk of a starting alert's recipients, with their batch and its
// job, and reports whether all are written (or the alert ended meanwhile: the rest is never
// written). Each chunk is its own bulk write, so people's writes pass between two; a chunk
// that fails is simply written again by the next call, from the same point.
func (s *Store) PrepareAlert(ctx context.Context, id string, o StartOptions) (bool, error) {
	var done bool
	err := s.Write(store.Bulk(ctx), func(ctx context.Context, tx *store.Tx) error {
		var err error
		done, err = prepareChunk(ctx, tx, id, o)
		return err
	})
	return done, err
}

// prepareChunk writes the recipients that follow the alert's cursor (up to one batch), and
// ends the preparation when there are no more, or when the alert has ended meanwhile.
func prepareChunk(ctx context.Context, t *store.Tx, id string, o StartOptions) (bool, error) {
	batchSize := o.batchSize()
	// Two processes preparing the same alert (a job run again after a crash) take turns.
	if err := lockAlert(ctx, t, id); err != nil {
		return false, err
	}
	var comune, topics, chans string
	var cursor sql.NullString
	var written int
	err := t.QueryRow(ctx, "SELECT comune, topics, channels, prepare_cursor, prepared FROM alerts WHERE id = ?", id).
		Scan(&comune, &topics, &chans, &cursor, &written)
	if errors.Is(err, sql.ErrNoRows) {
		return true, nil
	}
	// No cursor: all written, or the alert ended (endAlert clears it) and the rest never will be.
	if err != nil || !cursor.Valid {
		return true, err
	}
	now := store.Micros(t.Store().Now())
	chunk := prepareChunkFor(batchSize)
	subs, err := nextSubscribers(ctx, t, comune, splitList(topics), splitList(chans), cursor.String, chunk)
	if err != nil {
		return false, err
	}
	if len(subs) > 0 {
		if err := insertRecipients(ctx, t, id, written, batchSize, now, subs); err != nil {
			return false, err
		}
		written += len(subs)
	}
	// A batch is recorded, and its job enqueued, once all its recipients are written: a job
	// that found its batch half written would finish it and strand the rest.
	var complete []int
	last := len(subs) < chunk
	for b := (written - len(subs)) / batchSize; b*batchSize < written; b++ {
		if (b+1)*batchSize <= written || last {
			complete = append(complete, b)
		}
	}
	if err := addBatches(ctx, t, id, complete, now, o.Enqueue); err != nil {
		return false, err
	}
	if !last {
		_, err := t.Exec(ctx, "UPDATE alerts SET prepare_cursor = ?, prepared_at = ?, prepared = ?, prepare_owner = ? WHERE id = ?",
			subs[len(subs)-1].phone, now, written, strOrNil(o.Owner), id)
		return false, err
	}
	if _, err := t.Exec(ctx, "UPDATE alerts SET prepare_cursor = NULL, prepared_at = ?, prepared = ?, recipients = ? WHERE id = ?", now, written, written, id); err != nil {
		return false, err
	}
	// Batches written earlier may all be done already.
	return true, finishAlertIfDone(ctx, t, id)
}

// prepareChunkFor is the chunk for batches of batchSize: a whole number of chunks makes a
// batch, so that a batch is complete exactly when a chunk ends.
func prepareChunkFor(batchSize int) int {
	if batchSize%maxPrepareChunk != 0 {
		return batchSize
	}
	return maxPrepareChunk
}

type subscriberRow struct{ phone, lang, fiscalCode string }

// nextSubscribers reads, in phone order, up to limit recipients of an alert's audience whose
// phone sorts after cursor.
func nextSubscribers(ctx context.Context, t *store.Tx, comune string, topics, chans []string, cursor string, limit int) ([]subscriberRow, error) {
	where, args := audience(comune, topics, chans)
	rows, err := t.Query(ctx, "SELECT s.phone, s.lang, s.fiscal_code FROM subscribers s WHERE "+where+" AND s.phone > ? ORDER BY s.phone LIMIT ?",
		append(args, cursor, limit)...)
	return store.Collect(rows, err, func(r interface{ Scan(...any) error }) (subscriberRow, error) {
		var sr subscriberRow
		err := r.Scan(&sr.phone, &sr.lang, &sr.fiscalCode)
		return sr, err
	})
}

// insertRecipients writes subs as the alert's recipients after the first written ones.
func insertRecipients(ctx context.Context, t *store.Tx, id string, written, batchSize int, now int64, subs []subscriberRow) error {
	var b strings.Builder
	b.WriteString("INSERT INTO alert_recipients (alert_id, seq, batch, phone, lang, status, updated_at, fiscal_code) VALUES ")
	args := make([]any, 0, 7*len(subs))
	for i, sr := range subs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?, ?, ?, ?, ?, 'queued', ?, ?)")
		seq := written + i + 1
		phone := sr.phone
		if strings.HasPrefix(phone, "cf:") {
			phone = "" // a subscription by fiscal code alone (App IO)
		}
		args = append(args, id, seq, (seq-1)/batchSize, phone, sr.lang, now, sr.fiscalCode)
	}
	_, err := t.Exec(ctx, b.String(), args...)
	return err
}

// addBatches records an alert's batches and enqueues their jobs.
func addBatches(ctx context.Context, t *store.Tx, id string, batches []int, now int64, enqueue Enqueuer) error {
	if len(batches) == 0 {
		return nil
	}
	var b strings.Builder
	b.WriteString("INSERT INTO alert_batches (alert_id, batch, status, updated_at) VALUES ")
	args := make([]any, 0, len(batches)*3)
	for i, batch := range batches {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?, ?, 'pending', ?)")
		args = append(args, id, batch, now)
	}
	if _, err := t.Exec(ctx, b.String(), args...); err != nil {
		return err
	}
	if enqueue == nil {
		return nil
	}
	return enqueue(ctx, t, id, batches)
}

// UnpreparedAlerts lists alerts still being prepared that need a new PrepareAlert job: no chunk
// was written since live.StaleBefore, and the process preparing them is dead (its heartbeat is
// stale, as for a batch's owner) or has written nothing since stuckBefore (alive but stuck).
func (s *Store) UnpreparedAlerts(ctx context.Context, live Liveness, stuckBefore time.Time, limit int) ([]string, error) {
	return s.ids(ctx, `SELECT id FROM alerts WHERE status = 'sending' AND prepare_cursor IS NOT NULL AND prepared_at < ?
		AND (prepared_at < ? OR prepare_owner IS NULL OR prepare_owner NOT IN (SELECT id FROM alert_senders WHERE heartbeat_at >= ?))
		ORDER BY prepared_at LIMIT ?`,
		store.Micros(live.StaleBefore), store.Micros(stuckBefore), store.Micros(live.StaleBefore), limit)
}

// EnqueuePrepare gives an alert still being prepared a new job, on behalf of process owner:
// until the job writes a chunk (and becomes the owner), the preparation counts as owner's.
func (s *Store) EnqueuePrepare(ctx context.Context, id, owner string, prepare PrepareEnqueuer) error {
	return s.Write(store.Bulk(ctx), func(ctx context.Context, tx *store.Tx) error {
		now := store.Micros(s.Now())
		res, err := tx.Exec(ctx, "UPDATE alerts SET prepared_at = ?, prepare_owner = ? WHERE id = ? AND status = 'sending' AND prepare_cursor IS NOT NULL",
			now, strOrNil(owner), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		return prepare(ctx, tx, id)
	})
}

// StartDueAlert starts a scheduled alert whose time has come. It returns false when another
// process started it first or it is no longer scheduled.
func (s *Store) StartDueAlert(ctx context.Context, id string, o StartOptions) (bool, error) {
	var comune, topics, chans string
	if err := s.QueryRow(ctx, "SELECT comune, topics, channels FROM alerts WHERE id = ?", id).Scan(&comune, &topics, &chans); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return false, nil
		}
		return false, err
	}
	estimate, err := s.CountAudienceFor(ctx, comune, splitList(topics), splitList(chans))
	if err != nil {
		return false, err
	}
	started := false
	err = s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		started = false
		res, err := tx.Exec(ctx, "UPDATE alerts SET status = 'sending', updated_at = ? WHERE id = ? AND status = 'scheduled' AND send_at <= ?",
			store.Micros(s.Now()), id, store.Micros(s.Now()))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		if _, _, err := startAlert(ctx, tx, id, estimate, o); err != nil {
			return err
		}
		started = true
		return nil
	})
	return started, err
}

// DueAlerts lists scheduled alerts whose send time has come.
func (s *Store) DueAlerts(ctx context.Context, limit int) ([]string, error) {
	return s.ids(ctx, "SELECT id FROM alerts WHERE status = 'scheduled' AND send_at <= ? ORDER BY send_at LIMIT ?", store.Micros(s.Now()), limit)
}

func (s *Store) ids(ctx context.Context, q string, args ...any) ([]string, error) {
	rows, err := s.Query(ctx, q, args...)
	return store.Collect(rows, err, scanString)
}

// GetAlert reads an alert of a comune ("" = any comune, for supervisors); another comune's
// alert is store.ErrNotFound.
func (s *Store) GetAlert(ctx context.Context, comune, id string) (Alert, error) {
	return scanAlert(s.QueryRow(ctx, "SELECT "+alertColumns+" FROM alerts WHERE id = ? AND (? = '' OR comune = ?)", id, comune, comune))
}

// AlertByExternalRef finds a comune's alert by its CAP reference or idempotency key.
func (s *Store) AlertByExternalRef(ctx context.Context, comune, ref string) (Alert, error) {
	return scanAlert(s.QueryRow(ctx, "SELECT "+alertColumns+" FROM alerts WHERE comune = ? AND external_ref = ?", comune, ref))
}

// CountRecipients counts an alert's recipients by status.
func (s *Store) CountRecipients(ctx context.Context, alertID string) (AlertCounts, error) {
	rows, err := s.Query(ctx, "SELECT status, COUNT(*) FROM alert_recipients WHERE alert_id = ? GROUP BY status", alertID)
	list, err := store.Collect(rows, err, func(r interface{ Scan(...any) error }) (statusCount, error) {
		var sc statusCount
		err := r.Scan(&sc.status, &sc.n)
		return sc, err
	})
	if err != nil {
		return AlertCounts{}, err
	}
	var c AlertCounts
	for _, sc := range list {
		c.add(sc.status, sc.n)
	}
	return c, nil
}

// statusCount is how many recipients are in a status (on a channel, where that matters).
type statusCount struct {
	channel, status string
	n               int
}

// add counts n recipients in status st; other states are not counted.
func (c *AlertCounts) add(st string, n int) {
	switch st {
	case RecipientQueued:
		c.Queued += n
	case RecipientSending:
		c.Sending += n
	case RecipientSent:
		c.Sent += n
	case RecipientDelivered:
		c.Delivered += n
	case RecipientFailed:
		c.Failed += n
	case RecipientCancelled:
		c.Cancelled += n
	}
}

// AlertFilter selects a page of alerts.
type AlertFilter struct {
	Comune   string // "" = every comune (supervisors)
	Status   string
	Category string
	Limit    int
	Cursor   string
}

// ListAlerts returns alerts newest first and the cursor of the next page ("" at the end).
func (s *Store) ListAlerts(ctx context.Context, f AlertFilter) ([]Alert, string, error) {
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	q := "SELECT " + alertColumns + " FROM alerts WHERE (? = '' OR comune = ?) AND (? = '' OR status = ?) AND (? = '' OR category = ?)"
	args := []any{f.Comune, f.Comune, f.Status, f.Status, f.Category, f.Category}
	if f.Cursor != "" {
		at, id, err := store.DecodeCursor(f.Cursor)
		if err != nil {
			return nil, "", err
		}
		q += " AND (created_at < ? OR (created_at = ? AND id < ?))"
		args = append(args, at, at, id)
	}
	q += " ORDER BY created_at DESC, id DESC LIMIT ?"
	args = append(args, f.Limit+1)
	rows, err := s.Query(ctx, q, args...)
	out, err := store.Collect(rows, err, scanAlert)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > f.Limit {
		out = out[:f.Limit]
		last := out[len(out)-1]
		next = store.EncodeCursor(store.Micros(last.CreatedAt), last.ID)
	}
	return out, next, nil
}

// EndAlert stops an alert of a comune ("" = any) with a final status (cancelled, expired):
// recipients not yet handed over are cancelled; those already sent stay sent. An alert already
// ended keeps its status. Another comune's alert is store.ErrNotFound.
func (s *Store) EndAlert(ctx context.Context, comune, id, status string) (Alert, error) {
	err := s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		return endAlert(ctx, tx, comune, id, status)
	})
	if err != nil {
		return Alert{}, err
	}
	return s.GetAlert(ctx, comune, id)
}

func endAlert(ctx context.Context, t *store.Tx, comune, id, status string) error {
	var cur string
	err := t.QueryRow(ctx, "SELECT status FROM alerts WHERE id = ? AND (? = '' OR comune = ?)", id, comune, comune).Scan(&cur)
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	if err != nil {
		return err
	}
	now := store.Micros(t.Store().Now())
	switch cur {
	case AlertCancelled, AlertSuperseded, AlertExpired:
		return nil
	case AlertSent:
		// Everything was handed over already; an alert still "active" for BLOCCO stops being so.
		if status == AlertExpired {
			return nil
		}
	}
	// An alert ended while its audience was being written keeps the recipients written so far
	// (the estimate goes); the rest is never written.
	if _, err := t.Exec(ctx, `UPDATE alerts SET status = ?, cancelled_at = ?, updated_at = ?, finished_at = COALESCE(finished_at, ?),
		recipients = CASE WHEN prepare_cursor IS NULL THEN recipients ELSE prepared END,
		prepare_cursor = NULL WHERE id = ?`,
		status, now, now, now, id); err != nil {
		return err
	}
	_, err = t.Exec(ctx, "UPDATE alert_recipients SET status = 'cancelled', error = ?, updated_at = ? WHERE alert_id = ? AND status = 'queued'",
		status, now, id)
	return err
}

// ExpiredAlerts lists alerts still scheduled or sending whose expiry has passed.
func (s *Store) ExpiredAlerts(ctx context.Context, limit int) ([]string, error) {
	return s.ids(ctx, "SELECT id FROM alerts WHERE status IN ('scheduled', 'sending') AND expires_at IS NOT NULL AND expires_at <= ? ORDER BY expires_at LIMIT ?",
		store.Micros(s.Now()), limit)
}

// ActiveAlerts lists a comune's alerts of a category that are in force now: started, not
// cancelled, superseded or expired, and within their expiry (or, without one, started less
// than ttl ago). Newest first.
func (s *Store) ActiveAlerts(ctx context.Context, comune, category string, ttl time.Duration, limit int) ([]Alert, error) {
	now := s.Now()
	rows, err := s.Query(ctx, "SELECT "+alertColumns+` FROM alerts WHERE comune = ? AND category = ? AND status IN ('sending', 'sent')
		AND ((expires_at IS NOT NULL AND expires_at > ?) OR (expires_at IS NULL AND send_at > ?))
		ORDER BY send_at DESC, id DESC LIMIT ?`, comune, category, store.Micros(now), store.Micros(now.Add(-ttl)), limit)
	return store.Collect(rows, err, scanAlert)
}
