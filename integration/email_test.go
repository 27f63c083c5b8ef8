package integration

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-smtp"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/integration/harness"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

func TestEmailSMTP(t *testing.T) {
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		gw := startEmailGateway(t, d, "")
		token := gw.User(t, "sup", store.RoleSupervisor)
		addr := gw.G.SMTPAddr()
		ctx := context.Background()

		// Accepted: the contact is readable the moment the 250 arrives.
		msg := citizenMail("segnalazione-1@example.it", "Anna Perugini <Anna.Perugini@Example.it>", "urp@comune.fi.it",
			"Lampione spento in via dei Neri", "Buonasera, il lampione davanti al civico 12 è spento da tre giorni.")
		if err := sendSMTP(t, addr, "anna.perugini@example.it", "URP@comune.fi.it", msg); err != nil {
			t.Fatalf("accepted recipient: %v", err)
		}
		id, err := gw.G.Store.ContactIDByExternal(ctx, channels.Email, "segnalazione-1@example.it")
		if err != nil {
			t.Fatalf("not stored when 250 was answered: %v", err)
		}
		list := contactsOf(t, gw, token, channels.Email)
		if len(list) != 1 || list[0].ID != id {
			t.Fatalf("API right after 250: %+v", list)
		}
		c := list[0]
		if c.Comune == nil || *c.Comune != "firenze" || c.From != "anna.perugini@example.it" || c.To != "urp@comune.fi.it" ||
			c.Subject != "Lampione spento in via dei Neri" || !strings.Contains(c.Body, "civico 12 è spento") ||
			c.ExternalID != "segnalazione-1@example.it" || c.Citizen == nil || c.Citizen.Email == nil || *c.Citizen.Email != "anna.perugini@example.it" {
			t.Fatalf("contact: %+v", c)
		}
		// The same message again (a client retrying after a lost 250) is the same contact.
		if err := sendSMTP(t, addr, "anna.perugini@example.it", "urp@comune.fi.it", msg); err != nil {
			t.Fatal(err)
		}

		// Relay attempt: 550 5.7.1, nothing stored.
		err = sendSMTP(t, addr, "spammer@example.com", "victim@gmail.com", citizenMail("spam@example.com", "spammer@example.com", "victim@gmail.com", "Offerta", "x"))
		var se *smtp.SMTPError
		if !errors.As(err, &se) || se.Code != 550 || se.EnhancedCode != (smtp.EnhancedCode{5, 7, 1}) {
			t.Fatalf("relay attempt: %v", err)
		}
		// Over max_message_bytes: 552.
		big := citizenMail("big@example.it", "a@example.it", "urp@comune.fi.it", "Allegato enorme", strings.Repeat("Riga di testo della segnalazione.\r\n", emailMaxBytes/30))
		if err := sendSMTP(t, addr, "a@example.it", "urp@comune.fi.it", big); !errors.As(err, &se) || se.Code != 552 {
			t.Fatalf("oversize: %v", err)
		}

		// The recipient decides the comune.
		if err := sendSMTP(t, addr, "b@example.it", "urp@comune.empoli.fi.it",
			citizenMail("empoli-1@example.it", "b@example.it", "urp@comune.empoli.fi.it", "Rifiuti", "Il cassonetto non è stato svuotato.")); err != nil {
			t.Fatal(err)
		}
		list = contactsOf(t, gw, token, channels.Email)
		if len(list) != 2 || list[0].Comune == nil || *list[0].Comune != "empoli" {
			t.Fatalf("after empoli: %+v", list)
		}

		// Mail from the fax gateway is a fax, from the number in the subject, with its pages.
		if err := sendSMTP(t, addr, "noreply@fax.example", "urp@comune.fi.it", faxMail(t, "fax-1@fax.example", "+39 055 1234567")); err != nil {
			t.Fatal(err)
		}
		faxes := contactsOf(t, gw, token, channels.Fax)
		if len(faxes) != 1 {
			t.Fatalf("faxes: %+v", faxes)
		}
		f := faxes[0]
		if f.From != "+390551234567" || f.Citizen == nil || f.Citizen.Fax == nil || *f.Citizen.Fax != "+390551234567" ||
			len(f.Attachments) != 1 || f.Attachments[0].Pages == nil || *f.Attachments[0].Pages != 2 || f.Attachments[0].ContentType != "image/tiff" {
			t.Fatalf("fax: %+v", f)
		}
		// The attachment's exact bytes come back over the API.
		tif, _ := os.ReadFile("../adapters/fax/testdata/fax.tif")
		req, _ := http.NewRequest("GET", gw.URL+"/api/v1/contacts/"+f.ID+"/attachments/"+f.Attachments[0].ID, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, body := harness.Do(t, req)
		if resp.StatusCode != 200 || body != string(tif) {
			t.Fatalf("attachment: %d, %d bytes", resp.StatusCode, len(body))
		}
		if n := len(contactsOf(t, gw, token, channels.Email)); n != 2 {
			t.Fatalf("email contacts: %d", n)
		}
		m := gw.G.Metrics.SMTPMessages
		if counterValue(m.WithLabelValues("accepted")) != 3 || counterValue(m.WithLabelValues("duplicate")) != 1 ||
			counterValue(m.WithLabelValues("relay_denied")) != 1 || counterValue(m.WithLabelValues("too_large")) != 1 {
			t.Fatalf("smtp metrics: accepted %v duplicate %v relay_denied %v too_large %v", counterValue(m.WithLabelValues("accepted")),
				counterValue(m.WithLabelValues("duplicate")), counterValue(m.WithLabelValues("relay_denied")), counterValue(m.WithLabelValues("too_large")))
		}
	})
}

