package integration

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/integration/harness"
	"github.com/sportello/sportello/reports"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/alertstore"
)

// reportCall is a CTI call with the PBX's own times.
type reportCall struct {
	id, to      string
	at          time.Time
	answerAfter int // seconds; -1: never answered
	talk        int
	hangupAfter int // for an unanswered call
}

func ctiEvent(t *testing.T, gw *harness.Gateway, form map[string]string) string {
	t.Helper()
	body, _ := json.Marshal(form)
	req, _ := http.NewRequest("POST", gw.URL+"/webhooks/cti", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+harness.CTIToken)
	resp, text := harness.Do(t, req)
	if resp.StatusCode != 200 {
		t.Fatalf("CTI %v: %d %s", form, resp.StatusCode, text)
	}
	var out struct {
		ContactID string `json:"contact_id"`
	}
	if err := json.Unmarshal([]byte(text), &out); err != nil {
		t.Fatalf("CTI %v: %v: %s", form, err, text)
	}
	return out.ContactID
}

// TestReportsFromRealChannels drives known calls (CTI, with timestamps giving exact waits and
// talk times), an SMS webhook and an SMTP mail through a real gateway, resolves them through
// the operator API, and checks every figure of the summary, the CSV, the staffing answer, the
// scopes, a comune key's view, and the `sportello report` command on the same database.
func TestReportsFromRealChannels(t *testing.T) {
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		gw := startEmailGateway(t, d, "reports:\n  wrap_up_seconds: 30\n")
		sup := gw.User(t, "sup", store.RoleSupervisor)
		empoliSup := gw.User(t, "sup-empoli", store.RoleSupervisor, "empoli")
		op := gw.User(t, "op", store.RoleOperator)
		rome := gw.Config.Location
		at := func(y int, m time.Month, d, hh, mm int) time.Time { return time.Date(y, m, d, hh, mm, 0, 0, rome) }
		const firenzeNo, empoliNo = "+390552768000", "+39057175761"
		calls := []reportCall{
			{id: "K1", to: firenzeNo, at: at(2026, 10, 20, 9, 0), answerAfter: 12, talk: 100},
			{id: "K2", to: firenzeNo, at: at(2026, 10, 20, 9, 30), answerAfter: 25, talk: 150},
			// Summer time ends on 25 October at 03:00: 00:30 is still a Sunday 00 h.
			{id: "K5", to: firenzeNo, at: at(2026, 10, 25, 0, 30), answerAfter: 20, talk: 60},
			{id: "K3", to: empoliNo, at: at(2026, 10, 27, 9, 10), answerAfter: -1, hangupAfter: 40},
			{id: "K4", to: empoliNo, at: at(2026, 10, 27, 10, 5), answerAfter: 5, talk: 80},
		}
		ids := map[string]string{}
		for i, c := range calls {
			ts := func(after int) string { return c.at.Add(time.Duration(after) * time.Second).Format(time.RFC3339) }
			ids[c.id] = ctiEvent(t, gw, map[string]string{"event": "newCall", "callId": c.id, "from": fmt.Sprintf("+3934700000%02d", i), "to": c.to, "direction": "in", "timestamp": ts(0)})
			if c.answerAfter >= 0 {
				ctiEvent(t, gw, map[string]string{"event": "answer", "callId": c.id, "user": "op", "timestamp": ts(c.answerAfter)})
				ctiEvent(t, gw, map[string]string{"event": "hangup", "callId": c.id, "timestamp": ts(c.answerAfter + c.talk)})
			} else {
				ctiEvent(t, gw, map[string]string{"event": "hangup", "callId": c.id, "timestamp": ts(c.hangupAfter)})
			}
		}
		resp, _ := harness.PostTwilio(t, gw.URL, "/webhooks/twilio/sms", harness.SMSForm("SM00000000000000000000000000000001", "+393471112233", firenzeNo, "Domani c'è il blocco del traffico?"))
		if resp.StatusCode != 200 {
			t.Fatalf("sms webhook %d", resp.StatusCode)
		}
		if err := sendSMTP(t, gw.G.SMTPAddr(), "cittadino@example.org", "urp@comune.empoli.fi.it",
			citizenMail("rep-mail-1@example.org", "cittadino@example.org", "urp@comune.empoli.fi.it", "Certificato", "Buongiorno, come chiedo un certificato?")); err != nil {
			t.Fatal(err)
		}
		var list struct{ Items []channels.Contact }
		harness.API(t, "GET", gw.URL+"/api/v1/contacts?limit=50", sup, nil, &list)
		for _, c := range list.Items {
			switch c.Channel {
			case channels.SMS:
				ids["S1"] = c.ID
			case channels.Email:
				ids["M1"] = c.ID
			}
		}
		if len(list.Items) != 7 || ids["S1"] == "" || ids["M1"] == "" {
			t.Fatalf("contacts: %d %v", len(list.Items), ids)
		}
		if code := harness.API(t, "POST", gw.URL+"/api/v1/contacts/"+ids["S1"]+"/reply", sup, map[string]string{"body": "Sì, dalle 8 alle 20."}, nil); code != 200 && code != 202 {
			t.Fatalf("reply %d", code)
		}
		resolve := func(id string, body map[string]string) {
			t.Helper()
			if code := harness.API(t, "POST", gw.URL+"/api/v1/contacts/"+ids[id]+"/resolve", sup, body, nil); code != 200 {
				t.Fatalf("resolve %s: %d", id, code)
			}
		}
		resolve("K1", map[string]string{"outcome": "first_level", "category": "blocco-traffico"})
		resolve("K2", map[string]string{"outcome": "transferred_phone", "office": "polizia-municipale", "category": "contravvenzioni"})
		resolve("K4", map[string]string{"outcome": "first_level", "category": "permessi-ztl"})
		resolve("S1", map[string]string{"outcome": "first_level", "category": "blocco-traffico"})
		resolve("M1", map[string]string{"outcome": "first_level", "category": "servizi-generici"})
		contact := func(id string) channels.Contact {
			var c channels.Contact
			harness.API(t, "GET", gw.URL+"/api/v1/contacts/"+ids[id], sup, nil, &c)
			return c
		}
		// The unresolved calls keep the category the router gave them.
		categories := map[string]int64{"blocco-traffico": 2, "contravvenzioni": 1, "servizi-generici": 1, "permessi-ztl": 1,
			"incentivi-veicoli": 0, "reclami-suggerimenti": 0, "altro": 0, "none": 0}
		for _, id := range []string{"K3", "K5"} {
			if c := contact(id); c.Category != nil {
				categories[*c.Category]++
			} else {
				categories["none"]++
			}
		}
		s1 := contact("S1")
		var replyAt time.Time
		for _, m := range s1.Messages {
			if m.Direction == channels.Outbound {
				replyAt = m.CreatedAt
				break
			}
		}
		if replyAt.IsZero() {
			t.Fatalf("no reply in %+v", s1.Messages)
		}
		firstResponse := int64(math.Round(replyAt.Sub(s1.ReceivedAt).Seconds()))

		today := time.Now().In(rome).Format(time.DateOnly)
		rangeQ := "from=2026-10-01&to=" + today
		var sum reports.Summary
		if code := harness.API(t, "GET", gw.URL+"/api/v1/reports/summary?"+rangeQ, sup, nil, &sum); code != 200 {
			t.Fatalf("summary %d", code)
		}
		eqR(t, "total", sum.Contacts.Total, int64(7))
		eqR(t, "by_channel", sum.Contacts.ByChannel, map[string]int64{"phone": 5, "sms": 1, "email": 1, "fax": 0})
		eqR(t, "by_comune", sum.Contacts.ByComune, map[string]int64{"firenze": 4, "empoli": 3, "none": 0})
		eqR(t, "by_category", sum.Contacts.ByCategory, categories)
		eqR(t, "outcomes", sum.Outcomes, map[string]int64{"first_level": 4, "transferred_phone": 1, "forwarded_email": 0, "unresolved": 2})
		// Waits 12, 25, 20, 5 (answered) and 40 (abandoned); talks 100, 150, 60, 80; within 20 s:
		// K1, K5 (exactly 20) and K4.
		eqR(t, "calls", sum.Calls, reports.Calls{Offered: 5, Answered: 4, Abandoned: 1, AvgWaitSeconds: 15.5, AvgTalkSeconds: 97.5,
			AnsweredWithinTarget: 3, TargetSeconds: 20, ServiceLevel: 0.6})
		if sum.FirstResponse.Median == nil || *sum.FirstResponse.Median != firstResponse || *sum.FirstResponse.P90 != firstResponse {
			t.Errorf("first response %+v, want %d", sum.FirstResponse, firstResponse)
		}
		days := map[string]reports.DayFigures{}
		for _, d := range sum.ByDay {
			days[d.Date] = d
		}
		if sum.ByDay[0].Date != "2026-10-01" || sum.ByDay[len(sum.ByDay)-1].Date != today {
			t.Errorf("by_day runs %s..%s", sum.ByDay[0].Date, sum.ByDay[len(sum.ByDay)-1].Date)
		}
		for date, want := range map[string][3]int64{"2026-10-20": {2, 2, 2}, "2026-10-25": {1, 1, 1}, "2026-10-27": {2, 2, 1}, "2026-10-26": {0, 0, 0}} {
			d := days[date]
			if [3]int64{d.Contacts, d.CallsOffered, d.CallsAnswered} != want {
				t.Errorf("%s: %+v, want contacts, offered, answered %v", date, d, want)
			}
		}
		if days[today].Contacts != 2 || days[today].ByChannel["sms"] != 1 || days[today].ByChannel["email"] != 1 {
			t.Errorf("today: %+v", days[today])
		}

		// Scopes: an Empoli supervisor sees Empoli; Firenze is 404 to them; operators 403.
		var empoli reports.Summary
		harness.API(t, "GET", gw.URL+"/api/v1/reports/summary?"+rangeQ, empoliSup, nil, &empoli)
		if empoli.Contacts.Total != 3 || !reflect.DeepEqual(empoli.Contacts.ByComune, map[string]int64{"empoli": 3}) || empoli.Calls.Abandoned != 1 {
			t.Errorf("empoli supervisor: %+v %+v", empoli.Contacts, empoli.Calls)
		}
		for _, c := range []struct {
			path, token string
			want        int
		}{
			{"/summary?comune=firenze", empoliSup, 404},
			{"/contacts.csv?comune=firenze", empoliSup, 404},
			{"/staffing?comune=firenze", empoliSup, 404},
			{"/summary", op, 403},
			{"/contacts.csv", op, 403},
			{"/staffing", op, 403},
			{"/summary", "", 401},
			{"/summary?from=2026-13-01", sup, 400},
			{"/summary?from=2026-10-02&to=2026-10-01", sup, 400},
			{"/staffing?target_level=2", sup, 400},
		} {
			if code := harness.API(t, "GET", gw.URL+"/api/v1/reports"+c.path, c.token, nil, nil); code != c.want {
				t.Errorf("%s: %d, want %d", c.path, code, c.want)
			}
		}

		// A comune's API key reads its own summary, and nothing else of the reports.
		_, key, err := alertstore.New(gw.G.Store).CreateAPIKey(t.Context(), "firenze", "dashboard")
		if err != nil {
			t.Fatal(err)
		}
		var firenze reports.Summary
		if code := harness.API(t, "GET", gw.URL+"/api/v1/reports/summary?"+rangeQ, key, nil, &firenze); code != 200 || firenze.Contacts.Total != 4 ||
			!reflect.DeepEqual(firenze.Contacts.ByComune, map[string]int64{"firenze": 4}) || firenze.Calls.Offered != 3 {
			t.Errorf("firenze key: %d %+v %+v", code, firenze.Contacts, firenze.Calls)
		}
		for path, want := range map[string]int{"/summary?comune=empoli": 404, "/contacts.csv": 401, "/staffing": 401} {
			if code := harness.API(t, "GET", gw.URL+"/api/v1/reports"+path, key, nil, nil); code != want {
				t.Errorf("key %s: %d, want %d", path, code, want)
			}
		}
		if code := harness.API(t, "GET", gw.URL+"/api/v1/reports/summary", "spk_not-a-key", nil, nil); code != 401 {
			t.Errorf("unknown key: %d", code)
		}

		// The CSV: one row per contact, oldest first, with the calls' exact figures.
		req, _ := http.NewRequest("GET", gw.URL+"/api/v1/reports/contacts.csv?"+rangeQ, nil)
		req.Header.Set("Authorization", "Bearer "+sup)
		resp, text := harness.Do(t, req)
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
			t.Fatalf("csv %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		rows, err := csv.NewReader(strings.NewReader(text)).ReadAll()
		if err != nil || len(rows) != 8 {
			t.Fatalf("csv rows %d %v", len(rows), err)
		}
		eqR(t, "header", strings.Join(rows[0], ","), strings.Join(reports.CSVHeader, ","))
		byID := map[string][]string{}
		var order []string
		for _, r := range rows[1:] {
			byID[r[0]] = r
			order = append(order, r[0])
		}
		eqR(t, "order", order[:5], []string{ids["K1"], ids["K2"], ids["K5"], ids["K3"], ids["K4"]})
		pick := func(r []string, cols ...int) string {
			var out []string
			for _, c := range cols {
				out = append(out, r[c])
			}
			return strings.Join(out, ",")
		}
		// received_at, channel, comune, category, status, outcome, office, wait, talk, first response
		cols := []int{1, 2, 3, 4, 6, 7, 8, 9, 10, 11}
		eqR(t, "K1 row", pick(byID[ids["K1"]], cols...), "2026-10-20T09:00:00+02:00,phone,firenze,blocco-traffico,resolved,first_level,,12,100,")
		eqR(t, "K2 row", pick(byID[ids["K2"]], cols...), "2026-10-20T09:30:00+02:00,phone,firenze,contravvenzioni,resolved,transferred_phone,polizia-municipale,25,150,")
		eqR(t, "K3 row", pick(byID[ids["K3"]], 1, 2, 3, 6, 7, 9, 10, 12), "2026-10-27T09:10:00+01:00,phone,empoli,open,,40,,")
		eqR(t, "S1 row", pick(byID[ids["S1"]], 2, 3, 4, 6, 7, 9, 10, 11), fmt.Sprintf("sms,firenze,blocco-traffico,resolved,first_level,,,%d", firstResponse))
		if byID[ids["S1"]][12] == "" || byID[ids["K1"]][5] == "" {
			t.Errorf("resolved_at or queue missing: %v %v", byID[ids["S1"]], byID[ids["K1"]])
		}

		// Staffing, Tuesdays 8 and Sundays 9 in the range. Tuesday 09: K1, K2, K3 → 3/8 an
		// hour, handle time (100+150)/2 + 30 s wrap-up; Tuesday 10: K4, 1/8, 80+30 s; Sunday 00:
		// K5, 1/9, 60+30 s. One agent each: Erlang C with N = 1 waits with probability A.
		var st reports.Staffing
		if code := harness.API(t, "GET", gw.URL+"/api/v1/reports/staffing?from=2026-10-01&to=2026-11-30", sup, nil, &st); code != 200 {
			t.Fatalf("staffing %d", code)
		}
		hour := func(w string, h int, calls int64, perHour, aht float64) reports.StaffedHour {
			a := perHour * aht / 3600
			return reports.StaffedHour{Weekday: w, Hour: h, Calls: calls, CallsPerHour: reports.Round(perHour, 4), AHTSeconds: aht,
				Erlangs: reports.Round(a, 4), Agents: 1, ServiceLevel: reports.Round(1-a*math.Exp(-(1-a)*20/aht), 4)}
		}
		eqR(t, "staffing hours", st.Hours, []reports.StaffedHour{hour("tue", 9, 3, 3.0/8, 155), hour("tue", 10, 1, 1.0/8, 110), hour("sun", 0, 1, 1.0/9, 90)})
		if st.PeakAgents != 1 || st.WrapUpSeconds != 30 || st.TargetSeconds != 20 || st.TargetLevel != 0.8 {
			t.Errorf("staffing %+v", st)
		}
		// A stricter target asks for more agents where the traffic is.
		harness.API(t, "GET", gw.URL+"/api/v1/reports/staffing?from=2026-10-01&to=2026-11-30&target_seconds=1&target_level=0.999", sup, nil, &st)
		if st.PeakAgents != 2 || st.TargetSeconds != 1 {
			t.Errorf("strict staffing %+v", st)
		}

		// `sportello report` on the same database prints the same summary.
		if d == store.SQLite {
			dir := t.TempDir()
			cfgPath := filepath.Join(dir, "sportello.yaml")
			yaml := harness.ConfigYAMLWithTwilio(harness.Options{Replace: emailYAML("reports:\n  wrap_up_seconds: 30\n")}, gw.DataDir, gw.DatabaseURL, "http://127.0.0.1:9")
			if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(harness.Binary(t), "report", "--config", cfgPath, "--from", "2026-10-01", "--to", today, "--format", "json").Output()
			if err != nil {
				t.Fatalf("report: %v", err)
			}
			var cli reports.Summary
			if err := json.Unmarshal(out, &cli); err != nil {
				t.Fatal(err)
			}
			eqR(t, "command's summary", cli, sum)
			out, err = exec.Command(harness.Binary(t), "report", "--config", cfgPath, "--from", "2026-10-01", "--to", today).Output()
			if err != nil || !strings.Contains(string(out), "Contacts                          7\n") || !strings.Contains(string(out), "  service level              60.0 %  within 20 s\n") {
				t.Errorf("report text: %v\n%s", err, out)
			}
		}
	})
}

func eqR[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got  %+v\n want %+v", what, got, want)
	}
}
