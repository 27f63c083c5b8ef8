package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/sportello/sportello/channels"
)

// ErrOfficeTokenExhausted is drawing a fresh office token failing again and again: every
// draw was already issued, which at 31^8 possible tokens means something is broken.
var ErrOfficeTokenExhausted = errors.New("store: no unused office token after several draws")

// officeTokenDraws bounds the draws of OfficeTokenTx; one is nearly always enough.
const officeTokenDraws = 5

// OfficeTokenTx is the token our mail to addr in the contact carries in its subject
// (channels.WithOfficeToken): the one issued before to that contact and address, or a new one.
// The office's answer that names no Message-ID of ours joins the contact by it, from addr
// alone (see threadFor).
func (s *Store) OfficeTokenTx(ctx context.Context, tx *Tx, contactID, addr string) (string, error) {
	addr = officeAddress(addr)
	if addr == "" {
		return "", fmt.Errorf("store: an office token needs an address")
	}
	for range officeTokenDraws {
		var token string
		err := tx.QueryRow(ctx, "SELECT token FROM office_tokens WHERE contact_id = ? AND address = ?", contactID, addr).Scan(&token)
		if err == nil {
			return token, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return "", err
		}
		// A conflict on the token (issued to another contact) or on the contact and address
		// (another replica issued one meanwhile) inserts nothing, without failing the
		// transaction on PostgreSQL; the next read tells which.
		if _, err := tx.Exec(ctx, "INSERT INTO office_tokens (token, contact_id, address, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
			channels.NewOfficeToken(), contactID, addr, Micros(s.now())); err != nil {
			return "", err
		}
	}
	return "", ErrOfficeTokenExhausted
}

// OfficeTokens lists the tokens issued in a contact (what the citizen's side must not show).
func (s *Store) OfficeTokens(ctx context.Context, contactID string) ([]string, error) {
	return strings1(s.query(ctx, "SELECT token FROM office_tokens WHERE contact_id = ? ORDER BY created_at, token", contactID))
}

// officeAddress is an address as office_tokens keeps it and compares it.
func officeAddress(addr string) string { return strings.ToLower(strings.TrimSpace(addr)) }

// threadByOfficeToken is threadFor's fallback for an office whose mailer dropped In-Reply-To
// and References: the contact of the first token in the subject issued to the message's very
// From, when nothing shows that From forged (the same locks as the Message-ID rule: the token
// went to that office alone, and only its address may use it). A token issued to another
// address, or a From known forged, joins nothing: the token's contact comes back as foreign.
// An unknown token is nothing.
func threadByOfficeToken(ctx context.Context, tx *Tx, in channels.InboundMessage) (contactID, foreign string, err error) {
	tokens := channels.OfficeTokensIn(in.Subject)
	if len(tokens) == 0 {
		return "", "", nil
	}
	type issued struct{ contactID, addr string }
	args := anys(tokens)
	rows, err := tx.Query(ctx, "SELECT token, contact_id, address FROM office_tokens WHERE token IN ("+placeholders(len(tokens))+")", args...)
	found := map[string]issued{}
	_, err = Collect(rows, err, func(r rowScanner) (struct{}, error) {
		var tok string
		var i issued
		err := r.Scan(&tok, &i.contactID, &i.addr)
		found[tok] = i
		return struct{}{}, err
	})
	if err != nil {
		return "", "", err
	}
	from := officeAddress(in.From)
	trusted := from != "" && !forgedSender(in)
	for _, tok := range tokens {
		i, ok := found[tok]
		if !ok {
			continue
		}
		if trusted && i.addr == from {
			return i.contactID, "", nil
		}
		if foreign == "" {
			foreign = i.contactID
		}
	}
	return "", foreign, nil
}
