package store

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/sportello/sportello/channels"
)

// Erased replaces an erased text, so a page or an export says the value was there and is gone.
const Erased = "[cancellato]"

// AuditErase and AuditExport are the audit actions of a citizen's erasure and export;
// AuditRetention is a retention run that changed something.
const (
	AuditErase     = "erase"
	AuditExport    = "export"
	AuditRetention = "retention"
)

// ErrOutOfScope is an erasure a scoped admin may not do: the citizen has contacts or alert
// subscriptions in comuni outside their scope, and erasing the person would erase or end those
// too.
var ErrOutOfScope = errors.New("the citizen has contacts or alert subscriptions outside your comuni")

// ScrubError is an erasure that committed, whose scrubbing of the database files failed: the
// erased values are gone from every query, and may still be in the files until the next
// erasure, retention run or checkpoint succeeds.
type ScrubError struct{ Err error }

func (e *ScrubError) Error() string {
	return "store: erased, but the database files were not scrubbed: " + e.Err.Error()
}
func (e *ScrubError) Unwrap() error { return e.Err }

// ErasureCounts says what an erasure or a retention run changed.
type ErasureCounts struct {
	Contacts      int `json:"contacts"`
	Messages      int `json:"messages"`
	Attachments   int `json:"attachments"`
	Blobs         int `json:"blobs"`
	Recordings    int `json:"recordings"`
	Identities    int `json:"identities"`
	Subscriptions int `json:"subscriptions"`
	AuditEntries  int `json:"audit_entries"`
	// FilesScrubbed: SQLite's WAL was checkpointed and truncated (the erased bytes are out of
	// the database files), or PostgreSQL's touched tables were vacuumed.
	FilesScrubbed bool `json:"files_scrubbed"`
}

func (c *ErasureCounts) add(o ErasureCounts) {
	c.Contacts += o.Contacts
	c.Messages += o.Messages
	c.Attachments += o.Attachments
	c.Blobs += o.Blobs
	c.Recordings += o.Recordings
	c.Identities += o.Identities
	c.Subscriptions += o.Subscriptions
	c.AuditEntries += o.AuditEntries
}

func (c ErasureCounts) String() string {
	return fmt.Sprintf("contacts %d, messages %d, attachments %d, blobs %d, recordings %d, identities %d, subscriptions %d, audit entries %d",
		c.Contacts, c.Messages, c.Attachments, c.Blobs, c.Recordings, c.Identities, c.Subscriptions, c.AuditEntries)
}

func newSalt() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return hex.EncodeToString(b)
}

// ErasedKey is what the STOP list and the consent trail keep of an erased number (or of an
// App IO subscription's key, "cf:" and the fiscal code): "erased:" and a keyed hash
// (HMAC-SHA256 with the database's own salt). Imports and the comuni's API refuse a number
// whose key is on the list, without the number being kept. The salt lives in the same
// database, so this is pseudonymisation: whoever holds the database can test a number.
func (s *Store) ErasedKey(ctx context.Context, phone string) (string, error) {
	s.saltMu.Lock()
	defer s.saltMu.Unlock()
	if s.salt == nil {
		var salt string
		if err := s.queryRow(ctx, "SELECT salt FROM erasure_salt WHERE id = 1").Scan(&salt); err != nil {
			return "", fmt.Errorf("store: erasure salt: %w", err)
		}
		s.salt = []byte(salt)
	}
	m := hmac.New(sha256.New, s.salt)
	m.Write([]byte(phone))
	return "erased:" + hex.EncodeToString(m.Sum(nil)), nil
}

// scrubber replaces erased values inside free text (audit targets and details, a reason).
type scrubber []string

