package store

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/sportello/sportello/channels"
)

const contactColumns = `c.id, c.channel, c.direction, c.comune, c.citizen_id, ci.name, c.from_addr, c.to_addr, c.from_name,
	c.subject, c.body, c.category, c.queue, c.status, c.assignee, c.outcome, c.office, c.office_phone, c.note, c.external_id,
	c.auto_reply, c.priority, c.escalated, c.call_status, c.call_duration, c.call_recording_url, c.call_answered_at,
	c.call_operator, c.call_result, c.call_wait_seconds, c.call_talk_seconds, c.call_ended_at, c.call_transferred_to,
	c.received_at, c.updated_at, c.resolved_at, c.pec`

const contactFrom = ` FROM contacts c JOIN citizens ci ON ci.id = c.citizen_id`

func scanContact(row interface{ Scan(...any) error }) (channels.Contact, error) {
	var c channels.Contact
	var comune, category, queue, assignee, outcome, office, officePhone, callStatus, recURL, callOperator sql.NullString
	var callResult, transferredTo sql.NullString
	var callDur, answeredAt, resolvedAt, waitSecs, talkSecs, endedAt sql.NullInt64
	var citizenID, citizenName string
	var autoReply, escalated int
	var received, updated int64
	var pec sql.NullString
	err := row.Scan(&c.ID, &c.Channel, &c.Direction, &comune, &citizenID, &citizenName, &c.From, &c.To, &c.FromName,
		&c.Subject, &c.Body, &category, &queue, &c.Status, &assignee, &outcome, &office, &officePhone, &c.Note, &c.ExternalID,
		&autoReply, &c.Priority, &escalated, &callStatus, &callDur, &recURL, &answeredAt, &callOperator,
		&callResult, &waitSecs, &talkSecs, &endedAt, &transferredTo,
		&received, &updated, &resolvedAt, &pec)
	if err != nil {
		return c, err
	}
	if c.PEC, err = pecFrom(pec); err != nil {
		return c, err
	}
	c.Comune, c.Category, c.Queue = nullString(comune), nullString(category), nullString(queue)
	c.Assignee, c.Outcome, c.Office, c.OfficePhone = nullString(assignee), nullString(outcome), nullString(office), nullString(officePhone)
	c.Citizen = &channels.CitizenRef{ID: citizenID, Name: citizenName}
	c.AutoReply, c.Escalated = autoReply != 0, escalated != 0
	c.ReceivedAt, c.UpdatedAt, c.ResolvedAt = FromMicros(received), FromMicros(updated), nullMicros(resolvedAt)
	if callStatus.Valid || c.Channel == channels.Phone {
		c.Call = &channels.Call{Status: callStatus.String, DurationSeconds: int(callDur.Int64), RecordingURL: nullString(recURL),
			AnsweredAt: nullMicros(answeredAt), EndedAt: nullMicros(endedAt), Operator: callOperator.String,
			Result: nullString(callResult), WaitSeconds: nullInt(waitSecs), TalkSeconds: nullInt(talkSecs),
			TransferredTo: nullString(transferredTo)}
		if answeredAt.Valid && callOperator.String != "" {
			c.Call.AnsweredBy = &callOperator.String
		}
	}
	c.Attachments = []channels.Attachment{}
	return c, nil
}

// Scope limits what a caller sees: nil Comuni means every comune.
type Scope struct {
	Comuni []string
	// Undecided adds the contacts whose comune is still to be decided to a limited scope.
	Undecided bool
}

func (sc Scope) clause(col string, args *[]any) string {
	if sc.Comuni == nil {
		return ""
	}
	undecided := ""
	if sc.Undecided {
		undecided = " OR " + col + " IS NULL"
	}
	if len(sc.Comuni) == 0 {
		if undecided != "" {
			return " AND " + col + " IS NULL"
		}
		return " AND 1 = 0"
	}
	ph := make([]string, len(sc.Comuni))
	for i, cm := range sc.Comuni {
		ph[i] = "?"
		*args = append(*args, cm)
	}
	return " AND (" + col + " IN (" + strings.Join(ph, ", ") + ")" + undecided + ")"
}

