package reports

import (
	"context"
	"fmt"
	"time"
)

// Staffing is GET /api/v1/reports/staffing: Erlang C per weekday and hour of the measured calls.
type Staffing struct {
	From          string        `json:"from"`
	To            string        `json:"to"`
	Comune        *string       `json:"comune"`
	TargetSeconds int           `json:"target_seconds"`
	TargetLevel   float64       `json:"target_level"`
	WrapUpSeconds int           `json:"wrap_up_seconds"`
	Hours         []StaffedHour `json:"hours"`
	PeakAgents    int           `json:"peak_agents"`
}

// StaffedHour is one weekday-hour with calls. CallsPerHour is the calls offered in that
// weekday-hour over the range divided by the range's days of that weekday; AHTSeconds is the
// average talk of the answered calls of that weekday-hour (of the whole range when none there
// has a known talk time) plus the wrap-up; Agents is the smallest number above Erlangs whose
// Erlang C service level reaches the target level, and ServiceLevel is what it gives.
// Rounded: calls per hour, handle time and erlangs to four places, service level to four.
type StaffedHour struct {
	Weekday      string  `json:"weekday"`
	Hour         int     `json:"hour"`
	Calls        int64   `json:"calls"`
	CallsPerHour float64 `json:"calls_per_hour"`
	AHTSeconds   float64 `json:"aht_seconds"`
	Erlangs      float64 `json:"erlangs"`
	Agents       int     `json:"agents"`
	ServiceLevel float64 `json:"service_level"`
}

// WeekdayNames are the weekday keys, Monday first.
var WeekdayNames = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

// weekdayIndex puts Monday first.
func weekdayIndex(w time.Weekday) int { return (int(w) + 6) % 7 }

// StaffingTarget is the service level a staffing answer aims at.
type StaffingTarget struct {
	Seconds int
	Level   float64
}

// ParseTarget reads target_seconds and target_level ("" = the configured ones).
func (s *Service) ParseTarget(seconds, level string) (StaffingTarget, error) {
	t := StaffingTarget{Seconds: s.cfg.Reports.TargetSeconds, Level: s.cfg.Reports.TargetLevel}
	if seconds != "" {
		if _, err := fmt.Sscanf(seconds, "%d", &t.Seconds); err != nil || t.Seconds < 1 || t.Seconds > 3600 || fmt.Sprint(t.Seconds) != seconds {
			return t, &RangeError{Reason: "target_seconds must be a whole number of seconds from 1 to 3600"}
		}
	}
	if level != "" {
		if _, err := fmt.Sscanf(level, "%g", &t.Level); err != nil || !(t.Level > 0 && t.Level < 1) {
			return t, &RangeError{Reason: "target_level must be a share above 0 and below 1, such as 0.8"}
		}
	}
	return t, nil
}

// Plan sizes one weekday-hour: the what-if form's answer for calls per hour and handle time.
func Plan(callsPerHour, ahtSeconds float64, t StaffingTarget) (erlangs float64, agents int, level float64) {
	erlangs = callsPerHour * ahtSeconds / 3600
	agents = Agents(callsPerHour, ahtSeconds, float64(t.Seconds), t.Level)
	if agents == 0 && callsPerHour > 0 {
		agents = 1 // calls with no measured handle time still need someone to answer them
	}
	level = 1
	if agents > 0 {
		level = ServiceLevel(agents, erlangs, ahtSeconds, float64(t.Seconds))
	}
	return erlangs, agents, level
}

// Staffing computes the staffing answer of q for target t.
func (s *Service) Staffing(ctx context.Context, q Query, t StaffingTarget) (Staffing, error) {
	q.TargetSeconds = t.Seconds
	f := s.filter(q)
	out := Staffing{From: q.From.String(), To: q.To.String(), TargetSeconds: t.Seconds, TargetLevel: t.Level,
		WrapUpSeconds: s.cfg.Reports.WrapUpSeconds, Hours: []StaffedHour{}}
	if q.Comune != "" {
		out.Comune = &q.Comune
	}
	buckets, err := s.store.Buckets(ctx, f)
	if err != nil {
		return out, err
	}
	type slot struct{ offered, talkSum, talkCount int64 }
	var slots [7][24]slot
	var talkSum, talkCount int64
	for _, b := range buckets {
		if b.Offered == 0 && b.TalkCount == 0 {
			continue
		}
		t := time.UnixMicro(b.Start).In(s.cfg.Location)
		sl := &slots[weekdayIndex(t.Weekday())][t.Hour()]
		sl.offered += b.Offered
		sl.talkSum += b.TalkSum
		sl.talkCount += b.TalkCount
		talkSum += b.TalkSum
		talkCount += b.TalkCount
	}
	var daysOf [7]int
	for _, d := range q.days() {
		daysOf[weekdayIndex(d.Weekday())]++
	}
	wrap := float64(s.cfg.Reports.WrapUpSeconds)
	for w := range 7 {
		for h := range 24 {
			sl := slots[w][h]
			if sl.offered == 0 {
				continue
			}
			talk := 0.0
			switch {
			case sl.talkCount > 0:
				talk = float64(sl.talkSum) / float64(sl.talkCount)
			case talkCount > 0:
				talk = float64(talkSum) / float64(talkCount)
			}
			perHour := float64(sl.offered) / float64(daysOf[w])
			aht := talk + wrap
			erl, agents, level := Plan(perHour, aht, t)
			out.Hours = append(out.Hours, StaffedHour{Weekday: WeekdayNames[w], Hour: h, Calls: sl.offered,
				CallsPerHour: Round(perHour, 4), AHTSeconds: Round(aht, 4), Erlangs: Round(erl, 4), Agents: agents,
				ServiceLevel: Round(level, 4)})
			out.PeakAgents = max(out.PeakAgents, agents)
		}
	}
	return out, nil
}
