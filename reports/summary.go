package reports

import (
	"context"
	"math"
	"slices"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/reportstore"
)

// NoComune is the by_comune key of contacts whose comune is not known (and the uncategorized
// contacts' by_category key).
const NoComune = "none"

// Summary is GET /api/v1/reports/summary.
type Summary struct {
	From          string           `json:"from"`
	To            string           `json:"to"`
	Comune        *string          `json:"comune"`
	Contacts      Contacts         `json:"contacts"`
	Outcomes      map[string]int64 `json:"outcomes"`
	Calls         Calls            `json:"calls"`
	FirstResponse FirstResponse    `json:"first_response_seconds"`
	ByDay         []DayFigures     `json:"by_day"`
}

// Contacts counts the contacts received in the range.
type Contacts struct {
	Total      int64            `json:"total"`
	ByChannel  map[string]int64 `json:"by_channel"`
	ByComune   map[string]int64 `json:"by_comune"`
	ByCategory map[string]int64 `json:"by_category"`
}

// Calls are the inbound phone contacts. Averages are over answered calls whose wait (talk) is
// known, rounded to hundredths of a second; ServiceLevel is AnsweredWithinTarget / Offered,
// rounded to four places.
type Calls struct {
	Offered              int64   `json:"offered"`
	Answered             int64   `json:"answered"`
	Abandoned            int64   `json:"abandoned"`
	AvgWaitSeconds       float64 `json:"avg_wait_seconds"`
	AvgTalkSeconds       float64 `json:"avg_talk_seconds"`
	AnsweredWithinTarget int64   `json:"answered_within_target"`
	TargetSeconds        int     `json:"target_seconds"`
	ServiceLevel         float64 `json:"service_level"`

	waitSum, waitCount, talkSum, talkCount int64
}

// FirstResponse: the nearest-rank median and 90th percentile, in whole seconds, of the time from
// arrival to the first outbound message an operator wrote (automatic answers do not count) of the non-phone contacts that have one; null when none.
type FirstResponse struct {
	Median *int64 `json:"median"`
	P90    *int64 `json:"p90"`
}

// DayFigures are one local day's counts.
type DayFigures struct {
	Date                 string           `json:"date"`
	Contacts             int64            `json:"contacts"`
	ByChannel            map[string]int64 `json:"by_channel"`
	CallsOffered         int64            `json:"calls_offered"`
	CallsAnswered        int64            `json:"calls_answered"`
	CallsAbandoned       int64            `json:"calls_abandoned"`
	AnsweredWithinTarget int64            `json:"answered_within_target"`
	ServiceLevel         float64          `json:"service_level"`
	// Closed: the desk (the comune's asked for, else the centre's) did not open that day, by
	// the calendar in force (a weekday it does not open, or a holiday admins set).
	Closed bool `json:"closed"`
}

// Outcome keys; "unresolved" counts contacts not resolved yet, "other" (present only when not
// zero) resolved contacts without one of the three outcomes.
const (
	OutcomeUnresolved = "unresolved"
	OutcomeOther      = "other"
)

// Channels every summary lists, in display order.
var Channels = []string{string(channels.Phone), string(channels.SMS), string(channels.Email), string(channels.Fax)}

// Outcomes every summary lists, in display order.
var Outcomes = []string{channels.OutcomeFirstLevel, channels.OutcomeTransferredPhone, channels.OutcomeForwardedEmail, OutcomeUnresolved}

func (c *Calls) add(b reportstore.Bucket) {
	c.Offered += b.Offered
	c.Answered += b.Answered
	c.Abandoned += b.Abandoned
	c.AnsweredWithinTarget += b.AnsweredWithinTarget
	c.waitSum += b.WaitSum
	c.waitCount += b.WaitCount
	c.talkSum += b.TalkSum
	c.talkCount += b.TalkCount
}

func (c *Calls) finish(target int) {
	c.TargetSeconds = target
	c.AvgWaitSeconds = ratio(c.waitSum, c.waitCount, 2)
	c.AvgTalkSeconds = ratio(c.talkSum, c.talkCount, 2)
	c.ServiceLevel = ratio(c.AnsweredWithinTarget, c.Offered, 4)
	c.waitSum, c.waitCount, c.talkSum, c.talkCount = 0, 0, 0, 0
}

// ratio is a/b rounded to places decimals, 0 when b is 0.
func ratio(a, b int64, places int) float64 {
	if b == 0 {
		return 0
	}
	return Round(float64(a)/float64(b), places)
}

// Round rounds x half away from zero to places decimals.
func Round(x float64, places int) float64 {
	p := math.Pow10(places)
	return math.Round(x*p) / p
}

