// Package reportstore holds the SQL of the reports: the contacts of a range of days added up by
// quarter hour and channel (staffing) or by local day and channel (the summary), by comune,
// category and outcome, each contact's first response time, and the contacts one by one for
// the CSV export. The tables are the store's; the indexes that keep a year fast are in
// store/migrations/0013_report_indexes.sql and 0022_report_calls.sql.
package reportstore

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/sportello/sportello/store"
)

// BucketMicros is the width of a time bucket: a quarter of an hour. Every time zone's offset
// from UTC is a whole number of quarter hours, so each bucket falls in one local hour and day
// whatever the zone, and the reports package places it exactly.
const BucketMicros = 15 * 60 * 1_000_000

// Store is the reports' view of a store.
type Store struct{ *store.Store }

// New returns the reports' queries over s.
func New(s *store.Store) *Store { return &Store{s} }

// Filter selects contacts by arrival, [From, To) in Unix microseconds, and comune.
type Filter struct {
	From, To int64
	// Comuni limits the contacts to these comuni; nil means every contact, those without a
	// comune included.
	Comuni []string
	// TargetSeconds is the service level's answer target.
	TargetSeconds int
}

// where selects the filter's contacts. byBucket also states the range on the quarter-hour
// expression, so the time index's range is used; the exact bounds still apply.
func (f Filter) where(alias string, byBucket bool) (string, []any) {
	var b strings.Builder
	args := []any{f.From, f.To}
	b.WriteString(" WHERE " + alias + "received_at >= ? AND " + alias + "received_at < ?")
	if byBucket {
		b.WriteString(" AND received_at / 900000000 >= ? AND received_at / 900000000 <= ?")
		args = append(args, f.From/BucketMicros, f.To/BucketMicros)
	}
	if f.Comuni != nil {
		if len(f.Comuni) == 0 {
			return " WHERE 1 = 0", nil
		}
		b.WriteString(" AND " + alias + "comune IN (?" + strings.Repeat(", ?", len(f.Comuni)-1) + ")")
		for _, c := range f.Comuni {
			args = append(args, c)
		}
	}
	return b.String(), args
}

// Bucket adds up the contacts of one channel that arrived in one quarter hour.
type Bucket struct {
	// Start is the bucket's first microsecond (UTC).
	Start    int64
	Channel  string
	Contacts int64
	// Calls: inbound phone contacts.
	Offered, Answered, Abandoned, AnsweredWithinTarget int64
	// Sums over answered calls whose wait or talk is known.
	WaitSum, WaitCount, TalkSum, TalkCount int64
}

const callCond = "channel = 'phone' AND direction = 'inbound'"
const answeredCond = callCond + " AND call_result = 'answered'"

// Buckets adds up the range's contacts by quarter hour and channel.
func (s *Store) Buckets(ctx context.Context, f Filter) ([]Bucket, error) {
	where, args := f.where("", true)
	q := `SELECT received_at / 900000000, channel, COUNT(*),
		SUM(CASE WHEN ` + callCond + ` THEN 1 ELSE 0 END),
		SUM(CASE WHEN ` + answeredCond + ` THEN 1 ELSE 0 END),
		SUM(CASE WHEN ` + callCond + ` AND call_result = 'abandoned' THEN 1 ELSE 0 END),
		SUM(CASE WHEN ` + answeredCond + ` AND call_wait_seconds <= ? THEN 1 ELSE 0 END),
		SUM(CASE WHEN ` + answeredCond + ` AND call_wait_seconds IS NOT NULL THEN call_wait_seconds ELSE 0 END),
		SUM(CASE WHEN ` + answeredCond + ` AND call_wait_seconds IS NOT NULL THEN 1 ELSE 0 END),
		SUM(CASE WHEN ` + answeredCond + ` AND call_talk_seconds IS NOT NULL THEN call_talk_seconds ELSE 0 END),
		SUM(CASE WHEN ` + answeredCond + ` AND call_talk_seconds IS NOT NULL THEN 1 ELSE 0 END)
		FROM contacts` + where + ` GROUP BY received_at / 900000000, channel`
	args = append([]any{f.TargetSeconds}, args...)
	rows, err := s.Query(ctx, q, args...)
	return store.Collect(rows, err, func(r interface{ Scan(...any) error }) (Bucket, error) {
		var b Bucket
		var n int64
		err := r.Scan(&n, &b.Channel, &b.Contacts, &b.Offered, &b.Answered, &b.Abandoned, &b.AnsweredWithinTarget,
			&b.WaitSum, &b.WaitCount, &b.TalkSum, &b.TalkCount)
		b.Start = n * BucketMicros
		return b, err
	})
}