func newScrubber(values []string) scrubber {
	var out scrubber
	seen := map[string]bool{}
	for _, v := range values {
		v = strings.TrimSpace(v)
		// Very short values ("Al") would blank unrelated words; names and addresses are longer.
		if len([]rune(v)) < 3 || v == Erased || seen[v] {
			continue
		}
		seen[v] = true
		out = append(out, v)
	}
	// Longest first: "Anna Rossi" before "Anna".
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

func (sc scrubber) apply(text string) string {
	for _, v := range sc {
		if strings.Contains(text, v) {
			text = strings.ReplaceAll(text, v, Erased)
		}
	}
	return text
}

// citizenFamily is the citizen and every citizen merged into it (their rows keep the names
// they had).
func citizenFamily(ctx context.Context, tx *Tx, id string) ([]string, error) {
	ids := []string{id}
	seen := map[string]bool{id: true}
	for i := 0; i < len(ids); i++ {
		rows, err := tx.Query(ctx, "SELECT id FROM citizens WHERE merged_into = ?", ids[i])
		more, err := Collect(rows, err, func(r rowScanner) (string, error) {
			var s string
			return s, r.Scan(&s)
		})
		if err != nil {
			return nil, err
		}
		for _, m := range more {
			if !seen[m] {
				seen[m] = true
				ids = append(ids, m)
			}
		}
	}
	return ids, nil
}

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func strings1(rows *sql.Rows, err error) ([]string, error) {
	return Collect(rows, err, func(r rowScanner) (string, error) {
		var s string
		return s, r.Scan(&s)
	})
}

// EraseCitizen erases a citizen's personal data (GDPR art. 17): identities and names are
// deleted, every contact's texts and addresses become Erased, attachments are deleted (their
// bytes when no other contact uses them), recordings are unlinked, subscriptions end (by number
// and by fiscal code; the STOP list and the consent trail keep only ErasedKey of each) and the
// audit log keeps who erased and why, with the erased values taken out of its older entries.
// What reports count stays: channel, comune, category, outcome and times. A scoped admin may
// erase only a citizen whose every contact and alert subscription is in their comuni
// (ErrOutOfScope otherwise; ErrNotFound when they cannot see the citizen at all).
//
// On PostgreSQL it runs in a transaction of its own (WriteAlone) and locks the citizen's row
// first: an incoming message for the citizen (see touchCitizen) waits for the erasure and then
// starts a new citizen, instead of joining, half-way, the one being erased.
func (s *Store) EraseCitizen(ctx context.Context, id string, sc Scope, actor, reason string) (ErasureCounts, error) {
	var counts ErasureCounts
	err := s.WriteAlone(ctx, func(ctx context.Context, tx *Tx) error {
		var err error
		counts, err = s.eraseCitizenTx(ctx, tx, id, sc, actor, reason)
		return err
	})
	if err != nil {
		return counts, err
	}
	counts.FilesScrubbed, err = s.scrubFiles(ctx)
	if err != nil {
		return counts, &ScrubError{err}
	}
	return counts, nil
}

// erasedIdentity is one of an erased citizen's addresses.
type erasedIdentity struct{ kind, value string }

func (s *Store) eraseCitizenTx(ctx context.Context, tx *Tx, id string, sc Scope, actor, reason string) (ErasureCounts, error) {
	var counts ErasureCounts
	comune, err := s.lockCitizenTx(ctx, tx, id)
	if err != nil {
		return counts, err
	}
	family, err := citizenFamily(ctx, tx, id)
	if err != nil {
		return counts, err
	}
	ph := placeholders(len(family))
	rows, err := tx.Query(ctx, "SELECT id, comune FROM contacts WHERE citizen_id IN ("+ph+") ORDER BY id", anys(family)...)
	refs, err := Collect(rows, err, func(r rowScanner) (contactRef, error) {
		var c contactRef
		return c, r.Scan(&c.id, &c.comune)
	})
	if err != nil {
		return counts, err
	}
	rows, err = tx.Query(ctx, "SELECT kind, value FROM identities WHERE citizen_id IN ("+ph+")", anys(family)...)
	idents, err := Collect(rows, err, func(r rowScanner) (erasedIdentity, error) {
		var i erasedIdentity
		return i, r.Scan(&i.kind, &i.value)
	})
	if err != nil {
		return counts, err
	}
	if err := checkErasureScopeTx(ctx, tx, sc, comune, refs, idents); err != nil {
		return counts, err
	}
	values, err := strings1(tx.Query(ctx, "SELECT name FROM citizens WHERE id IN ("+ph+") AND name <> ''", anys(family)...))
	if err != nil {
		return counts, err
	}
	for _, i := range idents {
		values = append(values, i.value)
	}
	erasedValues := newScrubber(values)
	contactIDs := make([]string, len(refs))
	for i, r := range refs {
		contactIDs[i] = r.id
	}
	now := Micros(s.now())
	if counts, err = s.eraseContactsTx(ctx, tx, contactIDs, values, now); err != nil {
		return counts, err
	}
	res, err := tx.Exec(ctx, "DELETE FROM identities WHERE citizen_id IN ("+ph+")", anys(family)...)
	if err != nil {
		return counts, err
	}
	n, _ := res.RowsAffected()
	counts.Identities = int(n)
	if _, err := tx.Exec(ctx, "UPDATE citizens SET name = '', erased_at = ?, updated_at = ? WHERE id IN ("+ph+")",
		append([]any{now, now}, anys(family)...)...); err != nil {
		return counts, err
	}
	var consentKeys []string
	for _, i := range idents {
		var ended int
		var key string
		switch i.kind {
		case string(channels.IdentityPhone):
			ended, key, err = s.endSubscriptionsTx(ctx, tx, i.value, actor, now)
		case string(channels.IdentityFiscalCode):
			ended, key, err = s.endFiscalSubscriptionsTx(ctx, tx, i.value, actor, now)
		}
		if err != nil {
			return counts, err
		}
		counts.Subscriptions += ended
		if key != "" {
			consentKeys = append(consentKeys, key)
		}
		if err := forgetAddressTx(ctx, tx, i.value); err != nil {
			return counts, err
		}
	}
	if err := scrubConsentDetailsTx(ctx, tx, consentKeys, erasedValues); err != nil {
		return counts, err
	}
	if counts.AuditEntries, err = s.scrubAuditTx(ctx, tx, contactIDs, family, erasedValues); err != nil {
		return counts, err
	}
	return counts, s.AuditTx(ctx, tx, AuditEntry{Actor: actor, Action: AuditErase, CitizenID: &id,
		Detail: erasedValues.apply(strings.TrimSpace(reason))})
}

// lockCitizenTx reads the comune of a citizen to erase (at a request, or by retention) or to
// merge (ErrNotFound for a merged or unknown one) and, on PostgreSQL, locks its row for the
// rest of the transaction, which must be WriteAlone's (in a shared batch it is
// ErrLockInSharedBatch). Ingest writes that row before it adds a message to the citizen
// (touchCitizen), so the two take turns: a message either is in the contacts the erasure reads
// next, or waits and finds the citizen erased. A merge locks its two citizens in id order, as
// retention locks its many. SQLite's single writer already runs them one after the other.
func (s *Store) lockCitizenTx(ctx context.Context, tx *Tx, id string) (sql.NullString, error) {
	q := "SELECT comune FROM citizens WHERE id = ? AND merged_into IS NULL"
	if s.dialect == Postgres {
		if tx.shared {
			return sql.NullString{}, ErrLockInSharedBatch
		}
		q += " FOR UPDATE"
	}
	var comune sql.NullString
	err := tx.QueryRow(ctx, q, id).Scan(&comune)
	if errors.Is(err, sql.ErrNoRows) {
		return comune, ErrNotFound
	}
	return comune, err
}

type contactRef struct {
	id     string
	comune sql.NullString
}

// checkErasureScopeTx lets a scoped admin erase only a citizen they can see (ErrNotFound) and
// whose every contact and alert subscription is in their comuni (ErrOutOfScope): the erasure
// ends the citizen's subscriptions in every comune and puts their numbers on the STOP list,
// which is another comune's processing when one of them is outside the scope.
func checkErasureScopeTx(ctx context.Context, tx *Tx, sc Scope, comune sql.NullString, refs []contactRef, idents []erasedIdentity) error {
	if sc.Comuni == nil {
		return nil
	}
	visible := sc.Allows(nullString(comune))
	outside := false
	for _, r := range refs {
		if sc.Allows(nullString(r.comune)) {
			visible = true
		} else {
			outside = true
		}
	}
	if !visible {
		return ErrNotFound
	}
	if outside {
		return ErrOutOfScope
	}
	subscribed, err := subscribedOutsideTx(ctx, tx, sc, idents)
	if err != nil {
		return err
	}
	if subscribed {
		return ErrOutOfScope
	}
	return nil
}

// subscribedOutsideTx reports whether any of the identities has an alert subscription (in any
// state: a removed one's row is still the comune's record) in a comune outside the scope.
func subscribedOutsideTx(ctx context.Context, tx *Tx, sc Scope, idents []erasedIdentity) (bool, error) {
	var phones, fiscalCodes []any
	for _, i := range idents {
		switch i.kind {
		case string(channels.IdentityPhone):
			phones = append(phones, i.value)
		case string(channels.IdentityFiscalCode):
			fiscalCodes = append(fiscalCodes, i.value)
		}
	}
	var which []string
	var args []any
	if len(phones) > 0 {
		which = append(which, "phone IN ("+placeholders(len(phones))+")")
		args = append(args, phones...)
	}
	if len(fiscalCodes) > 0 {
		which = append(which, "fiscal_code IN ("+placeholders(len(fiscalCodes))+")")
		args = append(args, fiscalCodes...)
	}
	if len(which) == 0 {
		return false, nil
	}
	q := "SELECT COUNT(*) FROM subscribers WHERE (" + strings.Join(which, " OR ") + ")"
	if len(sc.Comuni) > 0 {
		q += " AND comune NOT IN (" + placeholders(len(sc.Comuni)) + ")"
		args = append(args, anys(sc.Comuni)...)
	}
	var n int
	err := tx.QueryRow(ctx, q, args...).Scan(&n)
	return n > 0, err
}

// forgetAddressTx takes an erased address out of the automatic-answer log (kept in lower case)
// and the local outbox.
func forgetAddressTx(ctx context.Context, tx *Tx, address string) error {
	if _, err := tx.Exec(ctx, "DELETE FROM auto_reply_recipients WHERE address = ?", strings.ToLower(address)); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, "DELETE FROM outbox WHERE to_addr = ?", address)
	return err
}