// Allows reports whether the scope includes a comune (a contact without comune is visible to
// unscoped users and to those whose scope includes the undecided ones).
func (sc Scope) Allows(comune *string) bool {
	if sc.Comuni == nil {
		return true
	}
	if comune == nil {
		return sc.Undecided
	}
	for _, c := range sc.Comuni {
		if c == *comune {
			return true
		}
	}
	return false
}

// GetContact reads one contact with its thread (oldest first) and attachments.
func (s *Store) GetContact(ctx context.Context, id string, sc Scope) (channels.Contact, error) {
	args := []any{id}
	where := " WHERE c.id = ?" + sc.clause("c.comune", &args)
	c, err := scanContact(s.queryRow(ctx, "SELECT "+contactColumns+contactFrom+where, args...))
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
	c = list[0]
	msgs, err := s.Messages(ctx, id)
	if err != nil {
		return c, err
	}
	atts, err := s.attachmentsByMessage(ctx, id)
	if err != nil {
		return c, err
	}
	for i := range msgs {
		msgs[i].Attachments = atts[msgs[i].ID]
	}
	c.Messages = msgs
	return c, nil
}

// messageBody is a message's text in a query on messages (not aliased): the message that opened
// its contact keeps it in contacts.body only (body_in_contact, migration 0026).
const messageBody = `CASE WHEN body_in_contact = 1 THEN (SELECT bc.body FROM contacts bc WHERE bc.id = messages.contact_id) ELSE body END`

// Messages is a contact's thread, oldest first.
func (s *Store) Messages(ctx context.Context, contactID string) ([]channels.Message, error) {
	rows, err := s.query(ctx, `SELECT id, contact_id, direction, channel, from_addr, to_addr, subject, `+messageBody+`, external_id,
		message_id, in_reply_to, refs, status, error, author, notes, created_at, delivery, delivery_due_at, pec
		FROM messages WHERE contact_id = ? ORDER BY created_at, id`, contactID)
	return Collect(rows, err, func(r rowScanner) (channels.Message, error) {
		var m channels.Message
		var refs, notes string
		var created int64
		var delivery, pec sql.NullString
		var due sql.NullInt64
		if err := r.Scan(&m.ID, &m.ContactID, &m.Direction, &m.Channel, &m.From, &m.To, &m.Subject, &m.Body, &m.ExternalID,
			&m.MessageID, &m.InReplyTo, &refs, &m.Status, &m.Error, &m.Author, &notes, &created, &delivery, &due, &pec); err != nil {
			return m, err
		}
		m.Delivery, m.DeliveryDueAt = nullString(delivery), nullMicros(due)
		if m.Delivery == nil && m.Direction == channels.Outbound && m.Channel == channels.SMS {
			m.Delivery = smsDelivery(m.Status)
		}
		m.DeliveryOverdue = m.DeliveryDueAt != nil && s.now().After(*m.DeliveryDueAt) && !channels.DeliveryFinal(delivery.String)
		var err error
		if m.PEC, err = pecFrom(pec); err != nil {
			return m, err
		}
		if refs != "" {
			m.References = strings.Fields(refs)
		}
		if notes != "" {
			m.Notes = strings.Split(notes, "\n")
		}
		m.CreatedAt = FromMicros(created)
		if m.Delivery == nil && m.Channel != channels.PEC {
			// PEC's delivery is what its receipts say (accepted, delivered, failed), never the
			// send's own status.
			m.Delivery = channels.DeliveryOf(m.Direction, m.Status)
		}
		return m, nil
	})
}

const attachmentColumns = "id, message_id, contact_id, filename, content_type, size, pages, sha256, url, preview_sha256"

type attachmentRow struct {
	channels.Attachment
	MessageID, ContactID, Preview string
}

