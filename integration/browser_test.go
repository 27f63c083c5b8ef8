package integration

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/store"
)

// Hostile text from an email: if any of it ran, it would set window.__xss.
const (
	browserHostileName    = `<img src=x onerror="window.__xss='name'">`
	browserHostileSubject = `<img src=x onerror="window.__xss='subject'"> Multa`
	browserHostileBody    = `Buongiorno <img src=x onerror="window.__xss='body'"><script>window.__xss='script'</script> ho ricevuto una multa`
)

// TestBrowserInbox drives the inbox in a real headless chromium against a whole gateway: log
// in, see an SMS arrive live, reply, resolve with a forward to the office, and prove that
// hostile email content is shown as text and never runs. axe-core checks every main page.
func TestBrowserInbox(t *testing.T) {
	ctx := newBrowser(t)
	if ctx == nil {
		return
	}
	gw := startBrowserGateway(t)
	gw.user(t, "operatrice", store.RoleOperator)
	gw.user(t, "supervisore", store.RoleSupervisor)
	bg := context.Background()

	// An email whose sender name, subject and body are all hostile markup.
	rcpt, err := gw.G.Ingest.Receive(bg, channels.InboundMessage{Channel: channels.Email, ExternalID: "hostile-1@example.org",
		MessageID: "hostile-1@example.org", From: "mallory@example.org", FromName: browserHostileName, To: "urp@comune.fi.it",
		Comune: "firenze", Subject: browserHostileSubject, Body: browserHostileBody, ReceivedAt: time.Now().UTC(),
		Attachments: []channels.Attachment{{Filename: `<b>verbale</b>.txt`, ContentType: "text/plain", Data: []byte("verbale n. 123")}}})
	if err != nil {
		t.Fatal(err)
	}

	// Login page: a wrong password is a visible message, the right one opens the inbox.
	browserStep(t, ctx, "open login", chromedp.Navigate(gw.URL+"/login"), chromedp.WaitVisible(chromedp.ID("username")))
	if lang := browserEval[string](t, ctx, `document.documentElement.lang`); lang != "it" {
		t.Errorf("login page lang = %q, want it", lang)
	}
	browserCheckA11y(t, ctx, "login")
	browserScreenshot(t, ctx, "login")
	browserStep(t, ctx, "wrong password",
		chromedp.SendKeys(chromedp.ID("username"), "operatrice"), chromedp.SendKeys(chromedp.ID("password"), "sbagliata-davvero"),
		chromedp.Submit(chromedp.ID("password")), chromedp.WaitVisible(chromedp.CSS(".flash.bad")))
	if msg := browserEval[string](t, ctx, `document.querySelector(".flash.bad").textContent`); !strings.Contains(msg, "non validi") {
		t.Errorf("wrong password message = %q", msg)
	}
	browserScreenshot(t, ctx, "login-failed")
	browserStep(t, ctx, "log in",
		chromedp.SetValue(chromedp.ID("username"), "operatrice"), chromedp.SetValue(chromedp.ID("password"), browserPassword),
		chromedp.Submit(chromedp.ID("password")), chromedp.WaitVisible(chromedp.ID("contact-rows")))
	if loc := browserEval[string](t, ctx, `location.pathname`); loc != "/inbox" {
		t.Fatalf("after pageLogin at %s, want /inbox", loc)
	}

	// The hostile email is in the list as literal text, and nothing of it ran.
	browserWait(t, ctx, "hostile row shown", `document.querySelector("#c-`+rcpt.ContactID+`") !== null`, 5*time.Second)
	rowText := browserEval[string](t, ctx, `document.querySelector("#c-`+rcpt.ContactID+`").textContent`)
	if !strings.Contains(rowText, browserHostileName) || !strings.Contains(rowText, `<img src=x onerror="window.__xss='subject'">`) {
		t.Errorf("hostile sender and subject not shown literally: %q", rowText)
	}
	if n := browserEval[int](t, ctx, `document.querySelectorAll("#contact-rows img, #contact-rows script").length`); n != 0 {
		t.Errorf("citizen markup became %d elements in the list", n)
	}

	// A new SMS appears without a reload.
	browserEval[chromedp.Void](t, ctx, `window.__sameDocument = "yes"`)
	browserWait(t, ctx, "live stream connected", `document.body.getAttribute("data-live") === "on"`, 10*time.Second)
	gw.postSMS(t, "SM"+strings.Repeat("a", 32), "+393471234567", "+390552768000", "Domani c'è il blocco del traffico a Firenze?")
	browserWait(t, ctx, "new SMS row appears live", `Array.from(document.querySelectorAll("#contact-rows tr")).some(r => r.textContent.includes("blocco del traffico"))`, 10*time.Second)
	if same := browserEval[string](t, ctx, `window.__sameDocument || ""`); same != "yes" {
		t.Error("the page reloaded: the contact did not arrive live")
	}
	if live := browserEval[string](t, ctx, `document.getElementById("live-status").textContent`); !strings.Contains(live, "Nuovo contatto") {
		t.Errorf("the new contact was not announced to screen readers: %q", live)
	}
	browserCheckA11y(t, ctx, "inbox")
	browserScreenshot(t, ctx, "inbox")
	if v := browserEval[any](t, ctx, `window.__xss === undefined ? null : window.__xss`); v != nil {
		t.Fatalf("hostile email content ran in the list: window.__xss = %v", v)
	}

	// The hostile email's thread: text shown literally, no element made of it, nothing ran.
	browserStep(t, ctx, "open hostile contact", chromedp.Navigate(gw.URL+"/inbox/contacts/"+rcpt.ContactID), chromedp.WaitVisible(chromedp.CSS(".messages")))
	bodyText := browserEval[string](t, ctx, `document.querySelector(".messages .body").textContent`)
	if !strings.Contains(bodyText, `<script>window.__xss='script'</script>`) || !strings.Contains(bodyText, `onerror="window.__xss='body'"`) {
		t.Errorf("hostile body not shown literally: %q", bodyText)
	}
	if n := browserEval[int](t, ctx, `document.querySelectorAll(".messages .body *, .messages .subject img, h1 img").length`); n != 0 {
		t.Errorf("citizen markup became %d elements in the thread", n)
	}
	if title := browserEval[string](t, ctx, `document.title`); !strings.Contains(title, browserHostileName) {
		t.Errorf("title %q does not show the sender's name literally", title)
	}
	if href := browserEval[string](t, ctx, `document.querySelector(".attachments a[download]").getAttribute("href")`); !strings.HasPrefix(href, "/api/v1/contacts/"+rcpt.ContactID+"/attachments/") {
		t.Errorf("attachment download link = %q", href)
	}
	// Let any broken image fire its error handler: the document is complete only after every
	// image in the served page has loaded or failed and fired its handler; images added by
	// script since must be complete (loaded or broken) too.
	browserWait(t, ctx, "every image on the thread loaded or failed",
		`document.readyState === "complete" && Array.from(document.images).every(i => i.complete)`, 10*time.Second)
	if v := browserEval[any](t, ctx, `window.__xss === undefined ? null : window.__xss`); v != nil {
		t.Fatalf("hostile email content ran in the thread: window.__xss = %v", v)
	}
	browserScreenshot(t, ctx, "contact-hostile-email")

	// A fax shows its preview image and a download link.
	fr, err := gw.G.Ingest.Receive(bg, channels.InboundMessage{Channel: channels.Fax, ExternalID: "fax-1@fax.example", From: "+390551234567",
		To: "urp@comune.fi.it", Comune: "firenze", Subject: "Fax da +39 055 1234567", ReceivedAt: time.Now().UTC(),
		Attachments: []channels.Attachment{{Filename: "fax.tif", ContentType: "image/tiff", Data: []byte("II*\x00 not really a tiff")}}})
	if err != nil {
		t.Fatal(err)
	}
	fax, err := gw.G.Store.GetContact(bg, fr.ContactID, store.Scope{})
	if err != nil || len(fax.Attachments) != 1 {
		t.Fatalf("fax contact: %v %d", err, len(fax.Attachments))
	}
	if err := gw.G.Store.SetAttachmentPreview(bg, fax.Attachments[0].ID, browserTestPNG(t)); err != nil {
		t.Fatal(err)
	}
	browserStep(t, ctx, "open fax", chromedp.Navigate(gw.URL+"/inbox/contacts/"+fr.ContactID), chromedp.WaitVisible(chromedp.CSS(".attachments")))
	browserWait(t, ctx, "fax preview loads", `(() => { const i = document.querySelector(".attachments img.preview"); return i && i.complete && i.naturalWidth === 40; })()`, 5*time.Second)
	browserScreenshot(t, ctx, "contact-fax")

	// Reply to the SMS: the segment counter follows GSM-7 and UCS-2, the reply is queued.
	smsID, err := gw.G.Store.ContactIDByExternal(bg, channels.SMS, "SM"+strings.Repeat("a", 32))
	if err != nil {
		t.Fatal(err)
	}
	browserStep(t, ctx, "open SMS contact", chromedp.Navigate(gw.URL+"/inbox/contacts/"+smsID), chromedp.WaitVisible(chromedp.ID("reply-body")))
	browserCheckA11y(t, ctx, "contact")
	browserStep(t, ctx, "type a GSM-7 reply", chromedp.SendKeys(chromedp.ID("reply-body"), strings.Repeat("a", 161)))
	if c := browserEval[string](t, ctx, `document.getElementById("reply-counter").textContent`); !strings.Contains(c, "161 caratteri · 2 SMS (GSM-7)") {
		t.Errorf("counter for 161 GSM-7 characters = %q", c)
	}
	browserEval[chromedp.Void](t, ctx, `document.getElementById("reply-body").value = ""`)
	browserStep(t, ctx, "type a UCS-2 reply", chromedp.SendKeys(chromedp.ID("reply-body"), "È così"))
	if c := browserEval[string](t, ctx, `document.getElementById("reply-counter").textContent`); !strings.Contains(c, "6 caratteri · 1 SMS (UCS-2)") {
		t.Errorf("counter for a capital È = %q", c)
	}
	if n := browserEval[int](t, ctx, `sportelloSegments("x".repeat(67) + "È").segments`); n != 1 {
		t.Errorf("68 UCS-2 characters = %d segments, want 1", n)
	}
	if n := browserEval[int](t, ctx, `sportelloSegments("x".repeat(70) + "È").segments`); n != 2 {
		t.Errorf("71 UCS-2 characters = %d segments, want 2", n)
	}
	reply := "Buongiorno, sì: domani dalle 8 alle 20. Linea Comune"
	browserEval[chromedp.Void](t, ctx, `document.getElementById("reply-body").value = ""`)
	browserStep(t, ctx, "send the reply", chromedp.SendKeys(chromedp.ID("reply-body"), reply), chromedp.Submit(chromedp.ID("reply-body")))
	browserWait(t, ctx, "replied page", `location.search.includes("done=replied") && document.readyState === "complete" && document.querySelector(".flash.ok") !== null`, 10*time.Second)
	if n := browserEval[string](t, ctx, `document.querySelector(".flash.ok").textContent`); !strings.Contains(n, "Risposta inviata") {
		t.Errorf("after reply the notice is %q", n)
	}
	if !strings.Contains(browserEval[string](t, ctx, `document.querySelector(".messages").textContent`), reply) {
		t.Error("the reply is not in the thread")
	}
	browserWaitOutbox(t, gw, "+393471234567", reply)
	browserScreenshot(t, ctx, "contact-replied")

	// Resolve with a forward: the dialog, the comune's offices, the office gets the email.
	browserStep(t, ctx, "open resolve dialog", chromedp.Click(chromedp.ID("resolve-open")), chromedp.WaitVisible(chromedp.ID("resolve-dialog")))
	if modal := browserEval[bool](t, ctx, `document.getElementById("resolve-dialog").matches(":modal")`); !modal {
		t.Error("the resolve dialog is not modal")
	}
	offices := browserEval[string](t, ctx, `Array.from(document.querySelectorAll("#resolve-office option")).map(o => o.textContent).join("|")`)
	if !strings.Contains(offices, "Polizia Municipale") || !strings.Contains(offices, "Direzione Mobilità") {
		t.Errorf("office list = %q", offices)
	}
	browserCheckA11y(t, ctx, "resolve dialog")
	browserScreenshot(t, ctx, "resolve-dialog")
	browserStep(t, ctx, "resolve with a forward",
		chromedp.Click(chromedp.ID("outcome-forwarded_email")),
		chromedp.SetValue(chromedp.ID("resolve-office"), "mobilita"),
		chromedp.SendKeys(chromedp.ID("resolve-note"), "Inoltrato alla mobilità"),
		chromedp.Click(chromedp.ID("resolve-submit")))
	browserWait(t, ctx, "resolved page", `location.search.includes("done=resolved_forwarded_email") && document.readyState === "complete" && document.getElementById("contact-status") !== null`, 10*time.Second)
	if n := browserEval[string](t, ctx, `document.querySelector(".flash.ok").textContent`); !strings.Contains(n, "inoltrato all'ufficio") {
		t.Errorf("after resolve the notice is %q", n)
	}
	if st := browserEval[string](t, ctx, `document.getElementById("contact-status").textContent`); st != "Risolto" {
		t.Errorf("status after resolve = %q", st)
	}
	if _, ok := gw.Mail.waitFor("mobilita@comune.fi.it", 15*time.Second); !ok {
		t.Error("the office did not receive the forward")
	}
	ct, err := gw.G.Store.GetContact(bg, smsID, store.Scope{})
	if err != nil {
		t.Fatal(err)
	}
	if ct.Status != channels.StatusResolved || ct.Outcome == nil || *ct.Outcome != channels.OutcomeForwardedEmail {
		t.Errorf("stored contact after resolve: status %s outcome %v", ct.Status, ct.Outcome)
	}
	browserScreenshot(t, ctx, "contact-resolved")

	// The citizen's history.
	browserStep(t, ctx, "open citizen", chromedp.Navigate(gw.URL+"/inbox/citizens/"+ct.Citizen.ID), chromedp.WaitVisible(chromedp.CSS("table.contacts")))
	if !strings.Contains(browserEval[string](t, ctx, `document.querySelector("table.contacts").textContent`), "blocco del traffico") {
		t.Error("the citizen's history does not list their SMS")
	}
	browserCheckA11y(t, ctx, "citizen")
	browserScreenshot(t, ctx, "citizen")

	// English on request, remembered.
	browserStep(t, ctx, "english", chromedp.Navigate(gw.URL+"/inbox?lang=en"), chromedp.WaitVisible(chromedp.ID("contact-rows")))
	if h := browserEval[string](t, ctx, `document.documentElement.lang + " " + document.querySelector("h1").textContent`); h != "en Contacts" {
		t.Errorf("English inbox: %q", h)
	}
	browserStep(t, ctx, "english stays", chromedp.Navigate(gw.URL+"/inbox/citizens/"+ct.Citizen.ID), chromedp.WaitVisible(chromedp.CSS("h1")))
	if h := browserEval[string](t, ctx, `document.querySelector("h1").textContent`); !strings.HasPrefix(h, "Citizen") {
		t.Errorf("English not remembered: %q", h)
	}
	browserStep(t, ctx, "back to italian", chromedp.Navigate(gw.URL+"/inbox?lang=it"), chromedp.WaitVisible(chromedp.ID("contact-rows")))

	// Supervisors see the live queues.
	browserStep(t, ctx, "log out", chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)), chromedp.WaitVisible(chromedp.ID("username")))
	browserStep(t, ctx, "log in as supervisor",
		chromedp.SetValue(chromedp.ID("username"), "supervisore"), chromedp.SetValue(chromedp.ID("password"), browserPassword),
		chromedp.Submit(chromedp.ID("password")), chromedp.WaitVisible(chromedp.ID("contact-rows")))
	browserStep(t, ctx, "open queues", chromedp.Navigate(gw.URL+"/inbox/queues"), chromedp.WaitVisible(chromedp.ID("queue-rows")))
	if n := browserEval[int](t, ctx, `document.querySelectorAll("#queue-rows tr").length`); n < 3 {
		t.Errorf("queues page lists %d queues", n)
	}
	browserWait(t, ctx, "queues live stream connected", `document.body.getAttribute("data-live") === "on"`, 10*time.Second)
	before := browserEval[string](t, ctx, `document.getElementById("queues").getAttribute("data-updated") || ""`)
	gw.postSMS(t, "SM"+strings.Repeat("b", 32), "+393470000001", "+390552768000", "Ho preso una multa ieri")
	browserWait(t, ctx, "queues refresh on a new contact", `(document.getElementById("queues").getAttribute("data-updated") || "") !== "`+before+`"`, 10*time.Second)
	browserCheckA11y(t, ctx, "queues")
	browserScreenshot(t, ctx, "queues")
	if v := browserEval[any](t, ctx, `window.__xss === undefined ? null : window.__xss`); v != nil {
		t.Fatalf("window.__xss = %v", v)
	}
}

