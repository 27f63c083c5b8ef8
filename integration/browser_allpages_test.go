package integration

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/integration/harness"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/alertstore"
)

// browserAxePage is one page the gateway serves, checked by axe-core in TestBrowserAxeEveryPage.
type browserAxePage struct {
	Name string
	// Path may hold {sms}, {email}, {fax}, {call}, {cti}, {citizen}, {alert}: the ids of what
	// the test seeds (browserAxeSeed).
	Path string
	// As is who looks: "" anonymous, else a username the test created (browserAxeUsers).
	As string
	// Ready is a CSS selector present once the page is drawn.
	Ready string
	// MinPasses is how many axe rules must pass for the check to count (0: 10); only the
	// smallest pages need fewer.
	MinPasses int
	// Then, when set, brings the page to a state worth checking (a refused form, a live
	// update) after it is ready.
	Then func(t *testing.T, ctx context.Context, gw *harness.Gateway)
}

// browserAxePages is every page of the gateway, as the people who see it. A new page gets a
// line here (and the seed what it needs): WCAG 2.1 AA is required of every page (AgID, EN 301 549).
var browserAxePages = []browserAxePage{
	axePage("login", "/login", "", "#username"),
	axePage("login (English)", "/login?lang=en", "", "#username"),
	axePage("login refused", "/login?lang=it", "", "#username").then(browserAxeFailedLogin),
	axePage("accessibility statement, anonymous", "/accessibilita", "", "#a11y-status"),
	axePage("accessibility statement (English)", "/accessibilita?lang=en", "", "#a11y-status"),
	axePage("not found, anonymous (outside the pages)", "/nope", "", "main h1").minPasses(6),
	axePage("login back in Italian", "/login?lang=it", "", "#username"),

	axePage("inbox", "/inbox", "operatrice", "#contact-rows"),
	axePage("inbox: a contact arrives live", "/inbox", "operatrice", "#contact-rows").then(browserAxeLiveContact),
	axePage("inbox filtered", "/inbox?channel=email&status=open&q=multa", "operatrice", "main h1"),
	axePage("assigned to me", "/inbox?assignee=me", "operatrice", "main h1"),
	axePage("contact: SMS", "/inbox/contacts/{sms}", "operatrice", "#reply-body"),
	axePage("contact: SMS, resolve dialog", "/inbox/contacts/{sms}?resolve=1", "operatrice", "#resolve-dialog"),
	axePage("contact: email", "/inbox/contacts/{email}", "operatrice", ".messages"),
	axePage("contact: fax", "/inbox/contacts/{fax}", "operatrice", ".attachments"),
	axePage("contact: call (Twilio)", "/inbox/contacts/{call}", "operatrice", ".call-summary"),
	axePage("contact: call (CTI)", "/inbox/contacts/{cti}", "operatrice", ".messages"),
	axePage("citizen", "/inbox/citizens/{citizen}", "operatrice", "table.contacts"),
	axePage("citizen: merge refused", "/inbox/citizens/{citizen}", "operatrice", "#merge-id").then(browserAxeRefusedMerge),
	axePage("forbidden (operator on reports)", "/supervisor/reports", "operatrice", "#problem"),
	axePage("not found (contact)", "/inbox/contacts/01a22aa5-0000-7000-8000-000000000000", "operatrice", "#problem"),
	axePage("method not allowed", "/inbox/presence", "operatrice", "main h1").minPasses(6),
	axePage("accessibility statement, signed in", "/accessibilita", "operatrice", "#a11y-status"),

	axePage("queues", "/inbox/queues", "capo", "#queue-rows"),
	axePage("outbox", "/inbox/outbox", "capo", "#outbox"),
	axePage("alerts: list and compose", "/supervisor/alerts", "capo", "#alert-message"),
	axePage("alerts: detail", "/supervisor/alerts/{alert}", "capo", "#alert-detail"),
	axePage("reports", "/supervisor/reports", "capo", "#chart-days"),
	axePage("wallboard", "/supervisor/wallboard", "capo", "#wallboard-queues"),
	axePage("audit log", "/admin/audit", "capo", "#audit-rows"),
	axePage("audit log filtered", "/admin/audit?action=reply&from=2000-01-01&to=2100-01-01", "capo", "#audit-rows"),
	axePage("audit log, refused filter", "/admin/audit?from=ieri", "capo", "#audit-filters"),
	axePage("citizen with consents (admin)", "/inbox/citizens/{citizen}", "capo", "#consents"),
	axePage("contact in English", "/inbox/contacts/{sms}?lang=en", "capo", "#reply-body"),
	axePage("audit log in English", "/admin/audit?lang=en", "capo", "#audit-rows"),
	axePage("people", "/admin/users", "capo", "#people"),
	axePage("API keys", "/admin/keys", "capo", "#keys"),
	axePage("own account", "/account", "capo", "#password-form"),
	axePage("canned answers", "/admin/canned", "capo", "#canned-rows"),
	axePage("business hours", "/admin/hours", "capo", "main h1"),
	axePage("help", "/aiuto", "capo", "#shortcuts"),
	axePage("back in Italian", "/inbox?lang=it", "capo", "#contact-rows"),
}