func scanAttachment(row interface{ Scan(...any) error }) (attachmentRow, error) {
	var a attachmentRow
	var pages sql.NullInt64
	err := row.Scan(&a.ID, &a.MessageID, &a.ContactID, &a.Filename, &a.ContentType, &a.Size, &pages, &a.SHA256, &a.URL, &a.Preview)
	if pages.Valid {
		p := int(pages.Int64)
		a.Pages = &p
	}
	return a, err
}

func (s *Store) attachmentsByMessage(ctx context.Context, contactID string) (map[string][]channels.Attachment, error) {
	rows, err := s.query(ctx, "SELECT "+attachmentColumns+" FROM attachments WHERE contact_id = ? ORDER BY created_at, id", contactID)
	list, err := Collect(rows, err, scanAttachment)
	if err != nil {
		return nil, err
	}
	out := map[string][]channels.Attachment{}
	for _, a := range list {
		out[a.MessageID] = append(out[a.MessageID], a.Attachment)
	}
	return out, nil
}

// fillContacts adds citizens' first-known identities and the attachments to a page of contacts,
// with one query each for the whole page.
func (s *Store) fillContacts(ctx context.Context, list []channels.Contact) error {
	if len(list) == 0 {
		return nil
	}
	citizenIDs := make([]any, 0, len(list))
	contactIDs := make([]any, 0, len(list))
	seen := map[string]bool{}
	for _, c := range list {
		if !seen[c.Citizen.ID] {
			seen[c.Citizen.ID] = true
			citizenIDs = append(citizenIDs, c.Citizen.ID)
		}
		contactIDs = append(contactIDs, c.ID)
	}
	idents, err := s.identitiesOf(ctx, citizenIDs)
	if err != nil {
		return err
	}
	rows, err := s.query(ctx, "SELECT "+attachmentColumns+" FROM attachments WHERE contact_id IN ("+placeholders(len(contactIDs))+") ORDER BY created_at, id", contactIDs...)
	found, err := Collect(rows, err, scanAttachment)
	if err != nil {
		return err
	}
	atts := map[string][]channels.Attachment{}
	for _, a := range found {
		atts[a.ContactID] = append(atts[a.ContactID], a.Attachment)
	}
	overdue, err := s.overdueContacts(ctx, contactIDs)
	if err != nil {
		return err
	}
	for i := range list {
		list[i].DeliveryOverdue = overdue[list[i].ID]
		ref := list[i].Citizen
		ref.Phone, ref.Email, ref.Fax = firstIdentities(idents[ref.ID])
		if a := atts[list[i].ID]; a != nil {
			list[i].Attachments = a
		}
	}
	return nil
}

func firstIdentities(ids []channels.Identity) (phone, email, fax *string) {
	for _, id := range ids {
		v := id.Value
		switch id.Kind {
		case channels.IdentityPhone:
			if phone == nil {
				phone = &v
			}
		case channels.IdentityEmail:
			if email == nil {
				email = &v
			}
		case channels.IdentityFax:
			if fax == nil {
				fax = &v
			}
		}
	}
	return
}

func (s *Store) identitiesOf(ctx context.Context, citizenIDs []any) (map[string][]channels.Identity, error) {
	out := map[string][]channels.Identity{}
	if len(citizenIDs) == 0 {
		return out, nil
	}
	type owned struct {
		citizen string
		channels.Identity
	}
	rows, err := s.query(ctx, "SELECT citizen_id, kind, value FROM identities WHERE citizen_id IN ("+placeholders(len(citizenIDs))+") ORDER BY created_at, kind, value", citizenIDs...)
	list, err := Collect(rows, err, func(r rowScanner) (owned, error) {
		var o owned
		err := r.Scan(&o.citizen, &o.Kind, &o.Value)
		return o, err
	})
	if err != nil {
		return nil, err
	}
	for _, o := range list {
		out[o.citizen] = append(out[o.citizen], o.Identity)
	}
	return out, nil
}

func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}

