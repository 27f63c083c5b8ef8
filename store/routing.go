package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/sportello/sportello/channels"
)

// querier is what both the store (reads) and a transaction offer, so one scan serves both.
type querier interface {
	Query(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRow(ctx context.Context, query string, args ...any) *sql.Row
}

// assignmentLockKey serializes assignment decisions across PostgreSQL replicas: each decision
// reads operators' open counts and writes an assignment, and two replicas doing that at once
// could both fill an operator's last free place.
const assignmentLockKey = 4242056

// LockAssignments takes the assignment lock for the rest of the transaction, which must be
// WriteAlone's (in a shared batch it is ErrLockInSharedBatch). On SQLite the single writer
// already serializes every write transaction.
func (s *Store) LockAssignments(ctx context.Context, tx *Tx) error {
	if s.dialect != Postgres {
		return nil
	}
	if tx.shared {
		return ErrLockInSharedBatch
	}
	_, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(?)", assignmentLockKey)
	return err
}

// OperatorState is a user as the assignment sees them: presence, skills, capacity and how many
// contacts they hold now.
type OperatorState struct {
	ID             string    `json:"id"`
	Username       string    `json:"username"`
	Name           string    `json:"name"`
	Role           string    `json:"role"`
	Comuni         []string  `json:"comuni"`
	Categories     []string  `json:"categories"`
	Capacity       int       `json:"capacity"`
	Presence       string    `json:"presence"`
	PresenceSince  time.Time `json:"presence_since"`
	LastAssignedAt time.Time `json:"last_assigned_at"`
	Open           int       `json:"open"`
	// OnCall: one of the open contacts is a call that has not ended.
	OnCall bool `json:"on_call"`
	// TakesUndecided: limited to comuni, one of which the shared numbers serve, so the user
	// sees (User.SeesUndecided) and may be given the contacts whose comune is still to be
	// decided.
	TakesUndecided bool `json:"-"`
}

const operatorQuery = `SELECT u.id, u.username, u.name, u.role, u.comuni, u.categories, u.capacity, u.presence,
	u.presence_since, u.last_assigned_at,
	(SELECT COUNT(*) FROM contacts c WHERE c.assignee = u.username AND c.status = 'assigned'),
	EXISTS (SELECT 1 FROM contacts c WHERE c.assignee = u.username AND c.status = 'assigned' AND c.channel = 'phone'
		AND c.call_ended_at IS NULL)
	FROM users u WHERE u.deleted_at IS NULL`

func (s *Store) scanOperators(ctx context.Context, q querier, extra string, args ...any) ([]OperatorState, error) {
	rows, err := q.Query(ctx, operatorQuery+extra+" ORDER BY u.username", args...)
	return Collect(rows, err, func(r rowScanner) (OperatorState, error) {
		var o OperatorState
		var comuni, cats string
		var since, last int64
		if err := r.Scan(&o.ID, &o.Username, &o.Name, &o.Role, &comuni, &cats, &o.Capacity, &o.Presence, &since, &last, &o.Open, &o.OnCall); err != nil {
			return o, err
		}
		o.Comuni, o.Categories = splitList(comuni), splitList(cats)
		if o.Comuni == nil {
			o.Comuni = []string{}
		}
		for _, c := range o.Comuni {
			if s.undecided[c] {
				o.TakesUndecided = true
			}
		}
		if o.Categories == nil {
			o.Categories = []string{}
		}
		if since > 0 {
			o.PresenceSince = FromMicros(since)
		}
		if last > 0 {
			o.LastAssignedAt = FromMicros(last)
		}
		return o, nil
	})
}

// Operators lists every live user with presence and open counts.
func (s *Store) Operators(ctx context.Context) ([]OperatorState, error) {
	return s.scanOperators(ctx, s, "")
}

// AvailableOperatorsTx lists the users who are available, inside an assignment transaction.
func (s *Store) AvailableOperatorsTx(ctx context.Context, tx *Tx) ([]OperatorState, error) {
	return s.scanOperators(ctx, tx, " AND u.presence = 'available'")
}

// CandidatesTx lists the available users whose skills cover a contact of that comune and
// category (an empty skill list covers everything; an unknown category is covered only by an
// empty list, an unknown comune also by the comuni the shared numbers serve: see
// OperatorState.TakesUndecided), inside an assignment transaction. Capacity is left to the
// caller.
func (s *Store) CandidatesTx(ctx context.Context, tx *Tx, comune, category string) ([]OperatorState, error) {
	var args []any
	cond := " AND u.presence = 'available'"
	// instr, not LIKE: SQLite recompiles a statement whose bound LIKE pattern changes.
	// PostgreSQL spells it strpos.
	find := "instr"
	if s.dialect == Postgres {
		find = "strpos"
	}
	skill := func(col string, vs ...string) {
		cond += " AND (u." + col + " = ''"
		for _, v := range vs {
			cond += " OR " + find + "(',' || u." + col + " || ',', ?) > 0"
			args = append(args, ","+v+",")
		}
		cond += ")"
	}
	if comune != "" {
		skill("comuni", comune)
	} else {
		skill("comuni", s.undecidedList...)
	}
	if category != "" {
		skill("categories", category)
	} else {
		skill("categories")
	}
	return s.scanOperators(ctx, tx, cond, args...)
}

// OperatorTx reads one live user's state inside a transaction.
func (s *Store) OperatorTx(ctx context.Context, tx *Tx, username string) (OperatorState, error) {
	list, err := s.scanOperators(ctx, tx, " AND u.username = ?", username)
	if err != nil {
		return OperatorState{}, err
	}
	if len(list) == 0 {
		return OperatorState{}, ErrNotFound
	}
	return list[0], nil
}

// WaitingContact is a contact waiting for an operator.
type WaitingContact struct {
	ID         string
	Comune     string
	Category   string
	Queue      string
	Priority   int
	ReceivedAt time.Time
	Channel    channels.Kind
}

const waitingColumns = "id, COALESCE(comune, ''), COALESCE(category, ''), COALESCE(queue, ''), priority, received_at, channel"

func scanWaiting(row interface{ Scan(...any) error }) (WaitingContact, error) {
	var w WaitingContact
	var at int64
	err := row.Scan(&w.ID, &w.Comune, &w.Category, &w.Queue, &w.Priority, &at, &w.Channel)
	w.ReceivedAt = FromMicros(at)
	return w, err
}

// WaitingTx lists open, unassigned inbound contacts (the backlog), highest priority and oldest
// first, at most limit of them.
func (s *Store) WaitingTx(ctx context.Context, tx *Tx, limit int) ([]WaitingContact, error) {
	return s.WaitingForTx(ctx, tx, nil, nil, limit)
}

// WaitingForTx lists the backlog a user with these skills can take (empty = any), highest
// priority and oldest first, at most limit contacts: the order router.DrainAt serves them in.
func (s *Store) WaitingForTx(ctx context.Context, tx *Tx, comuni, categories []string, limit int) ([]WaitingContact, error) {
	var args []any
	var where strings.Builder
	in := func(col string, vals []string) {
		if len(vals) == 0 {
			return
		}
		where.WriteString(" AND " + col + " IN (" + placeholders(len(vals)) + ")")
		for _, v := range vals {
			args = append(args, v)
		}
	}
	in("comune", comuni)
	in("category", categories)
	args = append(args, limit)
	rows, err := tx.Query(ctx, "SELECT "+waitingColumns+` FROM contacts WHERE status = 'open' AND assignee IS NULL
		AND direction = 'inbound'`+where.String()+" ORDER BY priority DESC, received_at, id LIMIT ?", args...)
	return Collect(rows, err, scanWaiting)
}

// ContactHead is what actions check before they change a contact.
type ContactHead struct {
	ID        string
	Channel   channels.Kind
	Direction channels.Direction
	Comune    *string
	CitizenID string
	Status    channels.Status
	Assignee  *string
	Category  *string
	Queue     *string
	Priority  int
	Subject   string
	From, To  string
	AutoReply bool
	Received  time.Time
}

// ContactHeadTx reads a contact's head inside a transaction (ErrNotFound when missing or outside
// the scope).
func (s *Store) ContactHeadTx(ctx context.Context, tx *Tx, id string, sc Scope) (ContactHead, error) {
	return contactHead(ctx, tx, id, sc)
}

// ContactHead reads a contact's head.
func (s *Store) ContactHead(ctx context.Context, id string, sc Scope) (ContactHead, error) {
	return contactHead(ctx, s, id, sc)
}

func contactHead(ctx context.Context, q querier, id string, sc Scope) (ContactHead, error) {
	args := []any{id}
	var h ContactHead
	var comune, assignee, category, queue sql.NullString
	var autoReply int
	var received int64
	err := q.QueryRow(ctx, `SELECT c.id, c.channel, c.direction, c.comune, c.citizen_id, c.status, c.assignee, c.category, c.queue,
		c.priority, c.subject, c.from_addr, c.to_addr, c.auto_reply, c.received_at FROM contacts c WHERE c.id = ?`+sc.clause("c.comune", &args), args...).
		Scan(&h.ID, &h.Channel, &h.Direction, &comune, &h.CitizenID, &h.Status, &assignee, &category, &queue, &h.Priority, &h.Subject,
			&h.From, &h.To, &autoReply, &received)
	if errors.Is(err, sql.ErrNoRows) {
		return h, ErrNotFound
	}
	h.Comune, h.Assignee, h.Category, h.Queue = nullString(comune), nullString(assignee), nullString(category), nullString(queue)
	h.AutoReply, h.Received = autoReply != 0, FromMicros(received)
	return h, err
}

// AssignTx gives a contact to a user and stamps the user's last assignment. With onlyIfWaiting
// it changes nothing unless the contact is still open and unassigned (automatic assignment must
// not take a contact someone claimed meanwhile). It reports whether the contact changed.
func (s *Store) AssignTx(ctx context.Context, tx *Tx, contactID, username string, onlyIfWaiting bool, at time.Time) (bool, error) {
	cond := " AND status <> 'resolved'"
	if onlyIfWaiting {
		cond = " AND status = 'open' AND assignee IS NULL"
	}
	res, err := tx.Exec(ctx, "UPDATE contacts SET status = 'assigned', assignee = ?, updated_at = ? WHERE id = ?"+cond,
		username, Micros(s.now()), contactID)
	if err != nil {
		return false, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	_, err = tx.Exec(ctx, "UPDATE users SET last_assigned_at = ? WHERE username = ? AND last_assigned_at < ?", Micros(at), username, Micros(at))
	return true, err
}

// RequeueTx returns a user's assigned contacts to their queues (the user went offline) and lists
// them.
func (s *Store) RequeueTx(ctx context.Context, tx *Tx, username string) ([]WaitingContact, error) {
	rows, err := tx.Query(ctx, "SELECT "+waitingColumns+" FROM contacts WHERE assignee = ? AND status = 'assigned'", username)
	out, err := Collect(rows, err, scanWaiting)
	if err != nil {
		return nil, err
	}
	_, err = tx.Exec(ctx, "UPDATE contacts SET status = 'open', assignee = NULL, updated_at = ? WHERE assignee = ? AND status = 'assigned'",
		Micros(s.now()), username)
	return out, err
}

// SetPresenceTx changes a user's presence; it reports the previous one.
func (s *Store) SetPresenceTx(ctx context.Context, tx *Tx, userID, presence string) (string, error) {
	var prev string
	err := tx.QueryRow(ctx, "SELECT presence FROM users WHERE id = ? AND deleted_at IS NULL", userID).Scan(&prev)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", err
	}
	if prev != presence {
		_, err = tx.Exec(ctx, "UPDATE users SET presence = ?, presence_since = ? WHERE id = ?", presence, Micros(s.now()), userID)
	}
	return prev, err
}

// ChoosePresenceTx remembers the presence a user chose themselves (restored at their next login).
func (s *Store) ChoosePresenceTx(ctx context.Context, tx *Tx, userID, presence string) error {
	_, err := tx.Exec(ctx, "UPDATE users SET chosen_presence = ? WHERE id = ?", presence, userID)
	return err
}

// ChosenPresence is the presence a user last chose themselves ("" if never).
func (s *Store) ChosenPresence(ctx context.Context, userID string) (string, error) {
	var p sql.NullString
	err := s.queryRow(ctx, "SELECT chosen_presence FROM users WHERE id = ? AND deleted_at IS NULL", userID).Scan(&p)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	return p.String, err
}

// SessionlessPresent lists users who are not offline although every session they had has ended
// (expired or revoked). Users who never had a session (API clients) are left alone.
func (s *Store) SessionlessPresent(ctx context.Context) ([]User, error) {
	rows, err := s.query(ctx, "SELECT "+userColumns+` FROM users u WHERE u.deleted_at IS NULL AND u.presence <> 'offline'
		AND EXISTS (SELECT 1 FROM api_tokens t WHERE t.user_id = u.id AND t.kind = 'session')
		AND NOT EXISTS (SELECT 1 FROM api_tokens t WHERE t.user_id = u.id AND t.kind = 'session' AND t.revoked_at IS NULL
			AND (t.expires_at IS NULL OR t.expires_at > ?))`, Micros(s.now()))
	return Collect(rows, err, s.scanScopedUser)
}

// Overdue lists open contacts past their SLA that were not escalated yet, oldest due first.
func (s *Store) Overdue(ctx context.Context, now time.Time, limit int) ([]WaitingContact, []time.Time, error) {
	rows, err := s.query(ctx, "SELECT "+waitingColumns+`, sla_due_at FROM contacts WHERE status = 'open' AND escalated = 0
		AND sla_due_at IS NOT NULL AND sla_due_at < ? ORDER BY sla_due_at LIMIT ?`, Micros(now), limit)
	type overdue struct {
		WaitingContact
		due time.Time
	}
	list, err := Collect(rows, err, func(r rowScanner) (overdue, error) {
		var o overdue
		var at, d int64
		if err := r.Scan(&o.ID, &o.Comune, &o.Category, &o.Queue, &o.Priority, &at, &o.Channel, &d); err != nil {
			return o, err
		}
		o.ReceivedAt, o.due = FromMicros(at), FromMicros(d)
		return o, nil
	})
	if err != nil {
		return nil, nil, err
	}
	var out []WaitingContact
	var due []time.Time
	for _, o := range list {
		out = append(out, o.WaitingContact)
		due = append(due, o.due)
	}
	return out, due, nil
}

// EscalateTx flags a contact escalated with its new priority, once: it reports false when the
// contact was escalated (or taken up) meanwhile.
//
// On PostgreSQL a contact whose row another transaction holds (a call event being written,
// another replica's sweep) is skipped, and escalated by a later sweep: every replica sweeps,
// and a sweep's escalations share batches with other writes, so waiting for such a row closed
// deadlock cycles with the other replica's batches (each broken only after PostgreSQL's
// deadlock_timeout, a second, seen as p99 of 1-3 s on every channel in a simulated busy day).
func (s *Store) EscalateTx(ctx context.Context, tx *Tx, contactID string, priority int) (bool, error) {
	// "escalated <> 1" (escalated is 0 or 1) rather than "= 0": with "status = 'open' AND
	// escalated = 0" PostgreSQL may read the whole of contacts_sla, whose condition that is,
	// and filter it by id instead of using the primary key (seen without fresh statistics:
	// each escalation scanned every open contact, and a simulated busy day on two replicas
	// fell to 90 contacts a second).
	which := "id = ?"
	if s.dialect == Postgres {
		which = "id = (SELECT id FROM contacts WHERE id = ? FOR UPDATE SKIP LOCKED)"
	}
	res, err := tx.Exec(ctx, "UPDATE contacts SET escalated = 1, priority = ?, updated_at = ? WHERE "+which+" AND escalated <> 1 AND status = 'open'",
		priority, Micros(s.now()), contactID)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// Resolution closes a contact.
type Resolution struct {
	Outcome     string
	Category    string
	Office      string
	OfficePhone string
	Note        string
}

// ResolveTx closes a contact that is not resolved yet; false when it already was.
func (s *Store) ResolveTx(ctx context.Context, tx *Tx, contactID string, r Resolution) (bool, error) {
	now := Micros(s.now())
	res, err := tx.Exec(ctx, `UPDATE contacts SET status = 'resolved', outcome = ?, category = COALESCE(?, category), office = ?,
		office_phone = ?, note = ?, resolved_at = ?, updated_at = ? WHERE id = ? AND status <> 'resolved'`,
		r.Outcome, strOrNil(r.Category), strOrNil(r.Office), strOrNil(r.OfficePhone), r.Note, now, now, contactID)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// OfficePhone is the number a transferred contact was sent to, if any.
func (s *Store) OfficePhone(ctx context.Context, contactID string) (string, error) {
	var v sql.NullString
	err := s.queryRow(ctx, "SELECT office_phone FROM contacts WHERE id = ?", contactID).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	return v.String, err
}

// LastComuneOf is the comune last recorded for the citizen an address belongs to ("" if none).
func (s *Store) LastComuneOf(ctx context.Context, id channels.Identity) (string, error) {
	var c sql.NullString
	err := s.queryRow(ctx, `SELECT ci.comune FROM identities i JOIN citizens ci ON ci.id = i.citizen_id
		WHERE i.kind = ? AND i.value = ?`, string(id.Kind), id.Value).Scan(&c)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return c.String, err
}

// CitizenIdentities lists a citizen's identities, oldest first.
func (s *Store) CitizenIdentities(ctx context.Context, citizenID string) ([]channels.Identity, error) {
	m, err := s.identitiesOf(ctx, []any{citizenID})
	return m[citizenID], err
}

// ContactBrief reads one contact as lists show it: without its thread.
func (s *Store) ContactBrief(ctx context.Context, id string, sc Scope) (channels.Contact, error) {
	args := []any{id}
	c, err := scanContact(s.queryRow(ctx, "SELECT "+contactColumns+contactFrom+" WHERE c.id = ?"+sc.clause("c.comune", &args), args...))
	if errors.Is(err, sql.ErrNoRows) {
		return c, ErrNotFound
	}
	if err != nil {
		return c, err
	}
	list := []channels.Contact{c}
	if err := s.fillContacts(ctx, list); err != nil {
		return c, err
	}
	return list[0], nil
}

// QueueLoad is how many contacts wait in a queue and since when the oldest does.
type QueueLoad struct {
	Queue   string
	Waiting int
	Oldest  time.Time
}

// QueueLoads counts open, unassigned contacts by queue within a scope.
func (s *Store) QueueLoads(ctx context.Context, sc Scope) (map[string]QueueLoad, error) {
	var args []any
	rows, err := s.query(ctx, `SELECT COALESCE(c.queue, ''), COUNT(*), MIN(c.received_at) FROM contacts c
		WHERE c.status = 'open' AND c.assignee IS NULL AND c.direction = 'inbound'`+sc.clause("c.comune", &args)+" GROUP BY c.queue", args...)
	list, err := Collect(rows, err, func(r rowScanner) (QueueLoad, error) {
		var l QueueLoad
		var oldest int64
		err := r.Scan(&l.Queue, &l.Waiting, &oldest)
		l.Oldest = FromMicros(oldest)
		return l, err
	})
	if err != nil {
		return nil, err
	}
	out := make(map[string]QueueLoad, len(list))
	for _, l := range list {
		out[l.Queue] = l
	}
	return out, nil
}

// ClaimAutoReplyTx records that a contact got its automatic answer for a closed period; false
// when it already had one (on any replica).
func (s *Store) ClaimAutoReplyTx(ctx context.Context, tx *Tx, contactID string, period time.Time, ch channels.Kind) (bool, error) {
	res, err := tx.Exec(ctx, `INSERT INTO auto_replies (contact_id, period, channel, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (contact_id, period) DO NOTHING`, contactID, Micros(period), string(ch), Micros(s.now()))
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

func joinRefs(refs []string) string { return strings.Join(refs, " ") }

// RerouteTx moves a contact to a comune and/or category ("" keeps each), a queue, a priority and
// an SLA due time, and records the comune as the citizen's last known one.
func (s *Store) RerouteTx(ctx context.Context, tx *Tx, contactID string, r Routing) error {
	var sla any
	if !r.SLADue.IsZero() {
		sla = Micros(r.SLADue)
	}
	now := Micros(s.now())
	res, err := tx.Exec(ctx, `UPDATE contacts SET comune = COALESCE(?, comune), category = COALESCE(?, category), queue = ?, priority = ?,
		sla_due_at = ?, updated_at = ? WHERE id = ?`, strOrNil(r.Comune), strOrNil(r.Category), strOrNil(r.Queue), r.Priority, sla, now, contactID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	if r.Comune != "" {
		_, err = tx.Exec(ctx, "UPDATE citizens SET comune = ?, updated_at = ? WHERE id = (SELECT citizen_id FROM contacts WHERE id = ?)", r.Comune, now, contactID)
	}
	return err
}

// AnyOperatorAvailable reports, from a read, whether any live user is available at all.
func (s *Store) AnyOperatorAvailable(ctx context.Context) (bool, error) {
	var n int
	err := s.queryRow(ctx, "SELECT COUNT(*) FROM (SELECT 1 FROM users WHERE presence = 'available' AND deleted_at IS NULL LIMIT 1) AS a").Scan(&n)
	return n > 0, err
}
