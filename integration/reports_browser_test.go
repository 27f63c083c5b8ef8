package integration

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sportello/sportello/integration/harness"
	"github.com/sportello/sportello/store"
)

// TestReportPagesInBrowser opens the reports page and the wallboard as a supervisor (axe: no
// serious or critical violations), checks the charts and their tables and the what-if form,
// and sees the wallboard change, without a reload, when a call arrives.
func TestReportPagesInBrowser(t *testing.T) {
	gw := harness.Start(t, harness.Options{Dialect: store.SQLite})
	gw.User(t, "capo", store.RoleSupervisor)
	// A call earlier today, answered after 10 s and ended two minutes later. Today is the
	// comune's day: two hours ago is yesterday there between midnight and two, so the call
	// then starts at midnight, and its answer and end come no later than now (the gateway
	// refuses events from the future).
	now := time.Now().In(gw.Config.Location)
	start := now.Add(-2 * time.Hour)
	if midnight := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location()); start.Before(midnight) {
		start = midnight
	}
	elapsed := now.Sub(start)
	answered, ended := start.Add(min(10*time.Second, elapsed/3)), start.Add(min(130*time.Second, 2*elapsed/3))
	ctiEvent(t, gw, map[string]string{"event": "newCall", "callId": "B1", "from": "+393470000001", "to": "+390552768000", "timestamp": start.Format(time.RFC3339)})
	ctiEvent(t, gw, map[string]string{"event": "answer", "callId": "B1", "user": "op", "timestamp": answered.Format(time.RFC3339)})
	ctiEvent(t, gw, map[string]string{"event": "hangup", "callId": "B1", "timestamp": ended.Format(time.RFC3339)})
	ctx := newBrowser(t)
	if ctx == nil {
		return
	}
	today := now.Format(time.DateOnly)
	browserStep(t, ctx, "log in",
		chromedp.Navigate(gw.URL+"/login?next=%2Fsupervisor%2Freports"), chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SetValue(chromedp.ID("username"), "capo"), chromedp.SetValue(chromedp.ID("password"), "password-capo"),
		chromedp.Submit(chromedp.ID("password")))
	browserWait(t, ctx, "the inbox or the reports", `document.querySelector("main")`, 20*time.Second)
	browserStep(t, ctx, "open the reports", chromedp.Navigate(gw.URL+"/supervisor/reports?from="+today+"&to="+today+"&calls_per_hour=200&aht_seconds=180&target_seconds=20&target_level=0.8"),
		chromedp.WaitVisible(chromedp.ID("chart-days")))
	if got := browserEval[string](t, ctx, `document.getElementById("report-offered").textContent`); got != "1" {
		t.Errorf("calls offered on the page: %q", got)
	}
	if n := browserEval[int](t, ctx, `document.querySelectorAll("#chart-days rect").length`); n < 1 {
		t.Errorf("the contacts chart has %d bars", n)
	}
	if n := browserEval[int](t, ctx, `document.querySelectorAll("svg.chart[role=img] title").length`); n < 5 {
		t.Errorf("%d titled charts", n)
	}
	// The published worked example: 200 calls an hour of 180 s at 80/20 need 14 agents.
	if got := browserEval[string](t, ctx, `document.getElementById("whatif-agents").textContent`); got != "14" {
		t.Errorf("what-if agents %q, want 14", got)
	}
	if href := browserEval[string](t, ctx, `document.getElementById("report-csv").getAttribute("href")`); !strings.HasPrefix(href, "/api/v1/reports/contacts.csv?from="+today) {
		t.Errorf("CSV link %q", href)
	}
	browserCheckA11y(t, ctx, "reports")

	browserStep(t, ctx, "open the wallboard", chromedp.Navigate(gw.URL+"/supervisor/wallboard"), chromedp.WaitVisible(chromedp.ID("wallboard-queues")))
	browserCheckA11y(t, ctx, "wallboard")
	if got := browserEval[string](t, ctx, `document.querySelector("[data-board=offered]").textContent`); got != "1" {
		t.Fatalf("wallboard offered %q", got)
	}
	browserWait(t, ctx, "the stream's first picture", `document.body.hasAttribute("data-board-updated")`, 20*time.Second)
	ctiEvent(t, gw, map[string]string{"event": "newCall", "callId": "B2", "from": "+393470000002", "to": "+390552768000"})
	browserWait(t, ctx, "the new call on the board", `document.querySelector("[data-board=offered]").textContent === "2" && document.querySelector("[data-board=waiting]").textContent !== "0"`, 20*time.Second)
}