// ContactFilter selects contacts for a list.
type ContactFilter struct {
	Channel  string
	Comune   string
	Status   string
	Queue    string
	Category string
	Assignee string
	Citizen  string
	// Q searches subject, body and sender, case-insensitively.
	Q      string
	Limit  int
	Cursor string
	Scope  Scope
	// Oldest lists oldest first (queues); the default is newest first.
	Oldest bool
}

// ComuneUndecided as ContactFilter.Comune lists the contacts whose comune is still to be decided
// (no comune id can be "-").
const ComuneUndecided = "-"

// ErrBadCursor is returned for a cursor this store did not make.
var ErrBadCursor = errors.New("invalid cursor")

// ListContacts returns a page of contacts and the cursor of the next page ("" at the end).
func (s *Store) ListContacts(ctx context.Context, f ContactFilter) ([]channels.Contact, string, error) {
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	var args []any
	var where strings.Builder
	where.WriteString(" WHERE 1 = 1")
	eq := func(col, v string) {
		if v != "" {
			where.WriteString(" AND " + col + " = ?")
			args = append(args, v)
		}
	}
	eq("c.channel", f.Channel)
	if f.Comune == ComuneUndecided {
		where.WriteString(" AND c.comune IS NULL")
	} else {
		eq("c.comune", f.Comune)
	}
	eq("c.status", f.Status)
	eq("c.queue", f.Queue)
	eq("c.category", f.Category)
	eq("c.assignee", f.Assignee)
	eq("c.citizen_id", f.Citizen)
	if f.Q != "" {
		like := "%" + escapeLike(strings.ToLower(f.Q)) + "%"
		where.WriteString(` AND (LOWER(c.subject) LIKE ? ESCAPE '\' OR LOWER(c.body) LIKE ? ESCAPE '\' OR LOWER(c.from_addr) LIKE ? ESCAPE '\' OR LOWER(c.from_name) LIKE ? ESCAPE '\')`)
		args = append(args, like, like, like, like)
	}
	where.WriteString(f.Scope.clause("c.comune", &args))
	order := " ORDER BY c.received_at DESC, c.id DESC"
	cmp := "<"
	if f.Oldest {
		order = " ORDER BY c.received_at ASC, c.id ASC"
		cmp = ">"
	}
	if f.Cursor != "" {
		at, id, err := decodeCursor(f.Cursor)
		if err != nil {
			return nil, "", err
		}
		where.WriteString(" AND (c.received_at " + cmp + " ? OR (c.received_at = ? AND c.id " + cmp + " ?))")
		args = append(args, at, at, id)
	}
	args = append(args, f.Limit+1)
	rows, err := s.query(ctx, "SELECT "+contactColumns+contactFrom+where.String()+order+" LIMIT ?", args...)
	list, err := Collect(rows, err, scanContact)
	if err != nil {
		return nil, "", err
	}
	if list == nil {
		list = []channels.Contact{} // an empty page is [], not null
	}
	next := ""
	if len(list) > f.Limit {
		list = list[:f.Limit]
		last := list[len(list)-1]
		next = encodeCursor(Micros(last.ReceivedAt), last.ID)
	}
	if err := s.fillContacts(ctx, list); err != nil {
		return nil, "", err
	}
	return list, next, nil
}

func escapeLike(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}

func encodeCursor(at int64, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(at, 10) + "|" + id))
}

func decodeCursor(c string) (int64, string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, "", ErrBadCursor
	}
	ts, id, ok := strings.Cut(string(b), "|")
	at, err := strconv.ParseInt(ts, 10, 64)
	if !ok || err != nil || id == "" {
		return 0, "", ErrBadCursor
	}
	return at, id, nil
}