// DayMicros is a day's length; a local day is a UTC day shifted by the zone's offset.
const DayMicros = 24 * 60 * 60 * 1_000_000

// Span is a stretch of the range over which the time zone's offset from UTC stays the same:
// the contacts received before Until (and after the previous span's Until) are Offset
// microseconds ahead in local time.
type Span struct{ Until, Offset int64 }

// DayBucket adds up the contacts of one channel that arrived on one local day; Start is unused.
type DayBucket struct {
	// Day numbers the local day: the days from 1970-01-01 in the zone.
	Day int64
	Bucket
}

// localDay is the SQL of the local day number of the time t (a column or expression in
// microseconds), with the zone's offsets given as spans.
func localDay(t string, spans []Span) (string, []any) {
	if len(spans) == 1 {
		return "(" + t + " + CAST(? AS BIGINT)) / 86400000000", []any{spans[0].Offset}
	}
	var b strings.Builder
	var args []any
	b.WriteString("(" + t + " + CASE")
	for _, sp := range spans[:len(spans)-1] {
		b.WriteString(" WHEN " + t + " < CAST(? AS BIGINT) THEN CAST(? AS BIGINT)")
		args = append(args, sp.Until, sp.Offset)
	}
	b.WriteString(" ELSE CAST(? AS BIGINT) END) / 86400000000")
	return b.String(), append(args, spans[len(spans)-1].Offset)
}

// byDay groups the rows of contacts selected by cond by local day and by the columns keys,
// adding up sums (aggregates of contacts' columns that add up across groups: COUNT, SUM) whose
// placeholders take sumArgs.
// On SQLite the contacts are first added up by quarter hour, in the order of an index that
// starts with it (migration 0013's contacts_report_time, 0022's contacts_report_calls), so
// only the quarter hours are sorted by day rather than every contact; a quarter hour falls
// in one local day whatever the zone (see BucketMicros). PostgreSQL hashes the days at once:
// there the detour through seventy thousand quarter hours cost more than it saved.
func (s *Store) byDay(f Filter, spans []Span, cond, keys string, sums []string, sumArgs ...any) (string, []any) {
	where, wargs := f.where("", true)
	where += cond
	if !s.quarterFirst(f) {
		day, args := localDay("received_at", spans)
		return `SELECT ` + day + `, ` + keys + `, ` + strings.Join(sums, ", ") +
			` FROM contacts` + where + ` GROUP BY 1, ` + keys, append(append(args, sumArgs...), wargs...)
	}
	day, args := localDay("q * 900000000", spans)
	outer := make([]string, len(sums))
	for i := range sums {
		outer[i] = fmt.Sprintf("SUM(s%d)", i)
		sums[i] = fmt.Sprintf("%s AS s%d", sums[i], i)
	}
	return `SELECT ` + day + `, ` + keys + `, ` + strings.Join(outer, ", ") + ` FROM (SELECT received_at / 900000000 AS q, ` +
		keys + `, ` + strings.Join(sums, ", ") + ` FROM contacts` + where + ` GROUP BY received_at / 900000000, ` + keys +
		`) AS quarters GROUP BY 1, ` + keys, append(append(args, sumArgs...), wargs...)
}

// quarterFirst says whether byDay adds up by quarter hour first: on SQLite, unless the filter
// names comuni. The comune is not in the indexes' order, so a read for some comuni walks all
// the range's entries anyway; one read that sorts only the matching contacts by day is then
// cheaper than two that walk them all (see BENCHMARKS.md, issue 11 third pass).
func (s *Store) quarterFirst(f Filter) bool { return s.Dialect() == store.SQLite && f.Comuni == nil }

