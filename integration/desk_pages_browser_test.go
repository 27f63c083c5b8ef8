package integration

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/sportello/sportello/integration/harness"
	"github.com/sportello/sportello/store"
)

// TestDeskPagesInBrowser: an admin writes a canned answer (the live segment counter turns to
// UCS-2 on an È, the list shows its cost), adds a holiday on /admin/hours (the coming holidays
// list it), and turns on the sound on /aiuto; axe finds no serious or critical violation on any
// of the three pages.
func TestDeskPagesInBrowser(t *testing.T) {
	gw := harness.Start(t, harness.Options{Dialect: store.SQLite})
	gw.User(t, "root", store.RoleAdmin)
	ctx := newBrowser(t)
	if ctx == nil {
		return
	}
	browserStep(t, ctx, "log in",
		chromedp.Navigate(gw.URL+"/login?next=%2Fadmin%2Fcanned"), chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SetValue(chromedp.ID("username"), "root"), chromedp.SetValue(chromedp.ID("password"), "password-root"),
		chromedp.Submit(chromedp.ID("password")))
	browserWait(t, ctx, "the canned answers", `document.getElementById("canned-form")`, 20*time.Second)
	if n := browserEval[int](t, ctx, `document.querySelectorAll("#canned-rows tbody tr").length`); n != 6 {
		t.Fatalf("the built-in answers: %d rows, want 6", n)
	}
	if browserEval[string](t, ctx, `document.querySelector("a[href='/admin/canned'][aria-current=page]") ? "yes" : ""`) != "yes" {
		t.Error("the layout has no current link to the canned answers")
	}
	browserCheckA11y(t, ctx, "canned answers")
	browserStep(t, ctx, "write an answer",
		chromedp.SetValue(chromedp.ID("canned-title"), "Mercato"),
		chromedp.SetValue(chromedp.ID("canned-comune"), "firenze"),
		chromedp.Click(chromedp.CSS(`input[name=channels][value=sms]`)),
		chromedp.SendKeys(chromedp.ID("canned-text-it"), "È aperto il mercato di {comune}"))
	browserWait(t, ctx, "the live counter says UCS-2", `document.getElementById("canned-count-it").textContent.indexOf("UCS-2") >= 0`, 10*time.Second)
	browserStep(t, ctx, "create it", chromedp.Submit(chromedp.ID("canned-title")))
	browserWait(t, ctx, "the new answer in the list", `Array.from(document.querySelectorAll("#canned-rows th")).some(th => th.textContent === "Mercato")`, 20*time.Second)
	row := browserEval[string](t, ctx, `Array.from(document.querySelectorAll("#canned-rows tr")).find(tr => tr.querySelector("th").textContent === "Mercato").innerText`)
	if !strings.Contains(row, "Comune di Firenze") || !strings.Contains(row, "UCS-2") || !strings.Contains(row, "SMS") {
		t.Fatalf("the new answer's row: %q", row)
	}
	browserStep(t, ctx, "edit it", chromedp.Click(chromedp.CSS(`a[aria-label*="Mercato"]`)))
	browserWait(t, ctx, "the edit page", `document.getElementById("canned-title") && document.getElementById("canned-title").value === "Mercato"`, 20*time.Second)
	browserCheckA11y(t, ctx, "canned answer edit")

	browserStep(t, ctx, "open the hours", chromedp.Navigate(gw.URL+"/admin/hours?comune=firenze"), chromedp.WaitVisible(chromedp.ID("hours-form")))
	browserCheckA11y(t, ctx, "hours")
	browserStep(t, ctx, "add San Giovanni",
		chromedp.SendKeys(chromedp.ID("hours-holidays"), "06-24 San Giovanni\n"),
		chromedp.Submit(chromedp.ID("hours-holidays")))
	browserWait(t, ctx, "San Giovanni among the coming holidays", `document.getElementById("upcoming") && document.getElementById("upcoming").innerText.indexOf("San Giovanni") >= 0`, 20*time.Second)
	if !gw.G.Desk.Hours().Closed("firenze", time.Now().Year()+1, time.June, 24) {
		t.Fatal("the holiday saved on the page does not close the desk")
	}

	browserStep(t, ctx, "open the help page", chromedp.Navigate(gw.URL+"/aiuto"), chromedp.WaitVisible(chromedp.ID("shortcuts")))
	browserCheckA11y(t, ctx, "help")
	browserStep(t, ctx, "turn the sound on", chromedp.Click(chromedp.ID("pref-sound")))
	if got := browserEval[string](t, ctx, `localStorage.getItem("sportello.sound")`); got != "on" {
		t.Fatalf("the sound preference: %q", got)
	}
}

