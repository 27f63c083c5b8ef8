package store

import (
	"context"
	"errors"
	"strings"
	"time"
)

// Retention is how long each kind of data is kept, in days; 0 keeps it.
type Retention struct {
	// Contacts: a resolved contact received longer ago has its texts, addresses, attachments
	// and recording erased as at a citizen's erasure; a citizen left with only erased contacts
	// loses identities and name too (their alert subscriptions stay: that is another consent).
	Contacts int
	// Attachments: the files (not voicemails) of resolved contacts, by the file's arrival.
	Attachments int
	// Recordings: voicemails and the links to call recordings of resolved contacts.
	Recordings int
	// Audit: audit log entries.
	Audit int
}

// retentionChunk bounds one transaction of a retention run, so other writes keep flowing.
const retentionChunk = 200

// ApplyRetention erases what is older than the periods, in chunks, then scrubs the database
// files as an erasure does. It records an audit entry when it changed something.
func (s *Store) ApplyRetention(ctx context.Context, r Retention) (ErasureCounts, error) {
	var total ErasureCounts
	now := s.now()
	cutoff := func(days int) int64 { return Micros(now.Add(-time.Duration(days) * 24 * time.Hour)) }
	if r.Contacts > 0 {
		c, err := s.retainContacts(ctx, cutoff(r.Contacts))
		total.add(c)
		if err != nil {
			return total, err
		}
	}
	for _, k := range []struct {
		days  int
		where string
	}{
		{r.Attachments, "content_type NOT LIKE 'audio/%'"},
		{r.Recordings, "content_type LIKE 'audio/%'"},
	} {
		if k.days <= 0 {
			continue
		}
		where := k.where + " AND created_at < ? AND contact_id IN (SELECT id FROM contacts WHERE status = 'resolved')"
		for {
			var c ErasureCounts
			err := s.Write(ctx, func(ctx context.Context, tx *Tx) error {
				var err error
				c, err = s.deleteAttachmentsTx(ctx, tx, "id IN (SELECT id FROM attachments WHERE "+where+" ORDER BY created_at LIMIT ?)",
					[]any{cutoff(k.days), retentionChunk})
				return err
			})
			total.add(c)
			if err != nil {
				return total, err
			}
			if c.Attachments+c.Recordings == 0 {
				break
			}
		}
	}
	if r.Recordings > 0 {
		err := s.Write(ctx, func(ctx context.Context, tx *Tx) error {
			if err := queueRecordingDeletions(ctx, tx, Micros(now), "status = 'resolved' AND received_at < ?", []any{cutoff(r.Recordings)}); err != nil {
				return err
			}
			res, err := tx.Exec(ctx, `UPDATE contacts SET call_recording_url = NULL, call_recording_sid = NULL, updated_at = ?
				WHERE status = 'resolved' AND received_at < ? AND (call_recording_url IS NOT NULL OR call_recording_sid IS NOT NULL)`,
				Micros(now), cutoff(r.Recordings))
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			total.Recordings += int(n)
			return nil
		})
		if err != nil {
			return total, err
		}
	}
	if r.Audit > 0 {
		for {
			var n int64
			err := s.Write(ctx, func(ctx context.Context, tx *Tx) error {
				res, err := tx.Exec(ctx, "DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE at < ? ORDER BY at LIMIT ?)",
					cutoff(r.Audit), 5000)
				if err != nil {
					return err
				}
				n, _ = res.RowsAffected()
				return nil
			})
			if err != nil {
				return total, err
			}
			total.AuditEntries += int(n)
			if n == 0 {
				break
			}
		}
	}
	if total == (ErasureCounts{}) {
		return total, nil
	}
	if err := s.Audit(ctx, AuditEntry{Actor: AuditSystem, Action: AuditRetention, Detail: total.String()}); err != nil {
		return total, err
	}
	var err error
	if total.FilesScrubbed, err = s.scrubFiles(ctx); err != nil {
		return total, &ScrubError{err}
	}
	return total, nil
}

