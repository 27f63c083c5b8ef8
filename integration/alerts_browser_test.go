package integration

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sportello/sportello/store"
)

// In a real browser: the composer's segment counter and preview react to typing, and the
// progress bar of the sent alert moves live to the end.
func TestAlertPagesInBrowser(t *testing.T) {
	gw := alertsGateway(t, store.SQLite, 20, 10)
	alertSubscribers(t, gw, "firenze", "+39347", 60)
	gw.User(t, "capo", store.RoleSupervisor)
	ctx := newBrowser(t)
	if ctx == nil {
		return
	}
	browserStep(t, ctx, "log in",
		chromedp.Navigate(gw.URL+"/login?next=%2Fsupervisor%2Falerts"), chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SetValue(chromedp.ID("username"), "capo"), chromedp.SetValue(chromedp.ID("password"), "password-capo"),
		chromedp.Submit(chromedp.ID("password")))
	browserWait(t, ctx, "the composer", `document.getElementById("alert-message")`, 20*time.Second)
	if !strings.Contains(browserEval[string](t, ctx, `location.pathname`), "/supervisor/alerts") {
		browserStep(t, ctx, "open the alerts", chromedp.Navigate(gw.URL+"/supervisor/alerts"), chromedp.WaitVisible(chromedp.ID("alert-message")))
	}
	browserStep(t, ctx, "untick GSM-7", chromedp.Click(chromedp.ID("alert-gsm7")))
	browserStep(t, ctx, "type a UCS-2 text", chromedp.SendKeys(chromedp.ID("alert-message"), "È in vigore il blocco del traffico"))
	browserWait(t, ctx, "the counter says UCS-2", `document.getElementById("alert-counter").textContent.indexOf("UCS-2") >= 0`, 10*time.Second)
	browserWait(t, ctx, "the UCS-2 warning names È", `document.getElementById("alert-ucs2").textContent.indexOf("È") >= 0`, 10*time.Second)
	browserWait(t, ctx, "the preview and its audience", `document.getElementById("alert-preview").textContent === "È in vigore il blocco del traffico" && document.getElementById("alert-recipients").textContent === "60"`, 10*time.Second)
	browserStep(t, ctx, "tick GSM-7", chromedp.Click(chromedp.ID("alert-gsm7")))
	browserWait(t, ctx, "the GSM-7 preview", `document.getElementById("alert-preview").textContent === "E' in vigore il blocco del traffico" && document.getElementById("alert-preview-cost").textContent.indexOf("GSM-7") >= 0`, 10*time.Second)
	browserStep(t, ctx, "send", chromedp.Click(chromedp.ID("alert-send")))
	browserWait(t, ctx, "the progress page", `document.getElementById("alert-progress")`, 20*time.Second)
	// At 20 messages a second, 60 take about 3 s: the bar must be seen moving, then full.
	seen := map[float64]bool{}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		v := browserEval[float64](t, ctx, `document.getElementById("alert-progress").value`)
		seen[v] = true
		if v == 60 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !seen[60] || len(seen) < 3 {
		t.Fatalf("progress values seen: %v", seen)
	}
	browserWait(t, ctx, "the counts", `document.querySelector("[data-count=queued]").textContent === "0"`, 10*time.Second)
	if gw.Twilio.Count() != 60 {
		t.Fatalf("%d sent", gw.Twilio.Count())
	}
}
