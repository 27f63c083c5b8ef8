package reports_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/reports"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

var rome = func() *time.Location { l, _ := time.LoadLocation("Europe/Rome"); return l }()

func local(y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, rome)
}

// March 2026 in Rome: summer time starts on Sunday the 29th at 02:00.
var march = []fixture{
	{id: "c1", channel: "phone", comune: "firenze", category: "blocco-traffico", status: "resolved", outcome: "first_level", received: local(2026, 3, 2, 9, 0), result: "answered", wait: 10, talk: 100},
	{id: "c2", channel: "phone", comune: "firenze", category: "contravvenzioni", status: "resolved", outcome: "transferred_phone", received: local(2026, 3, 2, 9, 10), result: "answered", wait: 30, talk: 200},
	{id: "c3", channel: "phone", comune: "sesto-fiorentino", status: "open", received: local(2026, 3, 2, 9, 20), result: "abandoned", wait: 45, talk: -1},
	{id: "c4", channel: "sms", comune: "firenze", category: "blocco-traffico", status: "resolved", outcome: "forwarded_email", received: local(2026, 3, 29, 0, 30), wait: -1, talk: -1, firstReply: 90 * time.Second},
	{id: "c5", channel: "email", status: "open", received: local(2026, 3, 31, 23, 30), wait: -1, talk: -1, firstReply: 30 * time.Second},
	{id: "c6", channel: "fax", comune: "empoli", category: "servizi-generici", status: "resolved", outcome: "first_level", received: local(2026, 3, 15, 12, 0), wait: -1, talk: -1, firstReply: 10 * time.Minute},
	{id: "c7", channel: "sms", comune: "firenze", status: "open", received: local(2026, 4, 1, 0, 30), wait: -1, talk: -1},
	{id: "c8", channel: "phone", comune: "firenze", status: "open", received: local(2026, 2, 28, 23, 59), result: "answered", wait: 5, talk: 5},
	{id: "c9", channel: "phone", comune: "empoli", status: "assigned", received: local(2026, 3, 30, 10, 0), result: "answered", wait: 20, talk: -1},
}

func TestSummaryCountsEveryFigure(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		insertFixtures(t, st, march)
		svc := newService(t, st, local(2026, 3, 15, 12, 0))
		q := must[reports.Query](t)(svc.NewQuery("", "", "", nil))
		if q.From.String() != "2026-03-01" || q.To.String() != "2026-03-31" {
			t.Fatalf("default range %s..%s, want the current month", q.From, q.To)
		}
		s := must[reports.Summary](t)(svc.Summary(ctx, q))
		c := s.Contacts
		if c.Total != 7 {
			t.Errorf("total %d, want 7", c.Total)
		}
		eq(t, "by_channel", c.ByChannel, map[string]int64{"phone": 4, "sms": 1, "email": 1, "fax": 1})
		eq(t, "by_comune", c.ByComune, map[string]int64{"firenze": 3, "sesto-fiorentino": 1, "bagno-a-ripoli": 0, "empoli": 2, "none": 1})
		eq(t, "by_category", c.ByCategory, map[string]int64{"blocco-traffico": 2, "contravvenzioni": 1, "servizi-generici": 1,
			"permessi-ztl": 0, "incentivi-veicoli": 0, "reclami-suggerimenti": 0, "altro": 0, "none": 3})
		eq(t, "outcomes", s.Outcomes, map[string]int64{"first_level": 2, "transferred_phone": 1, "forwarded_email": 1, "unresolved": 3})
		eq(t, "calls", s.Calls, reports.Calls{Offered: 4, Answered: 3, Abandoned: 1, AvgWaitSeconds: 20, AvgTalkSeconds: 150,
			AnsweredWithinTarget: 2, TargetSeconds: 20, ServiceLevel: 0.5})
		if s.FirstResponse.Median == nil || *s.FirstResponse.Median != 90 || *s.FirstResponse.P90 != 600 {
			t.Errorf("first response %+v, want median 90 p90 600", s.FirstResponse)
		}
		if len(s.ByDay) != 31 || s.ByDay[0].Date != "2026-03-01" || s.ByDay[30].Date != "2026-03-31" {
			t.Fatalf("by_day has %d days", len(s.ByDay))
		}
		day := func(n int) reports.DayFigures { return s.ByDay[n-1] }
		eq(t, "2 March", day(2), reports.DayFigures{Date: "2026-03-02", Contacts: 3, ByChannel: map[string]int64{"phone": 3, "sms": 0, "email": 0, "fax": 0},
			CallsOffered: 3, CallsAnswered: 2, CallsAbandoned: 1, AnsweredWithinTarget: 1, ServiceLevel: 0.3333})
		// 00:30 on the day summer time starts, and 23:30 of the 31st (21:30 UTC) count locally.
		if day(29).Contacts != 1 || day(31).Contacts != 1 || day(30).ServiceLevel != 1 || day(15).ByChannel["fax"] != 1 || day(28).Contacts != 0 {
			t.Errorf("days: 28 %+v 29 %+v 30 %+v 31 %+v", day(28), day(29), day(30), day(31))
		}

		// A user scoped to Firenze sees Firenze only; asking for Empoli is out of scope.
		q = must[reports.Query](t)(svc.NewQuery("2026-03-01", "2026-03-31", "", []string{"firenze"}))
		s = must[reports.Summary](t)(svc.Summary(ctx, q))
		eq(t, "scoped by_comune", s.Contacts.ByComune, map[string]int64{"firenze": 3})
		if s.Contacts.Total != 3 || s.Calls.Offered != 2 {
			t.Errorf("scoped: %+v %+v", s.Contacts, s.Calls)
		}
		if _, err := svc.NewQuery("", "", "empoli", []string{"firenze"}); !errors.Is(err, reports.ErrOutOfScope) {
			t.Errorf("another comune: %v", err)
		}
		if _, err := svc.NewQuery("", "", "atlantide", nil); !errors.Is(err, reports.ErrOutOfScope) {
			t.Errorf("unknown comune: %v", err)
		}
		q = must[reports.Query](t)(svc.NewQuery("2026-03-01", "2026-03-31", "empoli", nil))
		s = must[reports.Summary](t)(svc.Summary(ctx, q))
		if s.Contacts.Total != 2 || s.Comune == nil || *s.Comune != "empoli" || len(s.Contacts.ByComune) != 1 {
			t.Errorf("empoli: %+v", s.Contacts)
		}
		// One day: 2 March alone.
		q = must[reports.Query](t)(svc.NewQuery("2026-03-02", "2026-03-02", "", nil))
		s = must[reports.Summary](t)(svc.Summary(ctx, q))
		if s.Contacts.Total != 3 || len(s.ByDay) != 1 || s.FirstResponse.Median != nil {
			t.Errorf("2 March: %+v %+v", s.Contacts, s.FirstResponse)
		}
	})
}