// Attachment returns an attachment's metadata and bytes, when the contact is in scope.
func (s *Store) Attachment(ctx context.Context, contactID, attachmentID string, sc Scope) (channels.Attachment, []byte, error) {
	args := []any{attachmentID, contactID}
	a, err := scanAttachment(s.queryRow(ctx, "SELECT "+prefixed("a.", attachmentColumns)+
		" FROM attachments a JOIN contacts c ON c.id = a.contact_id WHERE a.id = ? AND a.contact_id = ?"+sc.clause("c.comune", &args), args...))
	if errors.Is(err, sql.ErrNoRows) {
		return channels.Attachment{}, nil, ErrNotFound
	}
	if err != nil {
		return channels.Attachment{}, nil, err
	}
	if a.SHA256 == "" {
		return a.Attachment, nil, nil
	}
	data, err := s.Blob(ctx, a.SHA256)
	return a.Attachment, data, err
}

// AttachmentPreview returns the PNG preview of an attachment, if one was made.
func (s *Store) AttachmentPreview(ctx context.Context, contactID, attachmentID string, sc Scope) ([]byte, error) {
	args := []any{attachmentID, contactID}
	var preview string
	err := s.queryRow(ctx, "SELECT a.preview_sha256 FROM attachments a JOIN contacts c ON c.id = a.contact_id WHERE a.id = ? AND a.contact_id = ?"+
		sc.clause("c.comune", &args), args...).Scan(&preview)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && preview == "") {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return s.Blob(ctx, preview)
}