// Days adds up the range's contacts by local day and channel, with the zone's offsets given as
// spans (ordered, the last one covering the rest of the range): a year comes back as a few
// thousand rows rather than the seventy thousand quarter hours of Buckets, and the calls'
// figures are plain sums by result (nothing compares strings row by row). On SQLite for every
// comune, two reads side by side, each through its own index: every contact counted by
// channel, and the inbound calls; otherwise one pass (on PostgreSQL two cost twice the time,
// measured).
func (s *Store) Days(ctx context.Context, f Filter, spans []Span) ([]DayBucket, error) {
	if len(spans) == 0 {
		return nil, nil
	}
	t := dayTotals{index: map[dayKey]int{}}
	callSums := []string{"COUNT(*)", "COUNT(*) FILTER (WHERE call_wait_seconds <= CAST(? AS INTEGER))",
		"SUM(call_wait_seconds)", "COUNT(call_wait_seconds)", "SUM(call_talk_seconds)", "COUNT(call_talk_seconds)"}
	if !s.quarterFirst(f) {
		q, args := s.byDay(f, spans, "", "channel, direction, call_result", callSums, f.TargetSeconds)
		err := s.each(ctx, q, args, func(rows *sql.Rows) error {
			var c dayCalls
			var channel, direction string
			if err := c.scan(rows, &channel, &direction); err != nil {
				return err
			}
			b := t.at(c.day, channel)
			b.Contacts += c.n
			if channel == "phone" && direction == "inbound" {
				c.addTo(b)
			}
			return nil
		})
		return t.sorted(), err
	}
	// Side by side on the read pool; each gathers its own totals, added up after.
	counts, callTotals := dayTotals{index: map[dayKey]int{}}, dayTotals{index: map[dayKey]int{}}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		q, args := s.byDay(f, spans, "", "channel", []string{"COUNT(*)"})
		return s.each(gctx, q, args, func(rows *sql.Rows) error {
			var day, n int64
			var channel string
			if err := rows.Scan(&day, &channel, &n); err != nil {
				return err
			}
			counts.at(day, channel).Contacts += n
			return nil
		})
	})
	g.Go(func() error {
		// The same calls as Buckets' callCond.
		q, args := s.byDay(f, spans, " AND channel = 'phone' AND direction = 'inbound'", "call_result", callSums, f.TargetSeconds)
		return s.each(gctx, q, args, func(rows *sql.Rows) error {
			var c dayCalls
			if err := c.scan(rows); err != nil {
				return err
			}
			c.addTo(callTotals.at(c.day, "phone"))
			return nil
		})
	})
	err := g.Wait()
	t = counts
	for _, b := range callTotals.out {
		d := t.at(b.Day, b.Channel)
		d.Offered += b.Offered
		d.Answered += b.Answered
		d.Abandoned += b.Abandoned
		d.AnsweredWithinTarget += b.AnsweredWithinTarget
		d.WaitSum += b.WaitSum
		d.WaitCount += b.WaitCount
		d.TalkSum += b.TalkSum
		d.TalkCount += b.TalkCount
	}
	return t.sorted(), err
}

type dayKey struct {
	day     int64
	channel string
}

// dayTotals gathers DayBuckets in any order.
type dayTotals struct {
	index map[dayKey]int
	out   []DayBucket
}

func (t *dayTotals) at(day int64, channel string) *DayBucket {
	k := dayKey{day, channel}
	i, ok := t.index[k]
	if !ok {
		i = len(t.out)
		t.index[k] = i
		t.out = append(t.out, DayBucket{Day: day, Bucket: Bucket{Channel: channel}})
	}
	return &t.out[i]
}

func (t *dayTotals) sorted() []DayBucket {
	slices.SortFunc(t.out, func(a, b DayBucket) int {
		if c := cmp.Compare(a.Day, b.Day); c != 0 {
			return c
		}
		return strings.Compare(a.Channel, b.Channel)
	})
	return t.out
}

// dayCalls is a row of Days' calls: the day, the keys before the result, the result and the
// sums.
type dayCalls struct {
	day, n, within, waitCount, talkCount int64
	result                               sql.NullString
	waitSum, talkSum                     sql.NullInt64
}

func (c *dayCalls) scan(rows *sql.Rows, keys ...any) error {
	dest := append(append([]any{&c.day}, keys...), &c.result, &c.n, &c.within, &c.waitSum, &c.waitCount, &c.talkSum, &c.talkCount)
	return rows.Scan(dest...)
}