// erasedText is a SQL expression that turns a column's non-empty text into Erased.
func erasedText(col string) string {
	return "CASE WHEN " + col + " = '' THEN '' ELSE '" + Erased + "' END"
}

// eraseContactsTx erases the texts, the citizen's addresses, the attachments, the recordings
// and the office tokens of contacts, keeping what reports count. values are the erased
// identities and names, taken out of the audit log's entries about the contacts.
func (s *Store) eraseContactsTx(ctx context.Context, tx *Tx, ids []string, values []string, now int64) (ErasureCounts, error) {
	var c ErasureCounts
	for start := 0; start < len(ids); start += 400 {
		part := anys(ids[start:min(start+400, len(ids))])
		ph := placeholders(len(part))
		var recordings int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM contacts WHERE id IN ("+ph+") AND (call_recording_url IS NOT NULL OR call_recording_sid IS NOT NULL)",
			part...).Scan(&recordings); err != nil {
			return c, err
		}
		c.Recordings += recordings
		if recordings > 0 {
			if err := queueRecordingDeletions(ctx, tx, now, "id IN ("+ph+")", part); err != nil {
				return c, err
			}
		}
		// The office tokens go with the texts that carried them: an office's answer naming
		// one later starts a contact of its own.
		if _, err := tx.Exec(ctx, "DELETE FROM office_tokens WHERE contact_id IN ("+ph+")", part...); err != nil {
			return c, err
		}
		ac, err := s.deleteAttachmentsTx(ctx, tx, "contact_id IN ("+ph+")", part)
		if err != nil {
			return c, err
		}
		c.Attachments += ac.Attachments
		c.Blobs += ac.Blobs
		c.Recordings += ac.Recordings
		res, err := tx.Exec(ctx, `UPDATE messages SET
			subject = CASE WHEN subject = '' THEN '' ELSE '`+Erased+`' END,
			body = CASE WHEN body = '' THEN '' ELSE '`+Erased+`' END,
			from_addr = CASE WHEN direction = 'inbound' AND from_addr <> '' THEN '`+Erased+`' ELSE from_addr END,
			to_addr = CASE WHEN direction = 'outbound' AND to_addr <> '' THEN '`+Erased+`' ELSE to_addr END,
			error = CASE WHEN error = '' THEN '' ELSE '`+Erased+`' END,
			notes = '', in_reply_to = '', refs = '', pec = NULL, updated_at = ?
			WHERE contact_id IN (`+ph+`)`, append([]any{now}, part...)...)
		if err != nil {
			return c, err
		}
		n, _ := res.RowsAffected()
		c.Messages += int(n)
		// A contact's own texts, addresses and name; its channel, comune, category, queue,
		// status, outcome, office and times stay for the reports.
		res, err = tx.Exec(ctx, `UPDATE contacts SET
			subject = CASE WHEN subject = '' THEN '' ELSE '`+Erased+`' END,
			body = CASE WHEN body = '' THEN '' ELSE '`+Erased+`' END,
			note = CASE WHEN note = '' THEN '' ELSE '`+Erased+`' END,
			from_addr = CASE WHEN direction = 'inbound' THEN '`+Erased+`' ELSE from_addr END,
			to_addr = CASE WHEN direction = 'outbound' THEN '`+Erased+`' ELSE to_addr END,
			from_name = '', call_recording_url = NULL, call_recording_sid = NULL, pec = NULL,
			erased_at = ?, updated_at = ? WHERE id IN (`+ph+`)`, append([]any{now, now}, part...)...)
		if err != nil {
			return c, err
		}
		n, _ = res.RowsAffected()
		c.Contacts += int(n)
	}
	return c, nil
}