// retainContacts erases resolved contacts received before cutoff, a chunk at a time, and then
// the identities and names of citizens left with erased contacts only.
func (s *Store) retainContacts(ctx context.Context, cutoff int64) (ErasureCounts, error) {
	var total ErasureCounts
	// On PostgreSQL the contacts are locked as they are picked, so a message reopening one
	// (qReopenContact) either did so first, and the contact, open again, is not picked, or
	// waits and reopens the erased contact. Erasing a contact reopened meanwhile would undo
	// its erased_at = NULL, by which a later run finds the new message.
	pick := `SELECT id FROM contacts WHERE erased_at IS NULL AND status = 'resolved' AND received_at < ?
		ORDER BY received_at LIMIT ?`
	if s.dialect == Postgres {
		pick += " FOR UPDATE"
	}
	for {
		var c ErasureCounts
		err := s.WriteAlone(ctx, func(ctx context.Context, tx *Tx) error {
			c = ErasureCounts{}
			ids, err := strings1(tx.Query(ctx, pick, cutoff, retentionChunk))
			if err != nil || len(ids) == 0 {
				return err
			}
			values, err := contactValuesTx(ctx, tx, ids)
			if err != nil {
				return err
			}
			now := Micros(s.now())
			c, err = s.eraseContactsTx(ctx, tx, ids, values, now)
			if err != nil {
				return err
			}
			n, err := s.scrubAuditTx(ctx, tx, ids, nil, newScrubber(values))
			c.AuditEntries = n
			return err
		})
		total.add(c)
		if err != nil {
			return total, err
		}
		if c.Contacts == 0 {
			break
		}
	}
	// The local outbox keeps copies of replies (address and text): they age like contacts. So
	// does the automatic-answer log: a row older than a day limits nothing any more (see
	// ClaimAutoReplyRecipientTx), and the cutoff is at least a day ago.
	if err := s.Write(ctx, func(ctx context.Context, tx *Tx) error {
		if _, err := tx.Exec(ctx, "DELETE FROM outbox WHERE created_at < ?", cutoff); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "DELETE FROM auto_reply_recipients WHERE last_sent_at < ?", cutoff)
		return err
	}); err != nil {
		return total, err
	}
	// Citizens whose every contact is erased keep no identity or name. Each is locked as an
	// erasure locks it (lockCitizenTx), and checked again once locked: a message storing a
	// contact for it either came first, and the citizen keeps existing, or waits and then
	// starts a new citizen (see touchCitizen).
	for {
		var found int
		var c ErasureCounts
		err := s.WriteAlone(ctx, func(ctx context.Context, tx *Tx) error {
			c = ErasureCounts{}
			candidates, err := strings1(tx.Query(ctx, "SELECT ci.id FROM citizens ci WHERE "+contactlessCitizen+" ORDER BY ci.id LIMIT ?", retentionChunk))
			found = len(candidates)
			if err != nil || found == 0 {
				return err
			}
			ids, err := s.lockContactlessCitizensTx(ctx, tx, candidates)
			if err != nil || len(ids) == 0 {
				return err
			}
			c, err = s.retireCitizensTx(ctx, tx, ids)
			return err
		})
		if err != nil {
			return total, err
		}
		total.Identities += c.Identities
		total.AuditEntries += c.AuditEntries
		if found == 0 {
			break
		}
	}
	return total, nil
}

// contactlessCitizen is the condition (over citizens ci) of a citizen retention erases: not
// erased or merged, with contacts, all of them erased.
const contactlessCitizen = `ci.erased_at IS NULL AND ci.merged_into IS NULL
	AND EXISTS (SELECT 1 FROM contacts c WHERE c.citizen_id = ci.id)
	AND NOT EXISTS (SELECT 1 FROM contacts c WHERE c.citizen_id = ci.id AND c.erased_at IS NULL)`