func TestEmailSMTPWithSwaks(t *testing.T) {
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		gw := startEmailGateway(t, d, "")
		token := gw.User(t, "sup", store.RoleSupervisor)
		addr := gw.G.SMTPAddr()
		server := []string{"--server", addr}

		out, err := swaks(t, append(server, "--to", "urp@comune.fi.it", "--from", "giulia@example.it",
			"--header", "Subject: Permesso ZTL", "--header", "Message-Id: <swaks-1@example.it>",
			"--body", "Buongiorno, vorrei rinnovare il permesso per la ZTL.")...)
		if err != nil || !strings.Contains(out, "<-  250") {
			t.Fatalf("swaks accepted: %v\n%s", err, out)
		}
		list := contactsOf(t, gw, token, channels.Email)
		if len(list) != 1 || list[0].ExternalID != "swaks-1@example.it" || list[0].From != "giulia@example.it" || !strings.Contains(list[0].Body, "rinnovare il permesso") {
			t.Fatalf("after swaks: %+v", list)
		}

		out, err = swaks(t, append(server, "--to", "someone@example.org", "--from", "spam@example.com", "--body", "x")...)
		if err == nil || !strings.Contains(out, "<** 550 5.7.1") {
			t.Fatalf("swaks relay attempt: %v\n%s", err, out)
		}

		bigBody := filepath.Join(t.TempDir(), "big.txt")
		if err := os.WriteFile(bigBody, bytes.Repeat([]byte("Riga di una segnalazione molto lunga.\n"), emailMaxBytes/30), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err = swaks(t, append(server, "--to", "urp@comune.fi.it", "--from", "a@example.it", "--body", "@"+bigBody)...)
		if err == nil || !strings.Contains(out, "<** 552") {
			t.Fatalf("swaks oversize: %v\n%s", err, out)
		}

		out, err = swaks(t, append(server, "--to", "urp@comune.fi.it", "--from", "noreply@fax.example",
			"--header", "Subject: Fax da 055/7654321", "--header", "Message-Id: <swaks-fax@fax.example>",
			"--body", "Fax ricevuto.", "--attach-type", "image/tiff", "--attach-name", "fax.tif", "--attach", "@../adapters/fax/testdata/fax.tif")...)
		if err != nil || !strings.Contains(out, "<-  250") {
			t.Fatalf("swaks fax: %v\n%s", err, out)
		}
		faxes := contactsOf(t, gw, token, channels.Fax)
		if len(faxes) != 1 || faxes[0].From != "+390557654321" || len(faxes[0].Attachments) != 1 || faxes[0].Attachments[0].Pages == nil || *faxes[0].Attachments[0].Pages != 2 {
			t.Fatalf("swaks fax: %+v", faxes)
		}
		if n := len(contactsOf(t, gw, token, channels.Email)); n != 1 {
			t.Fatalf("email contacts after swaks: %d", n)
		}
	})
}