// deleteAttachmentsTx deletes the attachments matching where (over attachments' own columns)
// and the blobs no remaining attachment uses.
func (s *Store) deleteAttachmentsTx(ctx context.Context, tx *Tx, where string, args []any) (ErasureCounts, error) {
	var c ErasureCounts
	type att struct{ sha, preview, contentType string }
	rows, err := tx.Query(ctx, "SELECT sha256, preview_sha256, content_type FROM attachments WHERE "+where, args...)
	list, err := Collect(rows, err, func(r rowScanner) (att, error) {
		var a att
		return a, r.Scan(&a.sha, &a.preview, &a.contentType)
	})
	if err != nil || len(list) == 0 {
		return c, err
	}
	if _, err := tx.Exec(ctx, "DELETE FROM attachments WHERE "+where, args...); err != nil {
		return c, err
	}
	hashes := map[string]bool{}
	for _, a := range list {
		if strings.HasPrefix(a.contentType, "audio/") {
			c.Recordings++
		} else {
			c.Attachments++
		}
		for _, h := range []string{a.sha, a.preview} {
			if h != "" {
				hashes[h] = true
			}
		}
	}
	for h := range hashes {
		res, err := tx.Exec(ctx, `DELETE FROM blobs WHERE sha256 = ? AND NOT EXISTS (SELECT 1 FROM attachments WHERE sha256 = ?)
			AND NOT EXISTS (SELECT 1 FROM attachments WHERE preview_sha256 = ?)`, h, h, h)
		if err != nil {
			return c, err
		}
		n, _ := res.RowsAffected()
		c.Blobs += int(n)
	}
	return c, nil
}