func prefixed(p, cols string) string {
	parts := strings.Split(cols, ",")
	for i, c := range parts {
		parts[i] = p + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}

// CallUpdate changes what is known of a call.
type CallUpdate struct {
	Status       string
	Duration     *int
	RecordingURL string
	AnsweredAt   *time.Time
	EndedAt      *time.Time
	Operator     string
	// Result, WaitSeconds and TransferredTo: see channels.CallEvent.
	Result        string
	WaitSeconds   *int
	TransferredTo string
	// Offer: see channels.CallEvent. An answer for an offer that is no longer the call's is
	// ErrStaleOffer, and nothing is recorded.
	Offer string
}

// UpdateCall records a call's progress by its provider id (CallSid, CTI callId). It returns the
// contact's id, or ErrNotFound when no call has that id. Providers retry their callbacks and
// deliver them out of order, so each event is merged into what is recorded (callState.apply)
// rather than written over it.
func (s *Store) UpdateCall(ctx context.Context, ch channels.Kind, externalID string, u CallUpdate) (string, error) {
	var contactID string
	err := s.Write(ctx, func(ctx context.Context, tx *Tx) error {
		var before callState
		var err error
		if contactID, before, err = s.callStateForUpdate(ctx, tx, ch, externalID); err != nil {
			return err
		}
		if u.Offer != "" && !before.takesNewsOf(u.Offer) {
			return ErrStaleOffer
		}
		after := before.apply(u)
		var duration any
		if u.Duration != nil {
			duration = *u.Duration
		} else if before.talk == nil && after.talk != nil {
			// Without the provider's whole-call duration, the talk time is the best known.
			duration = *after.talk
		}
		_, err = tx.Exec(ctx, `UPDATE contacts SET call_status = ?, call_answered_at = ?, call_ended_at = ?,
			call_result = ?, call_result_derived = ?, call_wait_seconds = ?, call_talk_seconds = ?,
			call_duration = COALESCE(?, call_duration), call_recording_url = COALESCE(?, call_recording_url),
			call_operator = COALESCE(?, call_operator), call_transferred_to = COALESCE(?, call_transferred_to),
			updated_at = ? WHERE id = ?`,
			strOrNil(after.status), microsOrNil(after.answeredAt), microsOrNil(after.endedAt),
			strOrNil(after.result), boolInt(after.resultDerived), intOrNil(after.wait), intOrNil(after.talk),
			duration, strOrNil(u.RecordingURL), strOrNil(u.Operator), strOrNil(u.TransferredTo), Micros(s.now()), contactID)
		return err
	})
	return contactID, err
}

// callStateForUpdate reads what is recorded of a call. On PostgreSQL it locks the contact's row
// until the commit: an event about the same call written by another replica at the same moment
// (the answer and the hang-up of a short call) then merges into this one's result, instead of
// both deriving the figures from the same old state and the last writer's winning.
func (s *Store) callStateForUpdate(ctx context.Context, tx *Tx, ch channels.Kind, externalID string) (string, callState, error) {
	query := callStateQuery
	if s.dialect == Postgres {
		query += " FOR UPDATE OF c"
	}
	var id string
	var received int64
	var status, result sql.NullString
	var answeredAt, endedAt, wait, talk, offeredAt sql.NullInt64
	var derived int
	err := tx.QueryRow(ctx, query, string(ch), externalID, externalID).
		Scan(&id, &received, &status, &answeredAt, &endedAt, &wait, &talk, &result, &derived, &offeredAt)
	if errors.Is(err, sql.ErrNoRows) {
		return "", callState{}, ErrNotFound
	}
	if err != nil {
		return "", callState{}, err
	}
	return id, callState{received: FromMicros(received), status: status.String, answeredAt: nullMicros(answeredAt),
		endedAt: nullMicros(endedAt), wait: nullInt(wait), talk: nullInt(talk), result: result.String,
		resultDerived: derived != 0, offeredAt: offeredAt.Int64}, nil
}

// callState is what is recorded of a call: the figures an event is merged into.
type callState struct {
	received            time.Time
	status              string
	answeredAt, endedAt *time.Time
	wait, talk          *int
	result              string
	// resultDerived is set when the store inferred result from the times (answered, abandoned)
	// rather than the provider's stating it (Twilio's QueueResult, a voicemail).
	resultDerived bool
	// offeredAt names the call's latest offer to an operator (0: never offered).
	offeredAt int64
}

// takesNewsOf reports whether an operator's answer for the offer named offer is still news
// about this call: the offer is the call's latest, and the call is still offered (neither
// missed nor expired), or in progress (a repeat of the answer), or over (an answer reported
// after the hang-up still counts for the figures). After an offer expired the call went back
// to the queue, and maybe to someone else: its operator's answer, however late, must not take
// the call from there; nor may a repeated answer take a call off hold.
func (st callState) takesNewsOf(offer string) bool {
	at, ok := parseOffer(offer)
	if !ok || at != st.offeredAt {
		return false
	}
	return st.status == "offered" || st.status == "in-progress" || st.endedAt != nil
}

// liveCallStatuses are the statuses of a call still going on (Twilio's, and the desk's offered
// and on-hold); every other status says how a call ended.
var liveCallStatuses = map[string]bool{
	"queued": true, "initiated": true, "ringing": true, "in-progress": true, "offered": true, "on-hold": true,
}

// apply merges an event into the recorded call. The first report of the answer or of the
// hang-up wins (providers retry their callbacks). The wait runs from arrival to the answer (or
// to the hang-up of a call nobody answered), the talk from the answer to the hang-up, unless
// the provider measured them.
func (st callState) apply(u CallUpdate) callState {
	next := st
	if st.answeredAt == nil && u.AnsweredAt != nil {
		next.answeredAt = st.notBeforeArrival(*u.AnsweredAt)
	}
	if st.endedAt == nil && u.EndedAt != nil {
		next.endedAt = st.notBeforeArrival(*u.EndedAt)
	}
	next.status = next.statusAfter(u.Status)
	next.result, next.resultDerived = next.resultAfter(u.Result)
	answerIsNew := st.answeredAt == nil && next.answeredAt != nil
	next.wait = next.waitAfter(u.WaitSeconds, answerIsNew)
	if next.talk == nil && next.answeredAt != nil && next.endedAt != nil {
		next.talk = ptrTo(secondsBetween(*next.answeredAt, *next.endedAt))
	}
	return next
}

// notBeforeArrival moves a time earlier than the call's arrival (a PBX clock's error) to the
// arrival: it would count as a negative wait, or add to the talk time.
func (st callState) notBeforeArrival(t time.Time) *time.Time {
	if t.Before(st.received) {
		t = st.received
	}
	return &t
}

// statusAfter is the status once the reported one is taken. An ended call takes no live status:
// an answer or a requeue reported after the hang-up would reopen it.
func (st callState) statusAfter(reported string) string {
	if reported == "" || (st.endedAt != nil && liveCallStatuses[reported]) {
		return st.status
	}
	return reported
}

// resultAfter is the result once the stated one (if any) is taken, and whether it is derived.
// The provider's word stands; a derived result follows the times, so an answer reported after
// the hang-up turns a derived "abandoned" into "answered".
func (st callState) resultAfter(stated string) (string, bool) {
	switch {
	case stated != "":
		return stated, false
	case st.result != "" && !st.resultDerived:
		return st.result, false
	case st.answeredAt != nil:
		return channels.CallAnswered, true
	case st.endedAt != nil:
		return channels.CallAbandoned, true
	}
	return st.result, st.resultDerived
}

// waitAfter is the wait once the provider's measure (if any) is taken. A derived wait is derived
// once, and again when the answer of a call with a derived result is reported after the hang-up:
// the wait recorded then ran to the hang-up only because the answer was not known yet.
func (st callState) waitAfter(measured *int, answerIsNew bool) *int {
	switch {
	case measured != nil:
		return ptrTo(max(*measured, 0))
	case st.wait != nil && (!answerIsNew || !st.resultDerived):
		return st.wait
	case st.answeredAt != nil:
		return ptrTo(secondsBetween(st.received, *st.answeredAt))
	case st.endedAt != nil && st.result != channels.CallVoicemail && st.result != channels.CallCallback:
		return ptrTo(secondsBetween(st.received, *st.endedAt))
	}
	return st.wait
}

// secondsBetween rounds to whole seconds, and is never negative.
func secondsBetween(from, to time.Time) int {
	return max(int(to.Sub(from).Round(time.Second)/time.Second), 0)
}

func ptrTo[T any](v T) *T { return &v }

func microsOrNil(t *time.Time) any {
	if t == nil {
		return nil
	}
	return Micros(*t)
}

func intOrNil(n *int) any {
	if n == nil {
		return nil
	}
	return *n
}

// AddAttachment attaches a file to an existing contact's first message (a voicemail recording).
func (s *Store) AddAttachment(ctx context.Context, contactID string, a channels.Attachment) (string, error) {
	var id string
	err := s.Write(ctx, func(ctx context.Context, tx *Tx) error {
		msgID, err := firstMessageID(ctx, tx, contactID)
		if err != nil {
			return err
		}
		id, err = s.addAttachment(ctx, tx, contactID, msgID, a, s.now())
		return err
	})
	return id, err
}

// ErrAttachmentWithoutURL is returned by AddAttachmentOnce for an attachment it cannot know
// again: it recognizes a file by its URL.
var ErrAttachmentWithoutURL = errors.New("store: the attachment has no URL to recognize it by")

// AddAttachmentOnce is AddAttachment for a file the provider links (a voicemail recording),
// unless the contact already has an attachment with the same URL: providers retry their
// callbacks, and one recording reported twice is one voicemail. It returns the attachment's id
// (the existing one's when nothing was added) and whether it was added now.
func (s *Store) AddAttachmentOnce(ctx context.Context, contactID string, a channels.Attachment) (id string, added bool, err error) {
	if a.URL == "" {
		return "", false, ErrAttachmentWithoutURL
	}
	err = s.Write(ctx, func(ctx context.Context, tx *Tx) error {
		id, added = "", false // a write may run twice
		if err := s.lockContactRow(ctx, tx, contactID); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, "SELECT id FROM attachments WHERE contact_id = ? AND url = ? LIMIT 1", contactID, a.URL).Scan(&id)
		if err == nil || !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		msgID, err := firstMessageID(ctx, tx, contactID)
		if err != nil {
			return err
		}
		id, err = s.addAttachment(ctx, tx, contactID, msgID, a, s.now())
		added = err == nil
		return err
	})
	return id, added, err
}