// TestInboxConveniencesInBrowser: while the inbox tab is out of view its title counts the new
// contacts; a contact assigned to me raises a desktop notification; on a contact, "r" goes to
// the reply box and Ctrl+Enter sends the reply.
func TestInboxConveniencesInBrowser(t *testing.T) {
	gw := harness.Start(t, harness.Options{Dialect: store.SQLite})
	token := gw.User(t, "root", store.RoleAdmin)
	ctx := newBrowser(t)
	if ctx == nil {
		return
	}
	browserStep(t, ctx, "log in",
		chromedp.Navigate(gw.URL+"/login"), chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SetValue(chromedp.ID("username"), "root"), chromedp.SetValue(chromedp.ID("password"), "password-root"),
		chromedp.Submit(chromedp.ID("password")))
	browserWait(t, ctx, "the inbox", `document.getElementById("contact-rows")`, 20*time.Second)
	browserWait(t, ctx, "the live stream", `document.body.getAttribute("data-live") === "on"`, 20*time.Second)
	// A stand-in for the Notification API records what would be shown (headless Chromium has no
	// notification centre); the page asks it the same way.
	browserEval[bool](t, ctx, `(function () {
		window.__notes = [];
		window.Notification = function (title, opts) { window.__notes.push(title + " | " + opts.body); this.close = function () {}; };
		window.Notification.permission = "granted";
		return true;
	})()`)
	base := browserEval[string](t, ctx, `document.title`)
	browserEval[bool](t, ctx, `window.dispatchEvent(new Event("blur")) || true`)
	inboundSMS(t, gw, "+393471110001", firenzeNumber, "buongiorno, una domanda sulla ZTL")
	browserWait(t, ctx, "the count in the title", `document.title === "(1) " + `+jsString(base), 20*time.Second)
	c := newestContact(t, gw, token, "+393471110001")
	if st := harness.API(t, "POST", gw.URL+"/api/v1/contacts/"+c.ID+"/assign", token, map[string]string{"username": "root"}, nil); st != 200 {
		t.Fatalf("assign: %d", st)
	}
	browserWait(t, ctx, "a notification for the assignment", `window.__notes.length === 1 && window.__notes[0].indexOf("ZTL") >= 0`, 20*time.Second)
	if got := browserEval[string](t, ctx, `document.title`); got != "(2) "+base {
		t.Errorf("title after the assignment: %q", got)
	}
	browserEval[bool](t, ctx, `window.dispatchEvent(new Event("focus")) || true`)
	if got := browserEval[string](t, ctx, `document.title`); got != base {
		t.Errorf("the title keeps a count after returning to the tab: %q", got)
	}

	browserStep(t, ctx, "open the contact", chromedp.Navigate(gw.URL+"/inbox/contacts/"+c.ID), chromedp.WaitVisible(chromedp.ID("reply-body")))
	browserEval[bool](t, ctx, `document.activeElement && document.activeElement.blur() || true`)
	browserStep(t, ctx, "press r", chromedp.KeyEvent("r"))
	if got := browserEval[string](t, ctx, `document.activeElement ? document.activeElement.id : ""`); got != "reply-body" {
		t.Fatalf("after r the focus is on %q, want the reply box", got)
	}
	browserStep(t, ctx, "type and press Ctrl+Enter", chromedp.KeyEvent("Risposta da tastiera"), chromedp.KeyEvent(kb.Enter, chromedp.KeyModifiers(kb.ModifierCtrl)))
	browserWait(t, ctx, "the reply on the thread", `Array.from(document.querySelectorAll(".msg-outbound")).some(m => m.textContent.indexOf("Risposta da tastiera") >= 0)`, 20*time.Second)
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	return "\"" + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + "\""
}