// endSubscriptionsTx ends a number's alert subscriptions at its owner's erasure: the
// subscriptions and pending confirmation requests go, the STOP list and the consent trail keep
// ErasedKey instead of the number, and the consent trail records the erasure. The key goes on
// the STOP list even for a number that never subscribed: the citizen asked to be forgotten, so
// a comune's later import of a list holding the number must not subscribe it. The delivery
// rows keep the key too, and lose the provider's error text, which may name the number
// (Twilio's 21211 and 21408 do). It returns how many subscriptions ended and the key.
func (s *Store) endSubscriptionsTx(ctx context.Context, tx *Tx, phone, actor string, now int64) (int, string, error) {
	key, err := s.ErasedKey(ctx, phone)
	if err != nil {
		return 0, "", err
	}
	res, err := tx.Exec(ctx, "DELETE FROM subscribers WHERE phone = ?", phone)
	if err != nil {
		return 0, "", err
	}
	n, _ := res.RowsAffected()
	steps := []struct {
		q    string
		args []any
	}{
		{"INSERT INTO sms_optouts (phone, via, created_at) VALUES (?, 'erasure', ?) ON CONFLICT (phone) DO NOTHING", []any{key, now}},
		{"DELETE FROM sms_optouts WHERE phone = ?", []any{phone}},
		{"UPDATE alert_recipients SET phone = ?, status = CASE WHEN status = 'queued' THEN 'cancelled' ELSE status END, error = " +
			erasedText("error") + ", updated_at = ? WHERE phone = ?", []any{key, now, phone}},
		{"UPDATE sms_commands SET phone = ? WHERE phone = ?", []any{key, phone}},
		{"DELETE FROM sms_confirmations WHERE phone = ?", []any{phone}},
	}
	for _, st := range steps {
		if _, err := tx.Exec(ctx, st.q, st.args...); err != nil {
			return 0, "", err
		}
	}
	if err := rekeyConsentTrailTx(ctx, tx, phone, key, actor, now); err != nil {
		return 0, "", err
	}
	// A confirmation request still queued would text the number: its job (which names it) goes.
	if ok, err := s.hasTableTx(ctx, tx, "river_job"); err != nil || !ok {
		return int(n), key, err
	}
	match := "json_extract(args, '$.phone') = ?"
	if s.dialect == Postgres {
		match = "args->>'phone' = ?"
	}
	_, err = tx.Exec(ctx, "DELETE FROM river_job WHERE kind = 'alert_subscription_confirm' AND state <> 'running' AND "+match, phone)
	return int(n), key, err
}