// axePage is a row of browserAxePages: a page checked once it is ready.
func axePage(name, path, as, ready string) browserAxePage {
	return browserAxePage{Name: name, Path: path, As: as, Ready: ready}
}

// minPasses lowers the count of passing rules that makes the check count (tiny pages).
func (p browserAxePage) minPasses(n int) browserAxePage { p.MinPasses = n; return p }

// then runs f once the page is ready and before axe checks it.
func (p browserAxePage) then(f func(t *testing.T, ctx context.Context, gw *harness.Gateway)) browserAxePage {
	p.Then = f
	return p
}

// browserAxeUsers are the people of browserAxePages, by username: their role and comuni.
var browserAxeUsers = map[string]string{"operatrice": store.RoleOperator, "capo": store.RoleAdmin}

// TestBrowserAxeEveryPage opens every page in browserAxePages in headless chromium, as the
// user the table names, and runs axe-core on it: no serious or critical WCAG 2.1 A/AA
// violation on any page.
func TestBrowserAxeEveryPage(t *testing.T) {
	gw := harness.Start(t, harness.Options{Dialect: store.SQLite})
	tokens := map[string]string{}
	for name, role := range browserAxeUsers {
		tokens[name] = gw.User(t, name, role)
	}
	ids := browserAxeSeed(t, gw, tokens["capo"])
	ctx := newBrowser(t)
	if ctx == nil {
		return
	}
	who := ""
	for _, p := range browserAxePages {
		if p.As != who {
			browserAxeSignIn(t, ctx, gw.URL, who, p.As)
			who = p.As
		}
		path := p.Path
		for k, v := range ids {
			path = strings.ReplaceAll(path, "{"+k+"}", v)
		}
		browserStep(t, ctx, p.Name+": open "+path, chromedp.Navigate(gw.URL+path))
		browserWait(t, ctx, p.Name+": ready", `document.readyState === "complete" && document.querySelector(`+jsString(p.Ready)+`)`, 20*time.Second)
		min := p.MinPasses
		if min == 0 {
			min = 10
		}
		if p.Then != nil {
			p.Then(t, ctx, gw)
		}
		browserCheckA11yMin(t, ctx, p.Name, min)
	}
}

// browserAxeSignIn logs out whoever is in and logs the next user in ("" stays anonymous).
func browserAxeSignIn(t *testing.T, ctx context.Context, base, from, to string) {
	t.Helper()
	if from != "" {
		browserStep(t, ctx, "log out "+from, chromedp.Navigate(base+"/inbox"), chromedp.WaitVisible(chromedp.CSS(`form[action="/logout"] button`)),
			chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)), chromedp.WaitVisible(chromedp.ID("username")))
	}
	if to == "" {
		return
	}
	browserStep(t, ctx, "log in "+to, chromedp.Navigate(base+"/login"), chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SetValue(chromedp.ID("username"), to), chromedp.SetValue(chromedp.ID("password"), "password-"+to),
		chromedp.Submit(chromedp.ID("password")))
	browserWait(t, ctx, "signed in as "+to, `location.pathname === "/inbox" && document.querySelector("#contact-rows, .empty")`, 20*time.Second)
}