// TestEmailFaxOCR: a fax's text is read in the background, appended to the contact, reroutes it
// by what it says, and page one gets a preview.
func TestEmailFaxOCR(t *testing.T) {
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		_, err := exec.LookPath("tesseract")
		storetest.RequirePeer(t, "tesseract (apt-get install -y tesseract-ocr tesseract-ocr-ita)", err)
		gw := startEmailGateway(t, d, "")
		token := gw.User(t, "sup", store.RoleSupervisor)
		if err := sendSMTP(t, gw.G.SMTPAddr(), "noreply@fax.example", "urp@comune.fi.it", faxMail(t, "fax-ocr@fax.example", "0551234567")); err != nil {
			t.Fatal(err)
		}
		faxes := contactsOf(t, gw, token, channels.Fax)
		if len(faxes) != 1 {
			t.Fatalf("faxes: %d", len(faxes))
		}
		id := faxes[0].ID
		deadline := time.Now().Add(60 * time.Second)
		var c channels.Contact
		for {
			harness.API(t, "GET", gw.URL+"/api/v1/contacts/"+id, token, nil, &c)
			if strings.Contains(c.Body, "permesso di transito") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("OCR text never arrived: %q", c.Body)
			}
			time.Sleep(200 * time.Millisecond)
		}
		if !strings.HasPrefix(c.Body, "Ricevuto un fax di 2 pagine.") || !strings.Contains(c.Body, "Targa veicolo") {
			t.Fatalf("body: %q", c.Body)
		}
		if c.Category == nil || *c.Category != "permessi-ztl" {
			t.Fatalf("category after OCR: %v", c.Category)
		}
		var preview *http.Response
		for time.Now().Before(deadline) {
			req, _ := http.NewRequest("GET", gw.URL+"/api/v1/contacts/"+id+"/attachments/"+c.Attachments[0].ID+"/preview", nil)
			req.Header.Set("Authorization", "Bearer "+token)
			resp, body := harness.Do(t, req)
			if resp.StatusCode == 200 {
				if !strings.HasPrefix(body, "\x89PNG") {
					t.Fatalf("preview is not a PNG: %q", body[:min(len(body), 16)])
				}
				preview = resp
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		if preview == nil {
			t.Fatal("no preview")
		}
	})
}

func TestEmailIMAPDovecot(t *testing.T) {
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		dc := startDovecot(t)
		extra := fmt.Sprintf(`
imap:
  - comune: empoli
    address: %s
    security: none
    username: %s
    password: %s
    mailbox: INBOX
    poll_interval: 1s
`, dc.Addr, dovecotUser, dovecotPassword)
		yaml := emailYAML(extra)

		// Present before the gateway starts.
		dc.Deliver("INBOX", citizenMail("imap-1@example.it", "Carlo Bianchi <carlo@example.it>", "urp@comune.empoli.fi.it",
			"Strada allagata", "Via Roma è allagata dopo la pioggia di stanotte."))
		gw := harness.Start(t, harness.Options{Dialect: d, Replace: yaml})
		token := gw.User(t, "sup", store.RoleSupervisor)
		list := waitContacts(t, gw, token, channels.Email, 1, 15*time.Second)
		if c := list[0]; c.Comune == nil || *c.Comune != "empoli" || c.From != "carlo@example.it" || c.ExternalID != "imap-1@example.it" {
			t.Fatalf("first: %+v", c)
		}

		// Arriving while the poller idles.
		start := time.Now()
		dc.Deliver("INBOX", citizenMail("imap-2@example.it", "dora@example.it", "urp@comune.empoli.fi.it", "Cane smarrito", "Ho trovato un cane in piazza."))
		waitContacts(t, gw, token, channels.Email, 2, 15*time.Second)
		t.Logf("IDLE: new mail stored %s after delivery", time.Since(start).Round(time.Millisecond))
		waitUntil(t, 10*time.Second, "both flagged \\Seen", func() bool { return allSeen(dc.Flags("INBOX"), 2) })

		// A restart of the poller (the whole gateway) imports only what is new.
		key := "empoli|" + dc.Addr + "|" + dovecotUser + "|INBOX"
		waitUntil(t, 10*time.Second, "progress recorded", func() bool {
			_, last, err := gw.G.Store.IMAPState(context.Background(), key)
			return err == nil && last == 2
		})
		gw.Stop(t)
		dc.Deliver("INBOX", citizenMail("imap-3@example.it", "elena@example.it", "urp@comune.empoli.fi.it", "Buche", "Buche in via Verdi."))
		gw2 := harness.Start(t, harness.Options{Dialect: d, Replace: yaml, DataDir: gw.DataDir, DatabaseURL: gw.DatabaseURL})
		waitContacts(t, gw2, token, channels.Email, 3, 15*time.Second)
		if dup, stored := counterValue(gw2.G.Metrics.IMAPMessages.WithLabelValues(key, "duplicate")),
			counterValue(gw2.G.Metrics.IMAPMessages.WithLabelValues(key, "stored")); dup != 0 || stored != 1 {
			t.Fatalf("after restart: %v fetched again, %v stored (want 0 and 1)", dup, stored)
		}

		// Dovecot restarts under the poller: it reconnects and goes on.
		dc.Stop()
		dc.Start()
		dc.Deliver("INBOX", citizenMail("imap-4@example.it", "franco@example.it", "urp@comune.empoli.fi.it", "Semaforo", "Il semaforo di via Sanzio è guasto."))
		waitContacts(t, gw2, token, channels.Email, 4, 30*time.Second)
		waitUntil(t, 10*time.Second, "all four flagged \\Seen", func() bool { return allSeen(dc.Flags("INBOX"), 4) })
		if dup := counterValue(gw2.G.Metrics.IMAPMessages.WithLabelValues(key, "duplicate")); dup != 0 {
			t.Fatalf("reconnect fetched %v messages again", dup)
		}
	})
}