// fiscalKeyPrefix starts the key (subscribers.phone, subscriber_consents.phone) of an App IO
// subscription by fiscal code alone: alertstore.FiscalKey, which imports this package.
const fiscalKeyPrefix = "cf:"

// endFiscalSubscriptionsTx ends the App IO subscriptions of an erased citizen's fiscal code:
// every subscription carrying it goes; their consent trail (keyed "cf:" and the fiscal code)
// and the delivery rows keep ErasedKey of that key instead, and the delivery rows lose the
// fiscal code and the provider's error text. Unlike a number, a fiscal code goes on no STOP
// list: App IO itself asks the citizen before a comune's service may reach them. It returns how
// many subscriptions ended and the key.
func (s *Store) endFiscalSubscriptionsTx(ctx context.Context, tx *Tx, fiscalCode, actor string, now int64) (int, string, error) {
	subscriptionKey := fiscalKeyPrefix + fiscalCode
	key, err := s.ErasedKey(ctx, subscriptionKey)
	if err != nil {
		return 0, "", err
	}
	res, err := tx.Exec(ctx, "DELETE FROM subscribers WHERE fiscal_code = ? OR phone = ?", fiscalCode, subscriptionKey)
	if err != nil {
		return 0, "", err
	}
	n, _ := res.RowsAffected()
	if _, err := tx.Exec(ctx, `UPDATE alert_recipients SET phone = CASE WHEN phone = ? THEN ? ELSE phone END, fiscal_code = '',
		status = CASE WHEN status = 'queued' THEN 'cancelled' ELSE status END, error = `+erasedText("error")+`, updated_at = ?
		WHERE fiscal_code = ? OR phone = ?`, subscriptionKey, key, now, fiscalCode, subscriptionKey); err != nil {
		return 0, "", err
	}
	return int(n), key, rekeyConsentTrailTx(ctx, tx, subscriptionKey, key, actor, now)
}

// rekeyConsentTrailTx puts key in place of an erased subscription key (a number, or "cf:" and
// a fiscal code) in the consent trail, where it was the key or the actor, and records the
// erasure there.
func rekeyConsentTrailTx(ctx context.Context, tx *Tx, subscriptionKey, key, actor string, now int64) error {
	if _, err := tx.Exec(ctx, "UPDATE subscriber_consents SET phone = ?, actor = CASE WHEN actor = ? THEN ? ELSE actor END WHERE phone = ?",
		key, subscriptionKey, key, subscriptionKey); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `INSERT INTO subscriber_consents (id, comune, phone, action, via, actor, topics, detail, at) VALUES (?, '', ?, 'erase', 'admin', ?, '', '', ?)`,
		NewID(), key, actor, now)
	return err
}

