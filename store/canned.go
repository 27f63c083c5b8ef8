package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"
)

// CannedAnswer is a ready answer stored in the database: Comune "" is shared by every comune,
// Channels nil fits every channel.
type CannedAnswer struct {
	ID        string
	Title     string
	TextIT    string
	TextEN    string
	Comune    string
	Channels  []string
	Position  int
	CreatedAt time.Time
	UpdatedAt time.Time
}

// CannedFilter selects canned answers. Scope limits a comune's own answers to the caller's
// comuni (shared answers are always listed); Comune and Channel narrow to the answers a
// contact of that comune and channel may use (the comune's own and the shared ones).
type CannedFilter struct {
	Scope   Scope
	Comune  string
	Channel string
}

const cannedColumns = `id, title, text_it, text_en, comune, channels, position, created_at, updated_at`

func scanCanned(row rowScanner) (CannedAnswer, error) {
	var a CannedAnswer
	var chans string
	var created, updated int64
	if err := row.Scan(&a.ID, &a.Title, &a.TextIT, &a.TextEN, &a.Comune, &chans, &a.Position, &created, &updated); err != nil {
		return a, err
	}
	a.Channels = splitList(chans)
	a.CreatedAt, a.UpdatedAt = FromMicros(created), FromMicros(updated)
	return a, nil
}

// CannedAnswers lists the answers f selects, shared ones first, then by position and title.
func (s *Store) CannedAnswers(ctx context.Context, f CannedFilter) ([]CannedAnswer, error) {
	var args []any
	where := " WHERE 1 = 1"
	if f.Scope.Comuni != nil {
		where += " AND (comune = ''" + strings.Replace(f.Scope.clause("comune", &args), " AND ", " OR ", 1) + ")"
	}
	if f.Comune != "" {
		where += " AND (comune = '' OR comune = ?)"
		args = append(args, f.Comune)
	}
	rows, err := s.query(ctx, `SELECT `+cannedColumns+` FROM canned_answers`+where+
		` ORDER BY CASE WHEN comune = '' THEN 0 ELSE 1 END, comune, position, title, id`, args...)
	all, err := Collect(rows, err, scanCanned)
	if err != nil || f.Channel == "" {
		return all, err
	}
	out := all[:0]
	for _, a := range all {
		if a.Fits(f.Channel) {
			out = append(out, a)
		}
	}
	return out, nil
}

// Fits reports whether the answer may be used on a channel.
func (a CannedAnswer) Fits(channel string) bool {
	if len(a.Channels) == 0 {
		return true
	}
	for _, c := range a.Channels {
		if c == channel {
			return true
		}
	}
	return false
}

// CannedAnswerTx reads one answer inside a transaction (ErrNotFound when missing).
func (s *Store) CannedAnswerTx(ctx context.Context, tx *Tx, id string) (CannedAnswer, error) {
	a, err := scanCanned(tx.QueryRow(ctx, `SELECT `+cannedColumns+` FROM canned_answers WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return a, ErrNotFound
	}
	return a, err
}

// CannedAnswer reads one answer (ErrNotFound when missing).
func (s *Store) CannedAnswer(ctx context.Context, id string) (CannedAnswer, error) {
	a, err := scanCanned(s.queryRow(ctx, `SELECT `+cannedColumns+` FROM canned_answers WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return a, ErrNotFound
	}
	return a, err
}

// InsertCannedTx stores a new answer (an empty ID gets a new one) and returns it as stored.
func (s *Store) InsertCannedTx(ctx context.Context, tx *Tx, a CannedAnswer) (CannedAnswer, error) {
	if a.ID == "" {
		a.ID = NewID()
	}
	now := s.now()
	a.CreatedAt, a.UpdatedAt = now, now
	_, err := tx.Exec(ctx, `INSERT INTO canned_answers (`+cannedColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.ID, a.Title, a.TextIT, a.TextEN, a.Comune, strings.Join(a.Channels, ","), a.Position, Micros(now), Micros(now))
	return a, err
}

// UpdateCannedTx replaces an answer's fields (not its id, position or creation time).
func (s *Store) UpdateCannedTx(ctx context.Context, tx *Tx, a CannedAnswer) (CannedAnswer, error) {
	a.UpdatedAt = s.now()
	res, err := tx.Exec(ctx, `UPDATE canned_answers SET title = ?, text_it = ?, text_en = ?, comune = ?, channels = ?, updated_at = ?
		WHERE id = ?`, a.Title, a.TextIT, a.TextEN, a.Comune, strings.Join(a.Channels, ","), Micros(a.UpdatedAt), a.ID)
	if err != nil {
		return a, err
	}
	if n, err := res.RowsAffected(); err != nil {
		return a, err
	} else if n == 0 {
		return a, ErrNotFound
	}
	return a, nil
}

// DeleteCannedTx removes an answer (ErrNotFound when missing).
func (s *Store) DeleteCannedTx(ctx context.Context, tx *Tx, id string) error {
	res, err := tx.Exec(ctx, `DELETE FROM canned_answers WHERE id = ?`, id)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// SeedOnceTx marks name as seeded and reports whether this call did it (false: it was already,
// by an earlier start or another replica; the caller then seeds nothing).
func (s *Store) SeedOnceTx(ctx context.Context, tx *Tx, name string) (bool, error) {
	res, err := tx.Exec(ctx, `INSERT INTO seeded (name, at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`, name, Micros(s.now()))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