// lockContactRow makes writes about one contact take turns on PostgreSQL, where two replicas
// may write at once: the second waits here until the first commits, and then sees its rows.
// SQLite's single writer already serializes them.
func (s *Store) lockContactRow(ctx context.Context, tx *Tx, contactID string) error {
	if s.dialect != Postgres {
		return nil
	}
	var id string
	err := tx.QueryRow(ctx, "SELECT id FROM contacts WHERE id = ? FOR UPDATE", contactID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

// firstMessageID is the message that opened a contact, which files added later belong to.
func firstMessageID(ctx context.Context, tx *Tx, contactID string) (string, error) {
	var id string
	err := tx.QueryRow(ctx, "SELECT id FROM messages WHERE contact_id = ? ORDER BY created_at, id LIMIT 1", contactID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	return id, err
}

// CountContacts counts contacts (tests, metrics, benchmarks).
func (s *Store) CountContacts(ctx context.Context) (int, error) {
	var n int
	err := s.queryRow(ctx, "SELECT COUNT(*) FROM contacts").Scan(&n)
	return n, err
}

// CountMessages counts stored messages by direction ("" for all).
func (s *Store) CountMessages(ctx context.Context, direction string) (int, error) {
	var n int
	var err error
	if direction == "" {
		err = s.queryRow(ctx, "SELECT COUNT(*) FROM messages").Scan(&n)
	} else {
		err = s.queryRow(ctx, "SELECT COUNT(*) FROM messages WHERE direction = ?", direction).Scan(&n)
	}
	return n, err
}

// contactByProviderID finds the contact (c) whose provider id is the channel's and the id given
// (its arguments: channel, id, id again): through the message written with it, whose index
// (messages_external, unique) holds that id (the contacts' own was dropped in migration 0029),
// then by primary key. Written as a join, PostgreSQL's generic plan made on empty tables
// scanned contacts for the id instead, on every call event for the connection's life
// (TestProviderIDLookupsKeepTheirIndexesInAGenericPlan).
const contactByProviderID = `FROM contacts c
	WHERE c.id = (SELECT m.contact_id FROM messages m WHERE m.channel = ? AND m.external_id = ? AND m.external_id <> '')
	AND c.external_id = ?`

const (
	callStateQuery = `SELECT c.id, c.received_at, c.call_status, c.call_answered_at, c.call_ended_at, c.call_wait_seconds,
		c.call_talk_seconds, c.call_result, c.call_result_derived, c.call_offered_at ` + contactByProviderID
	contactIDByExternalQuery = "SELECT c.id " + contactByProviderID
)

// ContactIDByExternal finds a contact by its provider id (the one of the message that opened it).
func (s *Store) ContactIDByExternal(ctx context.Context, ch channels.Kind, externalID string) (string, error) {
	var id string
	err := s.queryRow(ctx, contactIDByExternalQuery, string(ch), externalID, externalID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	return id, err
}

// Routing is a contact's place in the queues.
type Routing struct {
	Comune   string
	Category string
	Queue    string
	Priority int
	SLADue   time.Time
}

// SetRouting changes a contact's category, queue, priority and SLA (and comune when given).
func (s *Store) SetRouting(ctx context.Context, contactID string, r Routing) error {
	return s.Write(ctx, func(ctx context.Context, tx *Tx) error {
		var sla any
		if !r.SLADue.IsZero() {
			sla = Micros(r.SLADue)
		}
		res, err := tx.Exec(ctx, `UPDATE contacts SET category = COALESCE(?, category), queue = COALESCE(?, queue), priority = ?,
			sla_due_at = COALESCE(?, sla_due_at), comune = COALESCE(?, comune), updated_at = ? WHERE id = ?`,
			strOrNil(r.Category), strOrNil(r.Queue), r.Priority, sla, strOrNil(r.Comune), Micros(s.now()), contactID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return nil
	})
}