// counterValue reads a counter (prometheus' testutil needs a module this repo does not have).
func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		return -1
	}
	return m.GetCounter().GetValue()
}

func allSeen(flags map[imap.UID][]imap.Flag, n int) bool {
	if len(flags) != n {
		return false
	}
	for _, fs := range flags {
		seen := false
		for _, f := range fs {
			seen = seen || f == imap.FlagSeen
		}
		if !seen {
			return false
		}
	}
	return true
}

// TestEmailRepliesThroughTheRelay: an operator's reply to an email leaves through the relay
// with the threading headers, the citizen's answer joins the same contact, and a reply to a
// fax goes to the email-to-fax gateway address of the sender's number.
func TestEmailRepliesThroughTheRelay(t *testing.T) {
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		relay := startEmailRelay(t)
		gw := startEmailGateway(t, d, "email:\n  from: \"Linea Comune <noreply@055055.example>\"\n  relay: "+relay.Addr+"\n")
		token := gw.User(t, "sup", store.RoleSupervisor)
		addr := gw.G.SMTPAddr()

		if err := sendSMTP(t, addr, "anna@example.it", "urp@comune.fi.it",
			citizenMail("domanda-1@example.it", "Anna <anna@example.it>", "urp@comune.fi.it", "Orari anagrafe", "A che ora apre l'anagrafe sabato?")); err != nil {
			t.Fatal(err)
		}
		c := contactsOf(t, gw, token, channels.Email)[0]
		if code := harness.API(t, "POST", gw.URL+"/api/v1/contacts/"+c.ID+"/reply", token, map[string]string{"body": "Il sabato l'anagrafe è aperta dalle 8:30 alle 12:30."}, nil); code/100 != 2 {
			t.Fatalf("reply: %d", code)
		}
		msgs := relay.Wait(t, 1)
		m := msgs[0]
		raw := string(m.Data)
		if m.To != "anna@example.it" || !strings.Contains(raw, "In-Reply-To: <domanda-1@example.it>") || !strings.Contains(raw, "Subject: Re: Orari anagrafe") {
			t.Fatalf("relayed reply: to %s\n%s", m.To, raw)
		}
		ourID := ""
		for _, line := range strings.Split(raw, "\r\n") {
			if strings.HasPrefix(strings.ToLower(line), "message-id:") {
				ourID = strings.Trim(strings.TrimSpace(line[len("message-id:"):]), "<>")
			}
		}
		if ourID == "" {
			t.Fatalf("no Message-ID in the reply:\n%s", raw)
		}
		// The citizen answers our reply, with a subject of their own: it threads on the headers.
		answer := strings.Replace(citizenMail("risposta-1@example.it", "Anna <anna@example.it>", "urp@comune.fi.it", "grazie", "Grazie mille!"),
			"MIME-Version: 1.0", "In-Reply-To: <"+ourID+">\r\nReferences: <domanda-1@example.it> <"+ourID+">\r\nMIME-Version: 1.0", 1)
		if err := sendSMTP(t, addr, "anna@example.it", "urp@comune.fi.it", answer); err != nil {
			t.Fatal(err)
		}
		if list := contactsOf(t, gw, token, channels.Email); len(list) != 1 {
			t.Fatalf("the answer opened a new contact: %d", len(list))
		}
		var full channels.Contact
		harness.API(t, "GET", gw.URL+"/api/v1/contacts/"+c.ID, token, nil, &full)
		if len(full.Messages) != 3 || full.Messages[2].Body != "Grazie mille!" {
			t.Fatalf("thread: %+v", full.Messages)
		}

		// A fax is answered by email-to-fax.
		if err := sendSMTP(t, addr, "noreply@fax.example", "urp@comune.fi.it", faxMail(t, "fax-r@fax.example", "+39 055 1234567")); err != nil {
			t.Fatal(err)
		}
		f := contactsOf(t, gw, token, channels.Fax)[0]
		if code := harness.API(t, "POST", gw.URL+"/api/v1/contacts/"+f.ID+"/reply", token, map[string]string{"body": "Il permesso è stato rilasciato."}, nil); code/100 != 2 {
			t.Fatalf("fax reply: %d", code)
		}
		msgs = relay.Wait(t, 2)
		if msgs[1].To != "390551234567@fax.example" || !strings.Contains(string(msgs[1].Data), "rilasciato") {
			t.Fatalf("fax reply relayed to %q:\n%s", msgs[1].To, msgs[1].Data)
		}
	})
}
