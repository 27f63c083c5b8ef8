package integration

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/events"
	"github.com/sportello/sportello/store"
)

// TestCitizenPageEraseForm: the citizen page offers export and erasure to admins only; the form
// refuses without a reason or the confirmation (nothing erased, the page says why) and erases
// with both. Without a browser: the forms as a browser posts them.
func TestCitizenPageEraseForm(t *testing.T) {
	gw := startBrowserGateway(t)
	gw.user(t, "dpo", store.RoleAdmin)
	gw.user(t, "operatrice", store.RoleOperator)
	r, err := gw.G.Ingest.Receive(context.Background(), channels.InboundMessage{Channel: channels.SMS, ExternalID: "SMpage1",
		From: gdprPhone, To: "+390552768000", Comune: "firenze", Body: gdprSMS, ReceivedAt: time.Now().UTC()})
	if err != nil {
		t.Fatal(err)
	}
	page := gw.URL + "/inbox/citizens/" + r.CitizenID

	op := pageClient(t)
	pageLogin(t, op, gw.URL, "operatrice")
	if code, body, _ := pageGet(t, op, page); code != 200 || strings.Contains(body, "erase-form") || strings.Contains(body, "/export") {
		t.Fatalf("operator's citizen page: %d, offers export or erasure", code)
	}
	_, _, tok := pageGet(t, op, page)
	if resp, _ := pagePost(t, op, page+"/erase", url.Values{"csrf": {tok}, "reason": {"x"}, "confirm": {"1"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("operator's erasure: %d, want 403", resp.StatusCode)
	}

	adm := pageClient(t)
	pageLogin(t, adm, gw.URL, "dpo")
	code, body, tok := pageGet(t, adm, page)
	if code != 200 || !strings.Contains(body, `id="erase-form"`) || !strings.Contains(body, `href="/api/v1/citizens/`+r.CitizenID+`/export"`) {
		t.Fatalf("admin's citizen page: %d\n%s", code, body)
	}
	// The export button works with the page's session.
	req, _ := http.NewRequest(http.MethodGet, gw.URL+"/api/v1/citizens/"+r.CitizenID+"/export", nil)
	resp, err := adm.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/zip" {
		t.Fatalf("export from the page's session: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, c := range []struct {
		form url.Values
		want string
	}{
		{url.Values{"reason": {"  "}, "confirm": {"1"}}, "Indica il motivo"},
		{url.Values{"reason": {"richiesta scritta"}}, "Spunta la conferma"},
	} {
		c.form.Set("csrf", tok)
		resp, body := pagePost(t, adm, page+"/erase", c.form)
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, c.want) || !strings.Contains(body, "Brunelleschiana") {
			t.Fatalf("refused erasure %v: %d, want 422 with %q and the data intact", c.form, resp.StatusCode, c.want)
		}
	}
	// Open inboxes hear that the contact changed (they reload it, and the erased text goes).
	evs, unsubscribe := gw.G.Hub.Subscribe(64)
	defer unsubscribe()
	resp, _ = pagePost(t, adm, page+"/erase", url.Values{"csrf": {tok}, "reason": {"richiesta scritta del 30/11"}, "confirm": {"1"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/inbox/citizens/"+r.CitizenID+"?done=erased" {
		t.Fatalf("erasure: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	announced := false
	for wait := time.After(10 * time.Second); !announced; {
		select {
		case e := <-evs:
			announced = e.Type == events.ContactUpdated && e.ContactID == r.ContactID
		case <-wait:
			t.Fatal("no contact.updated event for the erased contact within 10s")
		}
	}
	_, body, _ = pageGet(t, adm, page+"?done=erased")
	if !strings.Contains(body, "Dati del cittadino cancellati") || !strings.Contains(body, "sono stati cancellati il") || strings.Contains(body, `id="erase-form"`) {
		t.Fatalf("page after erasure:\n%s", body)
	}
	assertNoErased(t, "citizen page after erasure", []byte(body))
}

// TestBrowserCitizenPageGDPR: in Chromium, the admin's citizen page passes axe with its export
// and erasure forms, and the erasure is done by keyboard alone (Tab to the reason, type, Tab to
// the confirmation, Space, Tab to the button, Enter).
func TestBrowserCitizenPageGDPR(t *testing.T) {
	ctx := newBrowser(t)
	if ctx == nil {
		return
	}
	gw := startBrowserGateway(t)
	gw.user(t, "dpo", store.RoleAdmin)
	r, err := gw.G.Ingest.Receive(context.Background(), channels.InboundMessage{Channel: channels.SMS, ExternalID: "SMpage2",
		From: gdprPhone, To: "+390552768000", Comune: "firenze", Body: gdprSMS, ReceivedAt: time.Now().UTC()})
	if err != nil {
		t.Fatal(err)
	}
	browserStep(t, ctx, "log in", chromedp.Navigate(gw.URL+"/login"), chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SetValue(chromedp.ID("username"), "dpo"), chromedp.SetValue(chromedp.ID("password"), browserPassword),
		chromedp.Submit(chromedp.ID("password")), chromedp.WaitVisible(chromedp.ID("contact-rows")))
	browserStep(t, ctx, "citizen page", chromedp.Navigate(gw.URL+"/inbox/citizens/"+r.CitizenID), chromedp.WaitVisible(chromedp.ID("erase-form")))
	browserCheckA11y(t, ctx, "citizen page (admin)")
	browserStep(t, ctx, "focus the export link", chromedp.Focus(chromedp.ID("citizen-export")))
	browserStep(t, ctx, "erase by keyboard",
		chromedp.KeyEvent("\t"), chromedp.KeyEvent("richiesta dell'interessato"),
		chromedp.KeyEvent("\t"), chromedp.KeyEvent(" "), chromedp.KeyEvent("\t"), chromedp.KeyEvent("\r"))
	// The new location is there as soon as the answer's document is committed, before its body
	// is parsed: CI once read an empty body here.
	browserWait(t, ctx, "erased", `location.search === "?done=erased" && document.readyState === "complete"`, 10*time.Second)
	text := browserEval[string](t, ctx, `document.body.textContent`)
	if !strings.Contains(text, "Dati del cittadino cancellati") || strings.Contains(text, gdprPhone) || strings.Contains(text, "Brunelleschiana") {
		t.Fatalf("page after the keyboard erasure: %s", text)
	}
	browserCheckA11y(t, ctx, "citizen page after erasure")
}