// browserAxeSeed makes one contact of each channel, a citizen with consents, an outbox
// message, an alert and some audit entries, and returns their ids for the paths.
func browserAxeSeed(t *testing.T, gw *harness.Gateway, admin string) map[string]string {
	t.Helper()
	bg := context.Background()
	ids := map[string]string{}
	const mobile = "+393471234567"
	if resp, body := harness.PostTwilio(t, gw.URL, "/webhooks/twilio/sms", harness.SMSForm("SM"+strings.Repeat("c", 32), mobile, firenzeNumber, "Domani c'è il blocco del traffico?")); resp.StatusCode != 200 {
		t.Fatalf("sms: %d %s", resp.StatusCode, body)
	}
	sms := newestContact(t, gw, admin, mobile)
	ids["sms"], ids["citizen"] = sms.ID, sms.Citizen.ID

	em, err := gw.G.Ingest.Receive(bg, channels.InboundMessage{Channel: channels.Email, ExternalID: "axe-1@example.org", MessageID: "axe-1@example.org",
		From: "maria.rossi@example.org", FromName: "Maria Rossi", To: "urp@comune.fi.it", Comune: "firenze", Subject: "Multa in via Roma",
		Body: "Buongiorno,\nho ricevuto una multa che non mi spetta.\nCordiali saluti", ReceivedAt: time.Now().UTC(),
		Attachments: []channels.Attachment{{Filename: "verbale.txt", ContentType: "text/plain", Data: []byte("verbale n. 123")}}})
	if err != nil {
		t.Fatal(err)
	}
	ids["email"] = em.ContactID
	// Without an email relay the reply lands in the outbox: the outbox page has a row.
	if st := harness.API(t, "POST", gw.URL+"/api/v1/contacts/"+em.ContactID+"/reply", admin, map[string]string{"body": "Gentile signora, verifichiamo."}, nil); st != 200 && st != 201 && st != 202 {
		t.Fatalf("email reply: %d", st)
	}

	fx, err := gw.G.Ingest.Receive(bg, channels.InboundMessage{Channel: channels.Fax, ExternalID: "axe-fax@fax.example", From: "+390551234567",
		To: "urp@comune.fi.it", Comune: "firenze", Subject: "Fax da +39 055 1234567", ReceivedAt: time.Now().UTC(),
		Attachments: []channels.Attachment{{Filename: "fax.tif", ContentType: "image/tiff", Data: []byte("II*\x00 not really a tiff")}}})
	if err != nil {
		t.Fatal(err)
	}
	ids["fax"] = fx.ContactID

	const caller = "+390557654321"
	if resp, body := harness.PostTwilio(t, gw.URL, "/webhooks/twilio/voice", harness.CallForm("CA"+strings.Repeat("c", 32), caller, firenzeNumber, "ringing")); resp.StatusCode != 200 {
		t.Fatalf("voice: %d %s", resp.StatusCode, body)
	}
	form := harness.CallForm("CA"+strings.Repeat("c", 32), caller, firenzeNumber, "completed")
	form.Set("CallDuration", "117")
	if resp, body := harness.PostTwilio(t, gw.URL, "/webhooks/twilio/voice/status", form); resp.StatusCode != 200 {
		t.Fatalf("voice status: %d %s", resp.StatusCode, body)
	}
	ids["call"] = newestContact(t, gw, admin, caller).ID
	ids["cti"] = ctiEvent(t, gw, map[string]string{"event": "newCall", "callId": "AXE1", "from": "+393470000001", "to": firenzeNumber})

	// Consents of the SMS citizen's number: a subscription, its confirmation, a STOP.
	as := alertstore.New(gw.G.Store)
	if err := gw.G.Store.Write(bg, func(ctx context.Context, tx *store.Tx) error {
		return alertstore.SubscribeByCitizen(ctx, tx, "firenze", mobile, []string{"traffico"}, "it", alertstore.ConsentActor{Via: alertstore.ViaSMS, Actor: mobile})
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := as.ImportSubscribers(bg, "firenze", []alertstore.ImportRow{{Phone: "+393470000002"}}, nil, alertstore.ConsentActor{Via: alertstore.ViaImport, Actor: "iscritti.csv"}); err != nil {
		t.Fatal(err)
	}
	code, out := alertCall(t, "POST", gw.URL+"/api/v1/alerts", alertKey(t, gw, "firenze"), map[string]any{"category": "blocco-traffico", "message": "Domani blocco del traffico dalle 8 alle 20"}, "")
	if code != 202 {
		t.Fatalf("alert: %d %v", code, out)
	}
	ids["alert"], _ = out["id"].(string)
	return ids
}

// browserAxeFailedLogin submits a wrong password: the form comes back with its message.
func browserAxeFailedLogin(t *testing.T, ctx context.Context, _ *harness.Gateway) {
	browserStep(t, ctx, "a wrong password", chromedp.SetValue(chromedp.ID("username"), "operatrice"),
		chromedp.SetValue(chromedp.ID("password"), "sbagliata-davvero"), chromedp.Submit(chromedp.ID("password")))
	browserWait(t, ctx, "the refusal", `document.readyState === "complete" && document.querySelector(".flash.bad")`, 20*time.Second)
}

// browserAxeRefusedMerge asks to merge a citizen that does not exist: the page shows why.
func browserAxeRefusedMerge(t *testing.T, ctx context.Context, _ *harness.Gateway) {
	browserStep(t, ctx, "merge with nobody", chromedp.SetValue(chromedp.ID("merge-id"), "01a22aa5-0000-7000-8000-000000000000"),
		chromedp.Submit(chromedp.ID("merge-id")))
	browserWait(t, ctx, "the refusal", `document.readyState === "complete" && document.querySelector(".flash.bad")`, 20*time.Second)
}

// browserAxeLiveContact sends an SMS while the inbox is open: the row the script adds is checked too.
func browserAxeLiveContact(t *testing.T, ctx context.Context, gw *harness.Gateway) {
	browserWait(t, ctx, "live stream connected", `document.body.getAttribute("data-live") === "on"`, 20*time.Second)
	if resp, body := harness.PostTwilio(t, gw.URL, "/webhooks/twilio/sms", harness.SMSForm("SM"+strings.Repeat("9", 32), "+393479876543", firenzeNumber, "Arrivato dal vivo")); resp.StatusCode != 200 {
		t.Fatalf("sms: %d %s", resp.StatusCode, body)
	}
	browserWait(t, ctx, "the live row", `Array.from(document.querySelectorAll("#contact-rows tr")).some(r => r.textContent.includes("Arrivato dal vivo"))`, 20*time.Second)
}

// TestBrowserReflow320 opens every page of browserAxePages 320 CSS pixels wide (WCAG 1.4.10,
// reflow): the page itself never scrolls sideways, wide tables scroll inside their own box,
// and axe finds nothing serious at that width either.
func TestBrowserReflow320(t *testing.T) {
	gw := harness.Start(t, harness.Options{Dialect: store.SQLite})
	tokens := map[string]string{}
	for name, role := range browserAxeUsers {
		tokens[name] = gw.User(t, name, role)
	}
	ids := browserAxeSeed(t, gw, tokens["capo"])
	ctx := newBrowser(t)
	if ctx == nil {
		return
	}
	browserStep(t, ctx, "a narrow window", chromedp.EmulateViewport(320, 640))
	who := ""
	for _, p := range browserAxePages {
		if p.Then != nil {
			continue
		}
		if p.As != who {
			browserAxeSignIn(t, ctx, gw.URL, who, p.As)
			who = p.As
		}
		path := p.Path
		for k, v := range ids {
			path = strings.ReplaceAll(path, "{"+k+"}", v)
		}
		browserStep(t, ctx, p.Name+": open "+path, chromedp.Navigate(gw.URL+path))
		browserWait(t, ctx, p.Name+": ready", `document.readyState === "complete" && document.querySelector(`+jsString(p.Ready)+`)`, 20*time.Second)
		over := browserEval[string](t, ctx, `(() => {
			const d = document.documentElement;
			if (d.scrollWidth <= d.clientWidth + 1) { return ""; }
			const wide = Array.from(document.querySelectorAll("body *")).filter(e => {
				const r = e.getBoundingClientRect();
				return r.right > d.clientWidth + 1 && !e.closest(".tablewrap") && getComputedStyle(e).position !== "fixed";
			}).slice(0, 5).map(e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (e.className ? "." + String(e.className).replace(/ /g, ".") : "") + " right=" + Math.round(e.getBoundingClientRect().right));
			return d.scrollWidth + "px wide: " + wide.join(", ");
		})()`)
		if over != "" {
			t.Errorf("%s scrolls sideways at 320 px: %s", p.Name, over)
		}
		// Narrow, tables scroll in their boxes: axe checks those can be scrolled by keyboard.
		min := p.MinPasses
		if min == 0 {
			min = 10
		}
		browserCheckA11yMin(t, ctx, p.Name+" at 320 px", min)
	}
}
