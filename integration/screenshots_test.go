package integration

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sportello/sportello/adapters/twilio"
	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/integration/harness"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/alertstore"
)

// screenshotDir is where the documentation's screenshots live (docs/screenshots.md).
const screenshotDir = "../docs/screenshots"

// TestScreenshots refreshes docs/screenshots/ at 1400×900 in headless chromium, in Italian:
// the inbox, a contact of each channel (SMS, call, email, fax), the alerts and one alert, the
// live queues. It runs only with SPORTELLO_SCREENSHOTS=1 (it rewrites files of the repository):
//
//	SPORTELLO_SCREENSHOTS=1 go test ./integration -run TestScreenshots -count=1
func TestScreenshots(t *testing.T) {
	if os.Getenv("SPORTELLO_SCREENSHOTS") != "1" {
		t.Skip("set SPORTELLO_SCREENSHOTS=1 to refresh docs/screenshots/")
	}
	ctx := newBrowser(t)
	if ctx == nil {
		return
	}
	gw := startBrowserGateway(t)
	// The composer shows the quiet hours (tests turn them off); set before any request.
	gw.G.Config.Alerts.QuietHours = "21:00-08:00"
	capo := gw.user(t, "giulia", store.RoleSupervisor)
	bg := context.Background()
	now := time.Now().UTC()

	// An SMS answered by the centre, an undecided one, a call, an email and a fax.
	gw.postSMS(t, newSid("SM"), "+393471234567", "+390552768000", "Buongiorno, domani c'è il blocco del traffico anche per le auto euro 5?")
	sms := screenshotContact(t, gw, "+393471234567")
	if _, err := gw.G.Desk.Reply(bg, capo, sms, "Buongiorno, sì: domani dalle 8:30 alle 18:30 il blocco vale anche per i diesel euro 5. Cordiali saluti, Linea Comune"); err != nil {
		t.Fatal(err)
	}
	gw.postSMS(t, newSid("SM"), "+393389876543", "+39055055", "Salve, dove posso rinnovare la carta d'identità?")
	for _, st := range []string{"ringing", "completed"} {
		form := harness.CallForm("CA00000000000000000000000000000301", "+390557654321", "+390552768000", st)
		path := "/webhooks/twilio/voice"
		if st == "completed" {
			form.Set("CallDuration", "117")
			path += "/status"
		}
		resp, body := harness.PostTwilioSigned(t, gw.URL, path, form, twilio.Signature(browserAuthToken, browserPublicURL+path, form))
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
		}
	}
	call := screenshotContact(t, gw, "+390557654321")
	email, err := gw.G.Ingest.Receive(bg, channels.InboundMessage{Channel: channels.Email, ExternalID: "tari-1@example.org",
		MessageID: "tari-1@example.org", From: "anna.bianchi@example.org", FromName: "Anna Bianchi", To: "urp@comune.fi.it",
		Comune: "firenze", Subject: "Rimborso TARI", ReceivedAt: now,
		Body: "Gentile ufficio,\nho pagato due volte la rata di settembre della TARI. Come posso chiedere il rimborso?\n\nGrazie,\nAnna Bianchi"})
	if err != nil {
		t.Fatal(err)
	}
	fax, err := gw.G.Ingest.Receive(bg, channels.InboundMessage{Channel: channels.Fax, ExternalID: "fax-301@fax.example", From: "+390551234567",
		To: "+390552768000", Comune: "firenze", Subject: "Fax da 055 123 4567", ReceivedAt: now,
		Attachments: []channels.Attachment{{Filename: "fax.tif", ContentType: "image/tiff", Data: []byte("II*\x00 a fax")}}})
	if err != nil {
		t.Fatal(err)
	}
	faxContact, err := gw.G.Store.GetContact(bg, fax.ContactID, store.Scope{})
	if err != nil || len(faxContact.Attachments) != 1 {
		t.Fatalf("fax: %v", err)
	}
	if err := gw.G.Store.SetAttachmentPreview(bg, faxContact.Attachments[0].ID, screenshotFaxPNG(t)); err != nil {
		t.Fatal(err)
	}

	// Subscribers and two alerts.
	as := alertstore.New(gw.G.Store)
	rows := make([]alertstore.ImportRow, 40)
	for i := range rows {
		rows[i] = alertstore.ImportRow{Phone: fmt.Sprintf("+39347%07d", 1000+i)}
	}
	if _, err := as.ImportSubscribers(bg, "firenze", rows, nil, alertstore.ConsentActor{Via: alertstore.ViaImport, Actor: "giulia"}); err != nil {
		t.Fatal(err)
	}
	_, key, err := as.CreateAPIKey(bg, "firenze", "protezione civile")
	if err != nil {
		t.Fatal(err)
	}
	st, j := alertCall(t, "POST", gw.URL+"/api/v1/alerts", key, map[string]any{"category": "blocco-traffico", "urgent": true,
		"message": "Domani blocco del traffico dalle 8:30 alle 18:30 per i veicoli diesel fino a euro 5."}, "")
	if st != 202 {
		t.Fatalf("alert: %d %v", st, j)
	}
	alertID := fmt.Sprint(j["id"])

	if err := os.MkdirAll(screenshotDir, 0o755); err != nil {
		t.Fatal(err)
	}
	browserStep(t, ctx, "viewport", chromedp.EmulateViewport(1400, 900))
	browserStep(t, ctx, "login", chromedp.Navigate(gw.URL+"/login"), chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), "giulia"), chromedp.SendKeys(chromedp.ID("password"), browserPassword),
		chromedp.Submit(chromedp.ID("password")))
	browserWait(t, ctx, "inbox", `document.querySelector("table") !== null`, 20*time.Second)
	for _, s := range []struct{ name, path, ready string }{
		{"inbox", "/inbox", `document.querySelectorAll("tbody tr").length >= 5`},
		{"contact-sms", "/inbox/contacts/" + sms, `document.querySelector(".msg-outbound")`},
		{"contact-call", "/inbox/contacts/" + call, `document.querySelector(".call-summary")`},
		{"contact-email", "/inbox/contacts/" + email.ContactID, `document.querySelector(".subject")`},
		{"contact-fax", "/inbox/contacts/" + fax.ContactID, `(() => { const i = document.querySelector(".attachments img.preview"); return i && i.complete && i.naturalWidth > 0; })()`},
		{"queues", "/inbox/queues", `document.querySelector("table")`},
		{"alerts", "/supervisor/alerts", `document.querySelector("#alert-list")`},
		{"alert", "/supervisor/alerts/" + alertID, `document.querySelector("#alert-progress")`},
	} {
		browserStep(t, ctx, "open "+s.name, chromedp.Navigate(gw.URL+s.path))
		browserWait(t, ctx, s.name+" ready", s.ready, 20*time.Second)
		sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		shot, err := chromedp.Run(sctx, chromedp.CaptureScreenshot())
		cancel()
		if err != nil {
			t.Fatalf("screenshot %s: %v", s.name, err)
		}
		cfg, err := png.DecodeConfig(bytes.NewReader(shot))
		if err != nil || cfg.Width != 1400 || cfg.Height != 900 {
			t.Fatalf("screenshot %s: %dx%d %v, want 1400x900", s.name, cfg.Width, cfg.Height, err)
		}
		if err := os.WriteFile(filepath.Join(screenshotDir, s.name+".png"), shot, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// screenshotContact waits for the newest contact from a number.
func screenshotContact(t *testing.T, gw *browserGateway, from string) string {
	t.Helper()
	var id string
	waitUntil(t, 20*time.Second, "a contact from "+from, func() bool {
		list, _, err := gw.G.Store.ListContacts(context.Background(), store.ContactFilter{Q: from, Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(list) > 0 {
			id = list[0].ID
		}
		return id != ""
	})
	return id
}

// screenshotFaxPNG draws a page of a fax: a letterhead and lines of "text".
func screenshotFaxPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, 420, 594))
	for y := 0; y < 594; y++ {
		for x := 0; x < 420; x++ {
			img.SetGray(x, y, color.Gray{Y: 250})
		}
	}
	fill := func(x0, y0, x1, y1 int) {
		for y := y0; y < y1; y++ {
			for x := x0; x < x1; x++ {
				img.SetGray(x, y, color.Gray{Y: 30})
			}
		}
	}
	fill(40, 40, 220, 58)
	for i, w := range []int{300, 330, 280, 340, 310, 200, 0, 320, 290, 335, 260, 0, 180} {
		if w > 0 {
			fill(40, 110+i*26, 40+w, 118+i*26)
		}
	}
	fill(250, 500, 380, 506)
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
