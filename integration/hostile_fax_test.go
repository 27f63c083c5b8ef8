package integration

import (
	"encoding/base64"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/integration/harness"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

// pdfFaxMail is a fax gateway's mail carrying a PDF; anyone can write one (From is all that
// makes mail a fax).
func pdfFaxMail(id, number string, pdf []byte) string {
	b64 := base64.StdEncoding.EncodeToString(pdf)
	var lines []string
	for len(b64) > 76 {
		lines = append(lines, b64[:76])
		b64 = b64[76:]
	}
	lines = append(lines, b64)
	return strings.Join([]string{
		"From: Servizio Fax <noreply@fax.example>", "To: urp@comune.fi.it", "Subject: Fax da " + number,
		"Date: " + time.Now().Format(time.RFC1123Z), "Message-ID: <" + id + ">", "MIME-Version: 1.0",
		`Content-Type: multipart/mixed; boundary="fax-boundary"`, "",
		"--fax-boundary", "Content-Type: text/plain; charset=utf-8", "", "Fax.",
		"--fax-boundary", `Content-Type: application/pdf; name="fax.pdf"`, `Content-Disposition: attachment; filename="fax.pdf"`,
		"Content-Transfer-Encoding: base64", "", strings.Join(lines, "\r\n"), "--fax-boundary--", "",
	}, "\r\n")
}

// TestHostileFaxDoesNotHoldUpOCR: a spoofed 1 KB PDF of twelve 8000-point pages reaches the
// real gateway first, a genuine two-page fax right after; the genuine fax's text must arrive
// within a minute of its sending.
func TestHostileFaxDoesNotHoldUpOCR(t *testing.T) {
	_, err := exec.LookPath("tesseract")
	storetest.RequirePeer(t, "tesseract (apt-get install -y tesseract-ocr tesseract-ocr-ita)", err)
	_, err = exec.LookPath("pdftoppm")
	storetest.RequirePeer(t, "pdftoppm (apt-get install -y poppler-utils)", err)
	hostile, err := os.ReadFile("../adapters/fax/testdata/hostile_pages.pdf")
	if err != nil {
		t.Fatal(err)
	}
	gw := startEmailGateway(t, store.SQLite, "")
	token := gw.User(t, "sup-fax", store.RoleSupervisor)
	if err := sendSMTP(t, gw.G.SMTPAddr(), "noreply@fax.example", "urp@comune.fi.it", pdfFaxMail("hostile@fax.example", "0550000000", hostile)); err != nil {
		t.Fatal(err)
	}
	sent := time.Now()
	if err := sendSMTP(t, gw.G.SMTPAddr(), "noreply@fax.example", "urp@comune.fi.it", faxMail(t, "genuine@fax.example", "0551234567")); err != nil {
		t.Fatal(err)
	}
	var genuine string
	for _, c := range contactsOf(t, gw, token, channels.Fax) {
		if c.ExternalID == "genuine@fax.example" {
			genuine = c.ID
		}
	}
	if genuine == "" {
		t.Fatal("the genuine fax is not a contact")
	}
	var c channels.Contact
	for {
		harness.API(t, "GET", gw.URL+"/api/v1/contacts/"+genuine, token, nil, &c)
		if strings.Contains(c.Body, "permesso di transito") {
			break
		}
		if time.Since(sent) > time.Minute {
			t.Fatalf("the genuine fax's text did not arrive within a minute of a hostile one: %q", c.Body)
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Logf("genuine fax read %v after it was sent, behind a hostile PDF", time.Since(sent))
}