// Summary computes the figures of q.
func (s *Service) Summary(ctx context.Context, q Query) (Summary, error) {
	f := s.filter(q)
	out := Summary{From: q.From.String(), To: q.To.String(), Outcomes: map[string]int64{},
		Contacts: Contacts{ByChannel: zeroes(Channels), ByComune: map[string]int64{}, ByCategory: map[string]int64{}}}
	if q.Comune != "" {
		out.Comune = &q.Comune
	}
	for _, o := range Outcomes {
		out.Outcomes[o] = 0
	}
	for _, c := range s.cfg.Comuni {
		if f.Comuni == nil || slices.Contains(f.Comuni, c.ID) {
			out.Contacts.ByComune[c.ID] = 0
		}
	}
	if f.Comuni == nil {
		out.Contacts.ByComune[NoComune] = 0
	}
	for _, c := range s.cfg.Categories {
		out.Contacts.ByCategory[c.ID] = 0
	}
	out.Contacts.ByCategory[NoComune] = 0

	// The three scans are independent: run them side by side on the read pool.
	var mixes []reportstore.Mix
	var buckets []reportstore.DayBucket
	var firsts []int64
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) { mixes, err = s.store.Mixes(gctx, f); return err })
	g.Go(func() (err error) { buckets, err = s.store.Days(gctx, f, s.spans(f)); return err })
	g.Go(func() (err error) { firsts, err = s.store.FirstResponses(gctx, f); return err })
	if err := g.Wait(); err != nil {
		return out, err
	}
	for _, m := range mixes {
		out.Contacts.Total += m.Contacts
		out.Contacts.ByChannel[m.Channel] += m.Contacts
		out.Contacts.ByComune[orNone(m.Comune)] += m.Contacts
		out.Contacts.ByCategory[orNone(m.Category)] += m.Contacts
		switch {
		case m.Status != string(channels.StatusResolved):
			out.Outcomes[OutcomeUnresolved] += m.Contacts
		case channels.ValidOutcome(m.Outcome):
			out.Outcomes[m.Outcome] += m.Contacts
		default:
			out.Outcomes[OutcomeOther] += m.Contacts
		}
	}

	days := q.days()
	out.ByDay = make([]DayFigures, len(days))
	for i, d := range days {
		out.ByDay[i] = DayFigures{Date: d.String(), ByChannel: zeroes(Channels)}
		if s.calendar != nil {
			out.ByDay[i].Closed = s.calendar.Closed(q.Comune, d.Year, d.Month, d.Day)
		}
	}
	first := q.From.number()
	for _, b := range buckets {
		out.Calls.add(b.Bucket)
		i := b.Day - first
		if i < 0 || i >= int64(len(days)) {
			continue // cannot happen: the filter is the days' bounds
		}
		d := &out.ByDay[i]
		d.Contacts += b.Contacts
		d.ByChannel[b.Channel] += b.Contacts
		d.CallsOffered += b.Offered
		d.CallsAnswered += b.Answered
		d.CallsAbandoned += b.Abandoned
		d.AnsweredWithinTarget += b.AnsweredWithinTarget
	}
	for i := range out.ByDay {
		d := &out.ByDay[i]
		d.ServiceLevel = ratio(d.AnsweredWithinTarget, d.CallsOffered, 4)
	}
	out.Calls.finish(f.TargetSeconds)

	out.FirstResponse = firstResponse(firsts)
	return out, nil
}

// spans cuts f's range where the zone's offset from UTC changes (twice a year in Rome), so the
// store can tell each contact's local day.
func (s *Service) spans(f reportstore.Filter) []reportstore.Span {
	var out []reportstore.Span
	for at := f.From; at < f.To; {
		t := time.UnixMicro(at).In(s.cfg.Location)
		_, offset := t.Zone()
		until := f.To
		if _, end := t.ZoneBounds(); !end.IsZero() && store.Micros(end) < until {
			until = store.Micros(end)
		}
		sp := reportstore.Span{Until: until, Offset: int64(offset) * 1_000_000}
		if n := len(out); n > 0 && out[n-1].Offset == sp.Offset {
			out[n-1].Until = until
		} else {
			out = append(out, sp)
		}
		at = until
	}
	return out
}

func firstResponse(micros []int64) FirstResponse {
	if len(micros) == 0 {
		return FirstResponse{}
	}
	slices.Sort(micros)
	rank := func(p float64) *int64 {
		i := int(math.Ceil(p*float64(len(micros)))) - 1
		v := int64(math.Round(float64(max(micros[max(i, 0)], 0)) / 1e6))
		return &v
	}
	return FirstResponse{Median: rank(0.5), P90: rank(0.9)}
}

func zeroes(keys []string) map[string]int64 {
	m := make(map[string]int64, len(keys))
	for _, k := range keys {
		m[k] = 0
	}
	return m
}

func orNone(s string) string {
	if s == "" {
		return NoComune
	}
	return s
}
