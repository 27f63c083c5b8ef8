package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sportello/sportello/channels"
)

// The ingest path's statements, named so SQLite can keep them prepared (see stmtCache).
const (
	qMessageByExternal = "SELECT contact_id, id FROM messages WHERE channel = ? AND external_id = ? AND external_id <> ''"
	qCitizenByIdentity = "SELECT citizen_id FROM identities WHERE kind = ? AND value = ?"
	qInsertCitizen     = "INSERT INTO citizens (id, name, comune, created_at, updated_at) VALUES (?, ?, ?, ?, ?)"
	qInsertIdentity    = "INSERT INTO identities (kind, value, citizen_id, created_at) VALUES (?, ?, ?, ?)"
	qInsertBlob        = "INSERT INTO blobs (sha256, data) VALUES (?, ?) ON CONFLICT (sha256) DO NOTHING"
	// A message joining a contact retention erased is new data: erased_at goes back to NULL
	// so the next run (which picks unerased contacts only) erases it too. What was erased
	// stays [cancellato]: nothing here brings it back.
	qReopenContact = `UPDATE contacts SET updated_at = ?,
			status = CASE WHEN status = 'resolved' THEN 'open' ELSE status END,
			assignee = CASE WHEN status = 'resolved' THEN NULL ELSE assignee END,
			outcome = CASE WHEN status = 'resolved' THEN NULL ELSE outcome END,
			resolved_at = NULL, erased_at = NULL WHERE id = ?`
	qInsertContact = `INSERT INTO contacts (id, channel, direction, comune, citizen_id, from_addr, to_addr, from_name,
			subject, body, category, queue, status, external_id, auto_reply, priority, call_status, call_duration,
			call_recording_url, received_at, updated_at, sla_due_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	qInsertMessage = `INSERT INTO messages (id, contact_id, direction, channel, from_addr, to_addr, subject, body,
		body_in_contact, external_id, message_id, in_reply_to, refs, notes, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	// An erased or merged-away citizen is not written to (see touchCitizen).
	qUpdateCitizen = `UPDATE citizens SET comune = COALESCE(?, comune),
				name = CASE WHEN name = '' THEN ? ELSE name END, updated_at = ? WHERE id = ? AND erased_at IS NULL AND merged_into IS NULL`
	qLatestSMSContact = `SELECT id, status, resolved_at FROM contacts WHERE citizen_id = ? AND channel = 'sms' AND to_addr = ?
			ORDER BY received_at DESC LIMIT 1`
	qInsertAttachment = `INSERT INTO attachments (id, message_id, contact_id, filename, content_type, size, pages, sha256, url, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
)

// hotQueries are prepared once per SQLite store.
var hotQueries = []string{qMessageByExternal, qCitizenByIdentity, qInsertCitizen, qInsertIdentity, qInsertBlob,
	qReopenContact, qInsertContact, qInsertMessage, qUpdateCitizen, qLatestSMSContact, qInsertAttachment}

// IngestRequest is an inbound message with the routing decisions taken before it is stored.
type IngestRequest struct {
	In       channels.InboundMessage
	Comune   string
	Category string
	Queue    string
	Priority int
	// SLADue is when the contact's wait breaks its queue's SLA; zero for none.
	SLADue time.Time
	// After runs inside the same transaction once the contact is written (to enqueue a job
	// that must exist exactly when the contact does).
	After func(ctx context.Context, tx *Tx, r channels.Receipt) error
}

// SMSThreadWindow is how long after resolution an SMS from the same citizen to the same number
// reopens the contact instead of opening a new one.
const SMSThreadWindow = 24 * time.Hour

// Ingest stores an inbound message durably and exactly once per provider id: it finds or creates
// the citizen, joins the message to its thread (email headers, an open SMS conversation) or opens
// a new contact, and stores the attachments. It returns after the commit.
func (s *Store) Ingest(ctx context.Context, req IngestRequest) (channels.Receipt, error) {
	rec, err := s.ingestOnce(ctx, req)
	if err == nil || !isUniqueViolation(err) {
		return rec, err
	}
	if req.In.ExternalID != "" {
		// Another replica stored the same provider id between our check and insert.
		if c, m, ok, lookErr := s.findExternal(ctx, req.In.Channel, req.In.ExternalID); lookErr == nil && ok {
			return channels.Receipt{ContactID: c, MessageID: m, Duplicate: true}, nil
		}
	}
	// Another replica created the same new citizen at the same moment (two messages of a
	// first-time sender): its identity exists now, so once more the message joins that citizen.
	// Refused, an SMS would be lost: Twilio does not retry an inbound message's webhook.
	return s.ingestOnce(ctx, req)
}

func (s *Store) ingestOnce(ctx context.Context, req IngestRequest) (channels.Receipt, error) {
	var rec channels.Receipt
	ctx, err := s.inLockOrder(ctx, req.In)
	if err != nil {
		return rec, err
	}
	err = s.Write(ctx, func(ctx context.Context, tx *Tx) error {
		var err error
		rec, err = s.ingestTx(ctx, tx, req)
		if err == nil && req.After != nil && !rec.Duplicate {
			err = req.After(ctx, tx, rec)
		}
		return err
	})
	return rec, err
}

// inLockOrder names, on PostgreSQL, the citizen whose row the message's ingest will lock
// (touchCitizen), or for a sender without one the identity it will insert, so that its batch
// takes them in order (see sortByLockOrder). Read before the batch, it may be out of date by
// then (a merge, a first message): that write then merely runs out of order.
func (s *Store) inLockOrder(ctx context.Context, in channels.InboundMessage) (context.Context, error) {
	if s.dialect != Postgres || !in.Channel.Valid() {
		return ctx, nil
	}
	id := channels.IdentityFor(in.Channel, citizenAddress(in))
	citizenID, err := s.CitizenByIdentity(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return withLockOrder(ctx, newSenderLockOrder(id)), nil
	}
	if err != nil {
		return ctx, fmt.Errorf("store: the sender's citizen: %w", err)
	}
	return withLockOrder(ctx, citizenID), nil
}

// citizenAddress is the citizen's address of a message: its sender's, or for a call an
// operator placed, the one called.
func citizenAddress(in channels.InboundMessage) string {
	if in.Direction == channels.Outbound {
		return in.To
	}
	return in.From
}

func (s *Store) findExternal(ctx context.Context, ch channels.Kind, ext string) (contactID, messageID string, ok bool, err error) {
	err = s.queryRow(ctx, qMessageByExternal, string(ch), ext).Scan(&contactID, &messageID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", false, nil
	}
	return contactID, messageID, err == nil, err
}

func (s *Store) ingestTx(ctx context.Context, tx *Tx, req IngestRequest) (channels.Receipt, error) {
	in := req.In
	now := s.now()
	if in.ReceivedAt.IsZero() {
		in.ReceivedAt = now
	}
	if in.Direction == "" {
		in.Direction = channels.Inbound
	}
	citizenAddr := citizenAddress(in)
	if !in.Channel.Valid() {
		return channels.Receipt{}, fmt.Errorf("store: unknown channel %q", in.Channel)
	}
	if in.ExternalID != "" {
		var cid, mid string
		err := tx.QueryRow(ctx, qMessageByExternal, string(in.Channel), in.ExternalID).Scan(&cid, &mid)
		if err == nil {
			return channels.Receipt{ContactID: cid, MessageID: mid, Duplicate: true}, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return channels.Receipt{}, err
		}
	}
	citizenID, created, err := s.citizenFor(ctx, tx, channels.IdentityFor(in.Channel, citizenAddr), in.FromName, req.Comune, now)
	if err != nil {
		return channels.Receipt{}, err
	}
	rec := channels.Receipt{CitizenID: citizenID}
	var contactID string
	if !created || in.InReplyTo != "" || len(in.References) > 0 || len(channels.OfficeTokensIn(in.Subject)) > 0 {
		// A citizen seen for the first time has no SMS conversation to continue (an email
		// reply, or an office's answer by its token, may still come from a new address).
		var foreign string
		if contactID, foreign, err = s.threadFor(ctx, tx, in, citizenID, now); err != nil {
			return rec, err
		}
		if foreign != "" {
			in.Notes = append(append([]string(nil), in.Notes...), ForeignThreadNote+foreign)
		}
	}
	if contactID != "" {
		// A message joining its thread; a resolved contact written to again is reopened.
		if _, err := tx.Exec(ctx, qReopenContact, Micros(now), contactID); err != nil {
			return rec, err
		}
	} else {
		contactID = NewID()
		rec.New = true
		var slaDue any
		if !req.SLADue.IsZero() {
			slaDue = Micros(req.SLADue)
		}
		var callStatus, callDur, recURL any
		if in.Call != nil {
			callStatus = in.Call.Status
			callDur = in.Call.DurationSeconds
			recURL = ptrOrNil(in.Call.RecordingURL)
		}
		_, err := tx.Exec(ctx, qInsertContact,
			contactID, string(in.Channel), string(in.Direction), strOrNil(req.Comune), citizenID, in.From, in.To, in.FromName,
			in.Subject, in.Body, strOrNil(req.Category), strOrNil(req.Queue), in.ExternalID, boolInt(in.AutoReply),
			req.Priority, callStatus, callDur, recURL, Micros(in.ReceivedAt), Micros(now), slaDue)
		if err != nil {
			return rec, err
		}
	}
	rec.ContactID = contactID
	msgID := NewID()
	rec.MessageID = msgID
	// The message opening a contact leaves its text to the contact's body (see messageBody):
	// written once, it is a page less in the commit that every client waits for.
	msgBody, bodyInContact := in.Body, 0
	if rec.New {
		msgBody, bodyInContact = "", 1
	}
	_, err = tx.Exec(ctx, qInsertMessage,
		msgID, contactID, string(in.Direction), string(in.Channel), in.From, in.To, in.Subject, msgBody, bodyInContact, in.ExternalID,
		in.MessageID, in.InReplyTo, strings.Join(in.References, " "), strings.Join(in.Notes, "\n"), Micros(in.ReceivedAt), Micros(now))
	if err != nil {
		return rec, err
	}
	for _, a := range in.Attachments {
		if _, err := s.addAttachment(ctx, tx, contactID, msgID, a, now); err != nil {
			return rec, err
		}
	}
	if err := storePECTx(ctx, tx, in.PEC, contactID, msgID, rec.New); err != nil {
		return rec, err
	}
	return rec, nil
}

// citizenFor finds the citizen an identity belongs to, or creates one. A citizen erased after
// its identity was read (an erasure that committed meanwhile) gets nothing: the message starts
// a new citizen, as it would have a moment later, when the identity was gone. A citizen merged
// away meanwhile sends the message on to the citizen the identity moved to.
func (s *Store) citizenFor(ctx context.Context, tx *Tx, id channels.Identity, name, comune string, now time.Time) (citizenID string, created bool, err error) {
	citizenID, found, err := citizenByIdentityTx(ctx, tx, id)
	if err != nil {
		return "", false, err
	}
	// Each merge that commits between the read and the touch moves the identity once more;
	// more than a few in that moment do not happen.
	for hops := 0; found; hops++ {
		live, err := s.touchCitizen(ctx, tx, citizenID, name, comune, now)
		if err != nil || live {
			return citizenID, false, err
		}
		// Erased or merged away. An erasure deletes the identities with the name, so an
		// identity still with the erased citizen now was given to it afterwards (AddIdentity):
		// the message is theirs. Gone, it was read before the erasure committed. Elsewhere, a
		// merge moved it there (or a message after the erasure started a citizen with it).
		was := citizenID
		if citizenID, found, err = citizenByIdentityTx(ctx, tx, id); err != nil {
			return "", false, err
		}
		if found && (citizenID == was || hops == 2) {
			return citizenID, false, nil
		}
	}
	citizenID = NewID()
	if _, err := tx.Exec(ctx, qInsertCitizen, citizenID, name, strOrNil(comune), Micros(now), Micros(now)); err != nil {
		return "", false, err
	}
	if _, err := tx.Exec(ctx, qInsertIdentity, string(id.Kind), id.Value, citizenID, Micros(now)); err != nil {
		return "", false, err
	}
	return citizenID, true, nil
}

func citizenByIdentityTx(ctx context.Context, tx *Tx, id channels.Identity) (citizenID string, found bool, err error) {
	err = tx.QueryRow(ctx, qCitizenByIdentity, string(id.Kind), id.Value).Scan(&citizenID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	return citizenID, err == nil, err
}

// touchCitizen fills a found citizen's comune and empty name, and reports whether the citizen
// may take the message: false when it was erased or merged away (a merge locks the row too, see
// MergeCitizens). On PostgreSQL the update runs even with
// nothing to fill, for its row lock: an erasure (EraseCitizen, retention) locks the same row
// first (lockCitizenTx), so a message either wrote the row before the erasure began (the
// erasure then waits: a request's erases the message too, retention spares the citizen, who
// has a live contact again) or waits for the erasure and finds the citizen erased. The
// identity read before carries no such lock. On SQLite the single writer never interleaves
// the two: a message with nothing to fill skips the write, which is on every SMS's path.
func (s *Store) touchCitizen(ctx context.Context, tx *Tx, citizenID, name, comune string, now time.Time) (live bool, err error) {
	if comune == "" && name == "" && s.dialect != Postgres {
		return true, nil
	}
	res, err := tx.Exec(ctx, qUpdateCitizen, strOrNil(comune), name, Micros(now), citizenID)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// ForeignThreadNote starts the note on a message that named (In-Reply-To, References) a
// thread it was not allowed to join; the contact id of that thread follows. The operator sees
// it in the message's notes; the link opens only for an operator whose scope covers it.
const ForeignThreadNote = "in risposta a un messaggio del contatto (mittente diverso, non unito): "

// threadFor finds the contact an inbound message continues, or "".
// Email, fax and PEC thread on Message-ID headers, and an office's answer also on the token we
// put in the subject of our mail to it (never on the subject's words); SMS continue the
// citizen's open conversation with the same number.
//
// A Message-ID is no secret (it travels in every copy, quote and forward of a message), so
// naming one proves little: an email, fax or PEC joins the thread it names when it comes from
// that contact's citizen. Anyone else joins only as an office answering us: its In-Reply-To or
// References (anywhere in the chain) must name the Message-ID of a message we sent to its very
// From in that contact (the forward to the office, or a later mail to it), and nothing may show
// that From forged (forgedSender). That id went to the office alone: the citizen never sees it
// (replies to them leave it out, see desk's threading), so neither the citizen nor anyone who
// saw their messages can name it, and with an office domain that enforces nothing (SPF ~all,
// DMARC p=none) a forged From naming the citizen's own ids, or our mail to another address,
// stays out. Anyone refused gets a contact of their own, and the thread they named comes back
// as foreign so the operator can see the link.
//
// Only when no id joins, the subject's office token may (threadByOfficeToken): many office
// mailers drop In-Reply-To and References. It admits the same sender the Message-ID rule does,
// the very address we wrote to, not forged; anyone else naming it is refused the same way.
func (s *Store) threadFor(ctx context.Context, tx *Tx, in channels.InboundMessage, citizenID string, now time.Time) (contactID, foreign string, err error) {
	switch in.Channel {
	case channels.Email, channels.Fax, channels.PEC:
		ids := make([]string, 0, 1+len(in.References))
		if in.InReplyTo != "" {
			ids = append(ids, in.InReplyTo)
		}
		for i := len(in.References) - 1; i >= 0; i-- { // most recent reference first
			ids = append(ids, in.References[i])
		}
		for _, mid := range ids {
			var cid, owner string
			err := tx.QueryRow(ctx, "SELECT m.contact_id, c.citizen_id FROM messages m JOIN contacts c ON c.id = m.contact_id"+
				" WHERE m.message_id = ? AND m.message_id <> '' ORDER BY m.created_at DESC LIMIT 1", mid).Scan(&cid, &owner)
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			if err != nil {
				return "", "", err
			}
			if owner == citizenID {
				return cid, "", nil
			}
			if in.From != "" && !forgedSender(in) {
				sentTo, err := sentToContact(ctx, tx, mid, in.From)
				if err != nil {
					return "", "", err
				}
				if sentTo != "" {
					return sentTo, "", nil
				}
			}
			if foreign == "" {
				foreign = cid
			}
		}
		byToken, tokenForeign, err := threadByOfficeToken(ctx, tx, in)
		if foreign == "" {
			foreign = tokenForeign
		}
		return byToken, foreign, err
	case channels.SMS:
		var cid, status string
		var resolvedAt sql.NullInt64
		err := tx.QueryRow(ctx, qLatestSMSContact, citizenID, in.To).Scan(&cid, &status, &resolvedAt)
		if errors.Is(err, sql.ErrNoRows) {
			return "", "", nil
		}
		if err != nil {
			return "", "", err
		}
		if status != string(channels.StatusResolved) || (resolvedAt.Valid && now.Sub(FromMicros(resolvedAt.Int64)) < SMSThreadWindow) {
			return cid, "", nil
		}
	}
	return "", "", nil
}

// sentToContact is the contact of the message we sent to addr under Message-ID mid, or "":
// the one proof of being the office we wrote to that a stranger cannot copy from the
// citizen's side of the thread. The test for a non-empty message_id lets the planner use the
// partial index messages_message_id.
func sentToContact(ctx context.Context, tx *Tx, mid, addr string) (string, error) {
	var cid string
	err := tx.QueryRow(ctx, "SELECT contact_id FROM messages WHERE message_id = ? AND message_id <> ''"+
		" AND direction = ? AND LOWER(to_addr) = ? ORDER BY created_at DESC LIMIT 1", mid, string(channels.Outbound), strings.ToLower(strings.TrimSpace(addr))).Scan(&cid)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return cid, err
}

// forgedSender says whether an email's header From is known not to be its sender. Such a
// message may not join a thread as the office we wrote to, even naming our mail to that office
// (its Message-ID is the office's secret, and this check the second lock: anyone can write the
// office's address in From, and in MAIL FROM too). Known means: the SMTP envelope names someone else,
// or the sender check failed hard (SPF "fail", or DMARC failing under a quarantine or reject
// policy: channels.SenderFail). A check that found nothing either way (no SPF record, no
// signature: an office's internal mail often has neither), could not ask the DNS, or did not
// run, proves nothing. A message without an envelope (an IMAP mailbox, whose provider received
// it) is taken at its word: without the client's address SPF cannot be tested, so its check
// never fails hard.
func forgedSender(in channels.InboundMessage) bool {
	envelopeDiffers := in.EnvelopeFrom != "" && !strings.EqualFold(strings.TrimSpace(in.EnvelopeFrom), strings.TrimSpace(in.From))
	return envelopeDiffers || in.SenderCheck == channels.SenderFail
}

// addAttachment stores an attachment's row and, when it has bytes, its blob (deduplicated by hash).
func (s *Store) addAttachment(ctx context.Context, tx *Tx, contactID, messageID string, a channels.Attachment, now time.Time) (string, error) {
	if a.ID == "" {
		a.ID = NewID()
	}
	if a.Data != nil {
		sum := sha256.Sum256(a.Data)
		a.SHA256 = hex.EncodeToString(sum[:])
		a.Size = int64(len(a.Data))
		if err := s.putBlob(ctx, tx, a.SHA256, a.Data); err != nil {
			return "", err
		}
	}
	var pages any
	if a.Pages != nil {
		pages = *a.Pages
	}
	_, err := tx.Exec(ctx, qInsertAttachment, a.ID, messageID, contactID, a.Filename, a.ContentType, a.Size, pages, a.SHA256, a.URL, Micros(now))
	return a.ID, err
}

func (s *Store) putBlob(ctx context.Context, tx *Tx, sum string, data []byte) error {
	_, err := tx.Exec(ctx, qInsertBlob, sum, data)
	return err
}

// PutBlob stores bytes by their hash (previews, OCR inputs) and returns the hash.
func (s *Store) PutBlob(ctx context.Context, tx *Tx, data []byte) (string, error) {
	sum := sha256.Sum256(data)
	h := hex.EncodeToString(sum[:])
	return h, s.putBlob(ctx, tx, h, data)
}

// Blob reads stored bytes by hash.
func (s *Store) Blob(ctx context.Context, sum string) ([]byte, error) {
	var data []byte
	err := s.queryRow(ctx, "SELECT data FROM blobs WHERE sha256 = ?", sum).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return data, err
}