// lockContactlessCitizensTx locks the candidates (in id order, as every run takes them) and
// returns those still without a live contact once locked: on PostgreSQL a message may have
// stored one between the candidates' query and the lock.
func (s *Store) lockContactlessCitizensTx(ctx context.Context, tx *Tx, candidates []string) ([]string, error) {
	var locked []string
	for _, id := range candidates {
		_, err := s.lockCitizenTx(ctx, tx, id)
		if errors.Is(err, ErrNotFound) {
			continue // merged meanwhile: its contacts went with it
		}
		if err != nil {
			return nil, err
		}
		locked = append(locked, id)
	}
	if len(locked) == 0 {
		return nil, nil
	}
	return strings1(tx.Query(ctx, "SELECT ci.id FROM citizens ci WHERE ci.id IN ("+placeholders(len(locked))+") AND "+contactlessCitizen,
		anys(locked)...))
}

// retireCitizensTx erases the identities and names of citizens retention found without a live
// contact, and of the citizens merged into them, as an erasure does (the alert subscriptions
// stay: that is another consent).
func (s *Store) retireCitizensTx(ctx context.Context, tx *Tx, ids []string) (ErasureCounts, error) {
	var c ErasureCounts
	ph := placeholders(len(ids))
	addresses, err := strings1(tx.Query(ctx, "SELECT value FROM identities WHERE citizen_id IN ("+ph+")", anys(ids)...))
	if err != nil {
		return c, err
	}
	names, err := strings1(tx.Query(ctx, "SELECT name FROM citizens WHERE id IN ("+ph+") AND name <> ''", anys(ids)...))
	if err != nil {
		return c, err
	}
	values := append(addresses, names...)
	// As at an erasure, the addresses leave the automatic-answer log and the outbox.
	for _, a := range addresses {
		if err := forgetAddressTx(ctx, tx, a); err != nil {
			return c, err
		}
	}
	res, err := tx.Exec(ctx, "DELETE FROM identities WHERE citizen_id IN ("+ph+")", anys(ids)...)
	if err != nil {
		return c, err
	}
	n, _ := res.RowsAffected()
	c.Identities = int(n)
	now := Micros(s.now())
	if _, err := tx.Exec(ctx, "UPDATE citizens SET name = '', erased_at = ?, updated_at = ? WHERE id IN ("+ph+")",
		append([]any{now, now}, anys(ids)...)...); err != nil {
		return c, err
	}
	// The citizens' merged-in rows keep old names: they go too.
	if _, err := tx.Exec(ctx, "UPDATE citizens SET name = '', erased_at = ?, updated_at = ? WHERE merged_into IN ("+ph+")",
		append([]any{now, now}, anys(ids)...)...); err != nil {
		return c, err
	}
	c.AuditEntries, err = s.scrubAuditTx(ctx, tx, nil, ids, newScrubber(values))
	return c, err
}

// contactValuesTx lists what retention takes out of the audit entries about contacts: the
// senders' names and the citizens' addresses on the contacts and on every message of their
// threads (a reply that reopened a contact after an earlier run names its sender only there).
func contactValuesTx(ctx context.Context, tx *Tx, ids []string) ([]string, error) {
	ph := placeholders(len(ids))
	queries := []string{
		"SELECT from_name FROM contacts WHERE id IN (" + ph + ") AND from_name <> ''",
		"SELECT from_addr FROM contacts WHERE id IN (" + ph + ") AND direction = 'inbound'",
		"SELECT to_addr FROM contacts WHERE id IN (" + ph + ") AND direction = 'outbound'",
		"SELECT from_addr FROM messages WHERE contact_id IN (" + ph + ") AND direction = 'inbound'",
		"SELECT to_addr FROM messages WHERE contact_id IN (" + ph + ") AND direction = 'outbound'",
	}
	var args []any
	for range queries {
		args = append(args, anys(ids)...)
	}
	return strings1(tx.Query(ctx, strings.Join(queries, " UNION "), args...))
}
