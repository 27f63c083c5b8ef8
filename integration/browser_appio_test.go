package integration

import (
	"context"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/integration/appioemu"
	"github.com/sportello/sportello/integration/harness"
	"github.com/sportello/sportello/store"
)

// TestBrowserAppIOFiscalCodeAndReply: on the citizen's page an operator adds a fiscal code (a
// wrong check character is refused with the reason, the text kept); the contact page then
// offers App IO as the reply channel, and the reply reaches the App IO emulator. axe-core
// checks both pages.
func TestBrowserAppIOFiscalCodeAndReply(t *testing.T) {
	ctx := newBrowser(t)
	if ctx == nil {
		return
	}
	io := appioemu.New(appioemu.Options{Services: map[string]string{"k-firenze": "firenze"}})
	io.AddProfile(cfAllowed)
	ioSrv := httptest.NewServer(io)
	t.Cleanup(ioSrv.Close)
	t.Setenv("SPORTELLO_APP_IO_KEY_FIRENZE", "k-firenze")
	sink := startBrowserMailSink(t)
	yaml := strings.Replace(browserYAML, "relay: %q", "relay: "+strconv.Quote(sink.Addr), 1)
	yaml = strings.Replace(yaml, "data_dir: %q", "data_dir: %q\ndatabase_url: %q", 1)
	yaml += "app_io:\n  base_url: " + ioSrv.URL + "\n  status_every: 200ms\n"
	hg := harness.Start(t, harness.Options{Replace: yaml})
	gw := &browserGateway{G: hg.G, URL: hg.URL, Mail: sink}
	gw.user(t, "operatrice", store.RoleOperator)
	rcpt, err := gw.G.Ingest.Receive(context.Background(), channels.InboundMessage{Channel: channels.SMS, ExternalID: "SMappio1",
		From: "+393471234567", To: "+390552768000", Body: "Quando riapre l'anagrafe?", ReceivedAt: time.Now().UTC()})
	if err != nil {
		t.Fatal(err)
	}
	browserStep(t, ctx, "open login", chromedp.Navigate(gw.URL+"/login"), chromedp.WaitVisible(chromedp.ID("username")))
	browserStep(t, ctx, "log in",
		chromedp.SetValue(chromedp.ID("username"), "operatrice"), chromedp.SetValue(chromedp.ID("password"), browserPassword),
		chromedp.Submit(chromedp.ID("password")), chromedp.WaitVisible(chromedp.ID("contact-rows")))

	// Before a fiscal code the contact page offers no App IO choice.
	browserStep(t, ctx, "open contact", chromedp.Navigate(gw.URL+"/inbox/contacts/"+rcpt.ContactID), chromedp.WaitVisible(chromedp.ID("reply-body")))
	if n := browserEval[int](t, ctx, `document.querySelectorAll("input[name=channel]").length`); n != 0 {
		t.Errorf("App IO offered for a citizen without a fiscal code (%d radios)", n)
	}

	browserStep(t, ctx, "open citizen", chromedp.Navigate(gw.URL+"/inbox/citizens/"+rcpt.CitizenID), chromedp.WaitVisible(chromedp.ID("fiscal-code")))
	browserCheckA11y(t, ctx, "citizen with the fiscal code form")
	browserStep(t, ctx, "a wrong check character",
		chromedp.SendKeys(chromedp.ID("fiscal-code"), "RSSMRA85T10A562T"), chromedp.Submit(chromedp.ID("fiscal-code")),
		chromedp.WaitVisible(chromedp.CSS(".flash.bad")))
	if msg := browserEval[string](t, ctx, `document.querySelector(".flash.bad").textContent`); !strings.Contains(msg, "non è valido") {
		t.Errorf("the refusal says %q", msg)
	}
	if v := browserEval[string](t, ctx, `document.getElementById("fiscal-code").value`); v != "RSSMRA85T10A562T" {
		t.Errorf("the typed code was not kept: %q", v)
	}
	browserCheckA11y(t, ctx, "citizen with a refused fiscal code")
	browserEval[chromedp.Void](t, ctx, `document.getElementById("fiscal-code").value = ""`)
	browserStep(t, ctx, "the right code",
		chromedp.SendKeys(chromedp.ID("fiscal-code"), "rssmra85t10a562s"), chromedp.Submit(chromedp.ID("fiscal-code")))
	browserWait(t, ctx, "fiscal code added", `location.search.includes("done=fiscal_code") && document.readyState === "complete"`, 10*time.Second)
	if ids := browserEval[string](t, ctx, `document.getElementById("ids-h").parentElement.textContent`); !strings.Contains(ids, "Codice fiscale") || !strings.Contains(ids, cfAllowed) {
		t.Errorf("the identities do not show the fiscal code: %q", ids)
	}
	if n := browserEval[int](t, ctx, `document.querySelectorAll("#fiscal-code").length`); n != 0 {
		t.Error("the form is still offered to a citizen who has a fiscal code")
	}

	browserStep(t, ctx, "open contact again", chromedp.Navigate(gw.URL+"/inbox/contacts/"+rcpt.ContactID), chromedp.WaitVisible(chromedp.ID("reply-body")))
	browserCheckA11y(t, ctx, "contact with the App IO choice")
	reply := "L'anagrafe riapre lunedì alle 8:30."
	browserStep(t, ctx, "reply by App IO", chromedp.Click(chromedp.CSS(`input[name=channel][value=app_io]`)),
		chromedp.SendKeys(chromedp.ID("reply-body"), reply), chromedp.Submit(chromedp.ID("reply-body")))
	browserWait(t, ctx, "replied page", `location.search.includes("done=replied") && document.readyState === "complete"`, 10*time.Second)
	deadline := time.Now().Add(30 * time.Second)
	for len(io.Messages()) == 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	msgs := io.Messages()
	if len(msgs) != 1 || msgs[0].FiscalCode != cfAllowed || !strings.Contains(msgs[0].Markdown, "riapre lunedì alle 8:30") {
		t.Fatalf("App IO got %+v", msgs)
	}
	browserScreenshot(t, ctx, "contact-app-io-reply")
}