func TestCSVRowsInArrivalOrder(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		insertFixtures(t, st, march)
		svc := newService(t, st, local(2026, 3, 15, 12, 0))
		q := must[reports.Query](t)(svc.NewQuery("2026-03-01", "2026-03-31", "", nil))
		var buf bytes.Buffer
		if err := svc.WriteCSV(context.Background(), q, &buf); err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(&buf).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(rows[0], ",") != "id,received_at,channel,comune,category,queue,status,outcome,office,wait_seconds,talk_seconds,first_response_seconds,resolved_at" {
			t.Fatalf("header %v", rows[0])
		}
		var ids []string
		for _, r := range rows[1:] {
			ids = append(ids, r[0])
		}
		eq(t, "order", ids, []string{"c1", "c2", "c3", "c6", "c4", "c9", "c5"})
		eq(t, "c1", strings.Join(rows[1], ","), "c1,2026-03-02T09:00:00+01:00,phone,firenze,blocco-traffico,,resolved,first_level,,10,100,,2026-03-02T10:00:00+01:00")
		eq(t, "c3", strings.Join(rows[3], ","), "c3,2026-03-02T09:20:00+01:00,phone,sesto-fiorentino,,,open,,,45,,,")
		eq(t, "c4", strings.Join(rows[5], ","), "c4,2026-03-29T00:30:00+01:00,sms,firenze,blocco-traffico,,resolved,forwarded_email,,,,90,2026-03-29T01:30:00+01:00")
		eq(t, "c5", strings.Join(rows[7], ","), "c5,2026-03-31T23:30:00+02:00,email,,,,open,,,,,30,")
	})
}

func TestStaffingPerWeekdayHour(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		insertFixtures(t, st, march)
		svc := newService(t, st, local(2026, 3, 15, 12, 0))
		q := must[reports.Query](t)(svc.NewQuery("2026-03-01", "2026-03-31", "", nil))
		target := must[reports.StaffingTarget](t)(svc.ParseTarget("", ""))
		s := must[reports.Staffing](t)(svc.Staffing(context.Background(), q, target))
		// March 2026 has five Mondays. Monday 09: 3 calls → 0.6 an hour, talk (100+200)/2 s,
		// 0.025 E, one agent: 1 − 0.025·e^{−0.975·20/150} = 0.97805. Monday 10: one call, no talk
		// known there, so the range's 150 s: 0.2 an hour, 0.00833 E, 1 − 0.00833·e^{−0.99167·20/150}.
		eq(t, "hours", s.Hours, []reports.StaffedHour{
			{Weekday: "mon", Hour: 9, Calls: 3, CallsPerHour: 0.6, AHTSeconds: 150, Erlangs: 0.025, Agents: 1, ServiceLevel: 0.978},
			{Weekday: "mon", Hour: 10, Calls: 1, CallsPerHour: 0.2, AHTSeconds: 150, Erlangs: 0.0083, Agents: 1, ServiceLevel: 0.9927},
		})
		if s.PeakAgents != 1 || s.TargetSeconds != 20 || s.TargetLevel != 0.8 {
			t.Errorf("staffing %+v", s)
		}
		if _, err := svc.ParseTarget("0", ""); err == nil {
			t.Error("target_seconds 0 accepted")
		}
		if _, err := svc.ParseTarget("", "1.5"); err == nil {
			t.Error("target_level 1.5 accepted")
		}
	})
}

func eq[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got  %+v\n want %+v", what, got, want)
	}
}

func TestTextTable(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		insertFixtures(t, st, march)
		svc := newService(t, st, local(2026, 3, 15, 12, 0))
		q := must[reports.Query](t)(svc.NewQuery("2026-03-01", "2026-03-31", "", nil))
		s := must[reports.Summary](t)(svc.Summary(context.Background(), q))
		var buf bytes.Buffer
		if err := reports.WriteText(&buf, s); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{
			"Sportello report 2026-03-01 .. 2026-03-31 (all comuni)",
			"Contacts                          7",
			"  phone                           4  57.14 %",
			"  first_level                     2  28.57 %",
			"  blocco-traffico                 2  28.57 %",
			"  abandoned                       1  25.00 %",
			"  average talk              150.0 s",
			"  service level              50.0 %  within 20 s",
			"First response                 90 s  median",
		} {
			if !strings.Contains(buf.String(), want+"\n") {
				t.Errorf("missing %q in\n%s", want, buf.String())
			}
		}
	})
}