// scrubConsentDetailsTx takes the erased values out of the details of the consent trail under
// the erased keys: a detail may name the citizen's other address ("replaced by the
// subscription of" a number, "fiscal code" and the code).
func scrubConsentDetailsTx(ctx context.Context, tx *Tx, keys []string, sc scrubber) error {
	if len(keys) == 0 || len(sc) == 0 {
		return nil
	}
	type consent struct{ id, detail string }
	rows, err := tx.Query(ctx, "SELECT id, detail FROM subscriber_consents WHERE phone IN ("+placeholders(len(keys))+") AND detail <> ''", anys(keys)...)
	list, err := Collect(rows, err, func(r rowScanner) (consent, error) {
		var c consent
		return c, r.Scan(&c.id, &c.detail)
	})
	if err != nil {
		return err
	}
	for _, c := range list {
		if d := sc.apply(c.detail); d != c.detail {
			if _, err := tx.Exec(ctx, "UPDATE subscriber_consents SET detail = ? WHERE id = ?", d, c.id); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *Store) hasTableTx(ctx context.Context, tx *Tx, name string) (bool, error) {
	var n int
	q := "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?"
	if s.dialect == Postgres {
		q = "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?"
	}
	err := tx.QueryRow(ctx, q, name).Scan(&n)
	return n > 0, err
}

// scrubAuditTx takes erased values out of the audit entries about the contacts and citizens.
func (s *Store) scrubAuditTx(ctx context.Context, tx *Tx, contactIDs, citizenIDs []string, sc scrubber) (int, error) {
	if len(sc) == 0 {
		return 0, nil
	}
	type entry struct{ id, target, detail string }
	var list []entry
	scan := func(r rowScanner) (entry, error) {
		var e entry
		return e, r.Scan(&e.id, &e.target, &e.detail)
	}
	for _, set := range []struct {
		col string
		ids []string
	}{{"contact_id", contactIDs}, {"citizen_id", citizenIDs}} {
		for start := 0; start < len(set.ids); start += 400 {
			part := anys(set.ids[start:min(start+400, len(set.ids))])
			rows, err := tx.Query(ctx, "SELECT id, target, detail FROM audit_log WHERE "+set.col+" IN ("+placeholders(len(part))+")", part...)
			got, err := Collect(rows, err, scan)
			if err != nil {
				return 0, err
			}
			list = append(list, got...)
		}
	}
	n := 0
	for _, e := range list {
		t, d := sc.apply(e.target), sc.apply(e.detail)
		if t == e.target && d == e.detail {
			continue
		}
		if _, err := tx.Exec(ctx, "UPDATE audit_log SET target = ?, detail = ? WHERE id = ?", t, d, e.id); err != nil {
			return 0, err
		}
		n++
	}
	return n, nil
}

// erasureTables are the tables an erasure or a retention run changes.
const erasureTables = "contacts, messages, office_tokens, citizens, identities, attachments, blobs, audit_log, subscribers, subscriber_consents, sms_optouts, alert_recipients, sms_commands, outbox, auto_reply_recipients, sms_confirmations"

// RewriteFiles rewrites the tables erasures touch into new files (PostgreSQL VACUUM FULL), so
// the bytes of erased rows, which a plain VACUUM leaves in the pages' free space, leave the
// database's files. It locks each table while it is rewritten (reads and writes wait): run it
// in a quiet hour. On SQLite secure_delete and the checkpoint already did this: it does nothing.
func (s *Store) RewriteFiles(ctx context.Context) error {
	if s.dialect != Postgres {
		return nil
	}
	_, err := s.db.ExecContext(ctx, "VACUUM FULL "+erasureTables)
	return err
}

// scrubFiles takes erased bytes out of the database files. SQLite: the WAL still holds the
// pages as they were before the erasure, so it is checkpointed into the database file (whose
// freed space secure_delete zeroed: see Open) and truncated. PostgreSQL: the old row versions stay in the
// table files until VACUUM makes their space reusable, so the tables an erasure touches are
// vacuumed (see docs/privacy.md for what remains even then). It reports whether it succeeded;
// an error is returned only for a database that failed outright.
func (s *Store) scrubFiles(ctx context.Context) (bool, error) {
	if s.dialect == Postgres {
		_, err := s.db.ExecContext(ctx, "VACUUM "+erasureTables)
		return err == nil, err
	}
	// A reader holding an old snapshot makes TRUNCATE wait for it, holding the writer's only
	// connection: each attempt waits at most a second (not the store's 10 s busy timeout), and
	// between attempts the connection is free for the other writes.
	for attempt := 0; attempt < 10; attempt++ {
		done, err := s.checkpointOnce(ctx)
		if err != nil || done {
			return done, err
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return false, nil
}

// checkpointOnce tries one truncating checkpoint on the writer's connection with a short busy
// timeout, and reports whether the WAL was emptied.
func (s *Store) checkpointOnce(ctx context.Context) (done bool, err error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return false, err
	}
	defer func() {
		_, rerr := conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA busy_timeout = 10000")
		err = errors.Join(err, rerr, conn.Close())
	}()
	if _, err := conn.ExecContext(ctx, "PRAGMA busy_timeout = 1000"); err != nil {
		return false, err
	}
	var busy, logFrames, moved int
	if err := conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &logFrames, &moved); err != nil {
		return false, err
	}
	return busy == 0, nil
}
