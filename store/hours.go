package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"
)

// ComuneHours is one comune's edited calendar: its opening days and hours and its holidays.
type ComuneHours struct {
	Comune string
	// Days are mon..sun; Open and Close are HH:MM.
	Days        []string
	Open, Close string
	Holidays    []Holiday
	UpdatedAt   time.Time
}

// Holiday is a day a comune's desk is closed: Rule is MM-DD (every year), YYYY-MM-DD (that day
// only) or easter+N (N days after Easter Sunday). The store keeps rules as given; the router
// reads them.
type Holiday struct {
	Rule string `json:"rule"`
	Name string `json:"name"`
}

// AllComuneHours reads every stored calendar, by comune.
func (s *Store) AllComuneHours(ctx context.Context) (map[string]ComuneHours, error) {
	rs, err := s.query(ctx, `SELECT comune, days, open_at, close_at, updated_at FROM comune_hours`)
	rows, err := Collect(rs, err, scanHours)
	if err != nil {
		return nil, err
	}
	out := make(map[string]ComuneHours, len(rows))
	for _, h := range rows {
		out[h.Comune] = h
	}
	type hol struct {
		comune string
		h      Holiday
	}
	rs, err = s.query(ctx, `SELECT comune, rule, name FROM comune_holidays ORDER BY comune, rule`)
	hols, err := Collect(rs, err,
		func(r rowScanner) (hol, error) {
			var x hol
			err := r.Scan(&x.comune, &x.h.Rule, &x.h.Name)
			return x, err
		})
	if err != nil {
		return nil, err
	}
	for _, x := range hols {
		if h, ok := out[x.comune]; ok {
			h.Holidays = append(h.Holidays, x.h)
			out[x.comune] = h
		}
	}
	return out, nil
}

func scanHours(r rowScanner) (ComuneHours, error) {
	var h ComuneHours
	var days string
	var updated int64
	if err := r.Scan(&h.Comune, &days, &h.Open, &h.Close, &updated); err != nil {
		return h, err
	}
	h.Days = splitList(days)
	h.UpdatedAt = FromMicros(updated)
	return h, nil
}

// ComuneHoursTx reads one comune's calendar inside a transaction (ErrNotFound: never stored).
func (s *Store) ComuneHoursTx(ctx context.Context, tx *Tx, comune string) (ComuneHours, error) {
	h, err := scanHours(tx.QueryRow(ctx, `SELECT comune, days, open_at, close_at, updated_at FROM comune_hours WHERE comune = ?`, comune))
	if errors.Is(err, sql.ErrNoRows) {
		return h, ErrNotFound
	}
	if err != nil {
		return h, err
	}
	rs, err := tx.Query(ctx, `SELECT rule, name FROM comune_holidays WHERE comune = ? ORDER BY rule`, comune)
	h.Holidays, err = Collect(rs, err,
		func(r rowScanner) (Holiday, error) {
			var x Holiday
			err := r.Scan(&x.Rule, &x.Name)
			return x, err
		})
	return h, err
}

// PutComuneHoursTx replaces a comune's calendar, holidays included.
func (s *Store) PutComuneHoursTx(ctx context.Context, tx *Tx, h ComuneHours) (ComuneHours, error) {
	h.UpdatedAt = s.now()
	if _, err := tx.Exec(ctx, `INSERT INTO comune_hours (comune, days, open_at, close_at, updated_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (comune) DO UPDATE SET days = excluded.days, open_at = excluded.open_at, close_at = excluded.close_at,
		updated_at = excluded.updated_at`, h.Comune, strings.Join(h.Days, ","), h.Open, h.Close, Micros(h.UpdatedAt)); err != nil {
		return h, err
	}
	if _, err := tx.Exec(ctx, `DELETE FROM comune_holidays WHERE comune = ?`, h.Comune); err != nil {
		return h, err
	}
	for _, d := range h.Holidays {
		if _, err := tx.Exec(ctx, `INSERT INTO comune_holidays (comune, rule, name) VALUES (?, ?, ?)
			ON CONFLICT (comune, rule) DO UPDATE SET name = excluded.name`, h.Comune, d.Rule, d.Name); err != nil {
			return h, err
		}
	}
	return h, nil
}

// SeedComuneHoursTx stores h unless the comune already has a calendar, and reports whether it did.
func (s *Store) SeedComuneHoursTx(ctx context.Context, tx *Tx, h ComuneHours) (bool, error) {
	res, err := tx.Exec(ctx, `INSERT INTO comune_hours (comune, days, open_at, close_at, updated_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (comune) DO NOTHING`, h.Comune, strings.Join(h.Days, ","), h.Open, h.Close, Micros(s.now()))
	if err != nil {
		return false, err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return false, err
	}
	for _, d := range h.Holidays {
		if _, err := tx.Exec(ctx, `INSERT INTO comune_holidays (comune, rule, name) VALUES (?, ?, ?)
			ON CONFLICT (comune, rule) DO NOTHING`, h.Comune, d.Rule, d.Name); err != nil {
			return false, err
		}
	}
	return true, nil
}