// addTo adds inbound calls to b, as Buckets' conditions (callCond, answeredCond) count them.
func (c *dayCalls) addTo(b *DayBucket) {
	b.Offered += c.n
	switch c.result.String {
	case "abandoned":
		b.Abandoned += c.n
	case "answered":
		b.Answered += c.n
		b.AnsweredWithinTarget += c.within
		b.WaitSum += c.waitSum.Int64
		b.WaitCount += c.waitCount
		b.TalkSum += c.talkSum.Int64
		b.TalkCount += c.talkCount
	}
}

// each calls fn with every row of q.
func (s *Store) each(ctx context.Context, q string, args []any, fn func(*sql.Rows) error) error {
	rows, err := s.Query(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Mix counts the range's contacts by channel, comune, category, status and outcome; empty
// strings stand for NULL.
type Mix struct {
	Channel, Comune, Category, Status, Outcome string
	Contacts                                   int64
}

// Mixes adds up the range's contacts by channel, comune, category, status and outcome.
func (s *Store) Mixes(ctx context.Context, f Filter) ([]Mix, error) {
	where, args := f.where("", false)
	if s.Dialect() == store.SQLite {
		// +received_at keeps the range off the indexes, so SQLite reads the mix index in its
		// order (no sort) rather than sort a year found by arrival. Not on PostgreSQL: there
		// the unary plus hid the range from its estimate (625 rows for a year), and it sorted
		// the year on disk instead of hashing 29 groups: 2.2 s against 0.78 s, measured.
		where = strings.ReplaceAll(where, "received_at", "+received_at")
	}
	rows, err := s.Query(ctx, `SELECT channel, COALESCE(comune, ''), COALESCE(category, ''), status, COALESCE(outcome, ''), COUNT(*)
		FROM contacts`+where+` GROUP BY channel, comune, category, status, outcome`, args...)
	return store.Collect(rows, err, func(r interface{ Scan(...any) error }) (Mix, error) {
		var m Mix
		err := r.Scan(&m.Channel, &m.Comune, &m.Category, &m.Status, &m.Outcome, &m.Contacts)
		return m, err
	})
}

// FirstResponses returns, for every non-phone contact of the range that was answered, the
// microseconds from its arrival to its first outbound message.
func (s *Store) FirstResponses(ctx context.Context, f Filter) ([]int64, error) {
	where, args := f.where("", false)
	rows, err := s.Query(ctx, `SELECT first_response_at - received_at FROM contacts`+where+
		` AND channel <> 'phone' AND first_response_at IS NOT NULL`, args...)
	return store.Collect(rows, err, func(r interface{ Scan(...any) error }) (int64, error) {
		var d int64
		err := r.Scan(&d)
		return d, err
	})
}

// Row is one contact of the CSV export; times in Unix microseconds.
type Row struct {
	ID                                       string
	ReceivedAt                               int64
	Channel, Status                          string
	Comune, Category, Queue, Outcome, Office sql.NullString
	WaitSeconds, TalkSeconds, FirstOutbound  sql.NullInt64
	ResolvedAt                               sql.NullInt64
	Direction                                string
}

// EachRow calls fn with every contact of the range, oldest first, streaming: a year is read
// without holding it in memory. An error from fn stops the walk and is returned.
func (s *Store) EachRow(ctx context.Context, f Filter, fn func(Row) error) error {
	where, args := f.where("c.", false)
	rows, err := s.Query(ctx, `SELECT c.id, c.received_at, c.channel, c.direction, c.status, c.comune, c.category, c.queue,
		c.outcome, c.office, c.call_wait_seconds, c.call_talk_seconds, c.resolved_at,
		CASE WHEN c.channel = 'phone' THEN NULL ELSE c.first_response_at END
		FROM contacts c`+where+` ORDER BY c.received_at, c.id`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var r Row
		if err := rows.Scan(&r.ID, &r.ReceivedAt, &r.Channel, &r.Direction, &r.Status, &r.Comune, &r.Category, &r.Queue,
			&r.Outcome, &r.Office, &r.WaitSeconds, &r.TalkSeconds, &r.ResolvedAt, &r.FirstOutbound); err != nil {
			return err
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return rows.Err()
}