// browserWaitOutbox waits for an SMS to reach the local outbox (the durable send job ran).
func browserWaitOutbox(t *testing.T, gw *browserGateway, to, body string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		list, err := gw.G.Store.Outbox(context.Background(), 50)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range list {
			if m.To == to && m.Body == body {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("no SMS to %s with the reply reached the outbox", to)
}

// TestInboxPagesRefuse checks what the pages refuse, over plain HTTP: a stale CSRF token, too
// many failed logins, a contact outside the operator's comuni, a deleted user's session.
func TestInboxPagesRefuse(t *testing.T) {
	gw := startBrowserGateway(t)
	gw.user(t, "fiorentina", store.RoleOperator, "firenze")
	gw.user(t, "empolese", store.RoleOperator, "empoli")
	bg := context.Background()
	r, err := gw.G.Ingest.Receive(bg, channels.InboundMessage{Channel: channels.Email, ExternalID: "e1@example.org", MessageID: "e1@example.org",
		From: "a@example.org", To: "urp@comune.fi.it", Comune: "firenze", Subject: "Permesso ZTL", Body: "Vorrei un permesso", ReceivedAt: time.Now().UTC()})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("anonymous goes to login", func(t *testing.T) {
		c := pageClient(t)
		req, _ := http.NewRequest(http.MethodGet, gw.URL+"/inbox/contacts/"+r.ContactID, nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login?next=%2Finbox%2Fcontacts%2F") {
			t.Fatalf("anonymous: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
	})

	t.Run("security headers", func(t *testing.T) {
		c := pageClient(t)
		req, _ := http.NewRequest(http.MethodGet, gw.URL+"/login", nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		csp := resp.Header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'", "object-src 'none'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("CSP %q lacks %q", csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || resp.Header.Get("X-Frame-Options") != "DENY" || resp.Header.Get("Referrer-Policy") == "" {
			t.Errorf("headers: %v", resp.Header)
		}
	})

	t.Run("stale csrf", func(t *testing.T) {
		c := pageClient(t)
		pageLogin(t, c, gw.URL, "fiorentina")
		resp, body := pagePost(t, c, gw.URL+"/inbox/contacts/"+r.ContactID+"/reply", url.Values{"csrf": {"stale-token-from-yesterday-0123456789abcdef"}, "body": {"ciao"}})
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "Il modulo è scaduto") {
			t.Fatalf("stale csrf: %d %s", resp.StatusCode, body)
		}
		resp, _ = pagePost(t, c, gw.URL+"/inbox/contacts/"+r.ContactID+"/reply", url.Values{"body": {"ciao"}})
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("missing csrf: %d", resp.StatusCode)
		}
		n, err := gw.G.Store.CountMessages(bg, "outbound")
		if err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Fatalf("a refused form still sent %d messages", n)
		}
	})

	t.Run("scope", func(t *testing.T) {
		c := pageClient(t)
		pageLogin(t, c, gw.URL, "empolese")
		code, body, tok := pageGet(t, c, gw.URL+"/inbox/contacts/"+r.ContactID)
		if code != http.StatusNotFound || !strings.Contains(body, "non è tra i comuni che puoi vedere") {
			t.Fatalf("out of scope contact: %d", code)
		}
		_, list, _ := pageGet(t, c, gw.URL+"/inbox")
		if strings.Contains(list, "Permesso ZTL") {
			t.Fatal("the list shows a contact outside the operator's comuni")
		}
		ct, err := gw.G.Store.GetContact(bg, r.ContactID, store.Scope{})
		if err != nil {
			t.Fatal(err)
		}
		if code, _, _ := pageGet(t, c, gw.URL+"/inbox/citizens/"+ct.Citizen.ID); code != http.StatusNotFound {
			t.Fatalf("out of scope citizen: %d", code)
		}
		resp, _ := pagePost(t, c, gw.URL+"/inbox/contacts/"+r.ContactID+"/reply", url.Values{"csrf": {tok}, "body": {"ciao"}})
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("reply out of scope: %d", resp.StatusCode)
		}
		if code, _, _ := pageGet(t, c, gw.URL+"/inbox/queues"); code != http.StatusForbidden {
			t.Fatalf("operator on the supervisors' queues: %d", code)
		}
	})

	t.Run("live events are scoped", func(t *testing.T) {
		c := pageClient(t)
		pageLogin(t, c, gw.URL, "empolese")
		ctx, cancel := context.WithTimeout(bg, 15*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, gw.URL+"/inbox/events", nil)
		req.Header.Set("Accept", "text/event-stream")
		resp, err := (&http.Client{Jar: c.Jar}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
			t.Fatalf("events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		lines := make(chan string, 64)
		go func() {
			sc := bufio.NewScanner(resp.Body)
			sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		for l := range lines { // the stream is open once its greeting arrives
			if l == ": connected" {
				break
			}
		}
		gw.postSMS(t, "SM"+strings.Repeat("c", 32), "+393470000002", "+390552768000", "Segnalazione da Firenze")
		gw.postSMS(t, "SM"+strings.Repeat("d", 32), "+393470000003", "+39057175761", "Segnalazione da Empoli")
		for l := range lines {
			if strings.Contains(l, "Segnalazione da Firenze") {
				t.Fatal("an Empoli operator was sent a Firenze contact")
			}
			if strings.HasPrefix(l, "data: ") && strings.Contains(l, "Segnalazione da Empoli") {
				var ev struct {
					Contact struct {
						ID     string `json:"id"`
						Comune string `json:"comune"`
					} `json:"contact"`
					Row struct {
						URL string `json:"url"`
					} `json:"row"`
				}
				if err := json.Unmarshal([]byte(strings.TrimPrefix(l, "data: ")), &ev); err != nil {
					t.Fatal(err)
				}
				if ev.Contact.Comune != "empoli" || ev.Row.URL != "/inbox/contacts/"+ev.Contact.ID {
					t.Fatalf("event: %+v", ev)
				}
				return
			}
		}
		t.Fatal("the Empoli contact never came on the stream")
	})

	t.Run("desk refusal is shown", func(t *testing.T) {
		c := pageClient(t)
		pageLogin(t, c, gw.URL, "fiorentina")
		_, _, tok := pageGet(t, c, gw.URL+"/inbox/contacts/"+r.ContactID)
		resp, body := pagePost(t, c, gw.URL+"/inbox/contacts/"+r.ContactID+"/resolve", url.Values{"csrf": {tok}, "outcome": {"forwarded_email"}, "office": {"nessuno"}})
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `id="resolve-error"`) {
			t.Fatalf("resolve with an unknown office: %d", resp.StatusCode)
		}
		ct, _ := gw.G.Store.GetContact(bg, r.ContactID, store.Scope{})
		if ct.Status == channels.StatusResolved {
			t.Fatal("a refused resolve resolved the contact")
		}
		resp, body = pagePost(t, c, gw.URL+"/inbox/contacts/"+r.ContactID+"/reply", url.Values{"csrf": {tok}, "body": {"   "}})
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `id="reply-error"`) {
			t.Fatalf("empty reply: %d", resp.StatusCode)
		}
		resp, body = pagePost(t, c, gw.URL+"/inbox/citizens/"+ct.Citizen.ID+"/merge", url.Values{"csrf": {tok}, "citizen_id": {ct.Citizen.ID}})
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "non può essere unito a se stesso") {
			t.Fatalf("self merge: %d", resp.StatusCode)
		}
		resp, body = pagePost(t, c, gw.URL+"/inbox/citizens/"+ct.Citizen.ID+"/merge", url.Values{"csrf": {tok}, "citizen_id": {"nessuno-così"}})
		if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, `role="alert"`) {
			t.Fatalf("merge of an unknown citizen: %d", resp.StatusCode)
		}
		gone, err := gw.G.Ingest.Receive(bg, channels.InboundMessage{Channel: channels.Email, ExternalID: "e2@example.org", MessageID: "e2@example.org",
			From: "b@example.org", To: "urp@comune.fi.it", Comune: "firenze", Subject: "Cancellatemi", Body: "art. 17", ReceivedAt: time.Now().UTC()})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := gw.G.Store.EraseCitizen(bg, gone.CitizenID, store.Scope{}, "admin", "art. 17"); err != nil {
			t.Fatal(err)
		}
		resp, body = pagePost(t, c, gw.URL+"/inbox/citizens/"+ct.Citizen.ID+"/merge", url.Values{"csrf": {tok}, "citizen_id": {gone.CitizenID}})
		if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "è stato cancellato: non è stato unito nulla") {
			t.Fatalf("merge of an erased citizen: %d", resp.StatusCode)
		}
	})

	t.Run("login rate limit", func(t *testing.T) {
		c := pageClient(t)
		_, _, tok := pageGet(t, c, gw.URL+"/login")
		gw.user(t, "bersaglio", store.RoleOperator)
		for i := 0; i < 5; i++ {
			resp, body := pagePost(t, c, gw.URL+"/login", url.Values{"csrf": {tok}, "username": {"Bersaglio"}, "password": {"sbagliata"}})
			if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "non validi") {
				t.Fatalf("failure %d: %d", i+1, resp.StatusCode)
			}
		}
		resp, body := pagePost(t, c, gw.URL+"/login", url.Values{"csrf": {tok}, "username": {"bersaglio"}, "password": {browserPassword}})
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" || !strings.Contains(body, "Troppi tentativi") {
			t.Fatalf("6th attempt: %d %q", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
		// Another username from the same address is not locked out.
		resp, _ = pagePost(t, c, gw.URL+"/login", url.Values{"csrf": {tok}, "username": {"fiorentina"}, "password": {browserPassword}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("other user: %d", resp.StatusCode)
		}
	})

	t.Run("deleted user", func(t *testing.T) {
		gw.user(t, "temporaneo", store.RoleOperator)
		c := pageClient(t)
		pageLogin(t, c, gw.URL, "temporaneo")
		if code, _, _ := pageGet(t, c, gw.URL+"/inbox"); code != http.StatusOK {
			t.Fatalf("before delete: %d", code)
		}
		if err := gw.G.Store.DeleteUser(bg, "temporaneo"); err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest(http.MethodGet, gw.URL+"/inbox", nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
			t.Fatalf("deleted user's session: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
	})

	t.Run("logout ends presence", func(t *testing.T) {
		gw.user(t, "uscente", store.RoleOperator)
		other := pageClient(t)
		pageLogin(t, other, gw.URL, "uscente")
		c := pageClient(t)
		pageLogin(t, c, gw.URL, "uscente")
		_, _, tok := pageGet(t, c, gw.URL+"/inbox")
		if resp, _ := pagePost(t, c, gw.URL+"/inbox/presence", url.Values{"csrf": {tok}, "status": {"available"}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("presence: %d", resp.StatusCode)
		}
		if u, _ := gw.G.Store.UserByUsername(bg, "uscente"); u.Presence != "available" {
			t.Fatalf("presence after switch = %q", u.Presence)
		}
		if resp, _ := pagePost(t, c, gw.URL+"/logout", url.Values{"csrf": {tok}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("logout: %d", resp.StatusCode)
		}
		if u, _ := gw.G.Store.UserByUsername(bg, "uscente"); u.Presence != "available" {
			t.Fatalf("presence after logging out of one of two sessions = %q", u.Presence)
		}
		_, _, otherTok := pageGet(t, other, gw.URL+"/inbox")
		if resp, _ := pagePost(t, other, gw.URL+"/logout", url.Values{"csrf": {otherTok}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("second logout: %d", resp.StatusCode)
		}
		if u, _ := gw.G.Store.UserByUsername(bg, "uscente"); u.Presence != "offline" {
			t.Fatalf("presence after the last logout = %q", u.Presence)
		}
		if code, _, _ := pageGet(t, c, gw.URL+"/inbox"); code != http.StatusSeeOther {
			t.Fatalf("after logout: %d", code)
		}
	})
}

// browserTestPNG is a small image standing in for a fax page's preview.
func browserTestPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, 40, 56))
	for y := 0; y < 56; y++ {
		for x := 0; x < 40; x++ {
			if (x/4+y/4)%2 == 0 {
				img.SetGray(x, y, color.Gray{Y: 255})
			}
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
