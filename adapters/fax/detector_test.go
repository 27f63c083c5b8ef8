package fax

import (
	"fmt"
	"net/netip"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/config"
)

func testDetector(t *testing.T) *Detector {
	t.Helper()
	d, err := NewDetector([]config.FaxGateway{
		{Sender: "@fax.example", SubjectPattern: `(?i)fax (?:from|da|di) ([+0-9 ./-]+)`},
		{Sender: "Invio.Fax@Provider.IT", Pattern: regexp.MustCompile(`Numero mittente: (\S+)`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestDetectorApply(t *testing.T) {
	d := testDetector(t)
	tif := readFixture(t, "fax.tif")
	pdf := readFixture(t, "fax.pdf")
	in := channels.InboundMessage{
		Channel: channels.Email, From: "gateway@fax.example", Subject: "Fax da 055 1234567",
		Attachments: []channels.Attachment{
			{Filename: "fax.tif", ContentType: "image/tiff", Data: tif},
			{Filename: "copia.pdf", ContentType: "application/pdf", Data: pdf},
			{Filename: "logo.jpg", ContentType: "image/jpeg", Data: []byte("\xff\xd8\xff\xe0")},
		},
	}
	if !d.Apply(&in) {
		t.Fatal("gateway mail not recognized")
	}
	if in.Channel != channels.Fax || in.From != "+390551234567" {
		t.Errorf("channel %q from %q", in.Channel, in.From)
	}
	pages := func(i int) any {
		if p := in.Attachments[i].Pages; p != nil {
			return *p
		}
		return nil
	}
	if pages(0) != 2 || pages(1) != 2 || pages(2) != nil {
		t.Errorf("pages %v %v %v", pages(0), pages(1), pages(2))
	}
	if len(in.Notes) != 0 {
		t.Errorf("notes %q", in.Notes)
	}
}

func TestDetectorNumbers(t *testing.T) {
	d := testDetector(t)
	cases := []struct{ from, subject, want string }{
		{"noreply@fax.example", "FAX FROM +39 055/123.4567 (2 pagine)", "+390551234567"},
		{"noreply@fax.example", "Fax di 0039 0571 757999", "+390571757999"},
		{"invio.fax@provider.it", "Nuovo fax - Numero mittente: 0552768000", "+390552768000"},
	}
	for _, c := range cases {
		in := channels.InboundMessage{Channel: channels.Email, From: c.from, Subject: c.subject}
		if !d.Apply(&in) || in.From != c.want || in.Channel != channels.Fax {
			t.Errorf("%q: from %q channel %q, want %q", c.subject, in.From, in.Channel, c.want)
		}
	}
}

func TestDetectorSubjectWithoutNumber(t *testing.T) {
	d := testDetector(t)
	for _, subject := range []string{"Nuovo documento ricevuto", "Fax da sconosciuto", "Fax da 12"} {
		in := channels.InboundMessage{Channel: channels.Email, From: "gateway@fax.example", Subject: subject}
		if !d.Apply(&in) {
			t.Fatalf("%q: gateway mail not recognized", subject)
		}
		if in.Channel != channels.Fax || in.From != "gateway@fax.example" {
			t.Errorf("%q: channel %q from %q", subject, in.Channel, in.From)
		}
		if len(in.Notes) != 1 || !strings.Contains(in.Notes[0], "il mittente resta l'indirizzo email") {
			t.Errorf("%q: notes %q", subject, in.Notes)
		}
	}
}

func TestDetectorIgnoresOtherMail(t *testing.T) {
	d := testDetector(t)
	for _, from := range []string{"mario.rossi@example.com", "gateway@notfax.example", "fax.example@example.com", "altro@provider.it"} {
		in := channels.InboundMessage{Channel: channels.Email, From: from, Subject: "Fax da 055 1234567"}
		before := in
		if d.Apply(&in) {
			t.Errorf("%s taken for a gateway", from)
		}
		if !reflect.DeepEqual(in, before) {
			t.Errorf("%s: message changed", from)
		}
	}
	var none *Detector
	if none.Apply(&channels.InboundMessage{From: "gateway@fax.example"}) {
		t.Error("a nil detector matched")
	}
}

func TestDetectorCountFailureIsNoted(t *testing.T) {
	d := testDetector(t)
	in := channels.InboundMessage{Channel: channels.Email, From: "gateway@fax.example", Subject: "Fax da 0551234567",
		Attachments: []channels.Attachment{{Filename: "rotto.tif", Data: []byte("II*\x00\x08\x00\x00\x00\x00")}}}
	d.Apply(&in)
	if in.Attachments[0].Pages != nil || len(in.Notes) != 1 || !strings.Contains(in.Notes[0], "rotto.tif") {
		t.Errorf("pages %v notes %q", in.Attachments[0].Pages, in.Notes)
	}
}

func TestNewDetectorErrors(t *testing.T) {
	for name, gws := range map[string][]config.FaxGateway{
		"no sender":     {{SubjectPattern: `(\d+)`}},
		"no pattern":    {{Sender: "@fax.example"}},
		"bad pattern":   {{Sender: "@fax.example", SubjectPattern: `(`}},
		"no group":      {{Sender: "@fax.example", SubjectPattern: `fax \d+`}},
		"compiled no g": {{Sender: "@fax.example", Pattern: regexp.MustCompile(`x`)}},
	} {
		if _, err := NewDetector(gws); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestOutboundAddress(t *testing.T) {
	cases := map[[2]string]string{
		{"+390551234567", "fax.example"}:     "390551234567@fax.example",
		{"+39 055 123 4567", "@Fax.Example"}: "390551234567@fax.example",
		{"", "fax.example"}:                  "",
		{"+390551234567", ""}:                "",
	}
	for in, want := range cases {
		if got := OutboundAddress(in[0], in[1]); got != want {
			t.Errorf("OutboundAddress(%q, %q) = %q, want %q", in[0], in[1], got, want)
		}
	}
}

// A gateway's address in From proves nothing over SMTP: unless SPF or DKIM passed for it,
// the mail stays an email (with a note), so nobody can file a fax as any fax number, or have
// a reply faxed there.
func TestDetectorKeepsUnverifiedSMTPGatewayMailAsEmail(t *testing.T) {
	d := testDetector(t)
	for _, check := range []channels.SenderCheck{channels.SenderFail, channels.SenderNone, channels.SenderUnchecked, channels.SenderDNSUnavailable} {
		in := channels.InboundMessage{Channel: channels.Email, From: "gateway@fax.example", ReceivedOverSMTP: true,
			EnvelopeFrom: "mallory@evil.example", SenderCheck: check, Subject: "Fax da +39 06 1234567",
			Attachments: []channels.Attachment{{Filename: "fax.pdf", Data: readFixture(t, "fax.pdf")}}}
		if d.Apply(&in) {
			t.Errorf("check %q: forged gateway mail taken for a fax", check)
		}
		if in.Channel != channels.Email || in.From != "gateway@fax.example" || in.Attachments[0].Pages != nil {
			t.Errorf("check %q: channel %q from %q pages %v", check, in.Channel, in.From, in.Attachments[0].Pages)
		}
		if len(in.Notes) != 1 || !strings.Contains(in.Notes[0], "resta un'email") {
			t.Errorf("check %q: notes %q", check, in.Notes)
		}
	}
}

func TestDetectorTakesVerifiedSMTPGatewayMail(t *testing.T) {
	d := testDetector(t)
	in := channels.InboundMessage{Channel: channels.Email, From: "gateway@fax.example", ReceivedOverSMTP: true,
		EnvelopeFrom: "bounces@fax.example", SenderCheck: channels.SenderPass, Subject: "Fax da 055 1234567"}
	if !d.Apply(&in) || in.Channel != channels.Fax || in.From != "+390551234567" {
		t.Errorf("verified gateway mail: channel %q from %q", in.Channel, in.From)
	}
}

// Mail read from a mailbox was received by its provider, whose checks are not ours to redo:
// it is taken at its word, whatever the DKIM-only check found.
func TestDetectorTakesMailboxGatewayMailAtItsWord(t *testing.T) {
	d := testDetector(t)
	in := channels.InboundMessage{Channel: channels.Email, From: "gateway@fax.example",
		EnvelopeFrom: "bounces@fax.example", SenderCheck: channels.SenderFail, Subject: "Fax da 055 1234567"}
	if !d.Apply(&in) || in.Channel != channels.Fax || in.From != "+390551234567" {
		t.Errorf("mailbox gateway mail: channel %q from %q", in.Channel, in.From)
	}
}

// The decompression budget is the message's, not each attachment's: ten 64 KiB zlib bombs
// (64 MiB each) cost what one does, the mail is still a fax, the genuine document before them
// is counted and theirs are unknown.
func TestDetectorPageBudgetIsPerMessage(t *testing.T) {
	bomb := pdfObjectStreamBomb(t, 64<<20)
	in := channels.InboundMessage{Channel: channels.Email, From: "gateway@fax.example", Subject: "Fax da 055 1234567",
		Attachments: []channels.Attachment{{Filename: "fax.pdf", Data: readFixture(t, "fax.pdf")}}}
	for i := 0; i < 10; i++ {
		in.Attachments = append(in.Attachments, channels.Attachment{Filename: fmt.Sprintf("bomba%d.pdf", i), Data: bomb})
	}
	d := testDetector(t)
	var fax bool
	alloc, took := allocatedBy(func() { fax = d.Apply(&in) })
	t.Logf("%d KiB of attachments: %v, %d KiB allocated", 10*len(bomb)>>10, took, alloc>>10)
	if !fax || in.Channel != channels.Fax {
		t.Fatalf("the fax was not taken (channel %q)", in.Channel)
	}
	if took > time.Second || alloc > 16<<20 {
		t.Errorf("one mail of ten bombs took %v and %d MiB", took, alloc>>20)
	}
	if p := in.Attachments[0].Pages; p == nil || *p != 2 {
		t.Errorf("the genuine fax: pages %v", p)
	}
	for _, a := range in.Attachments[1:] {
		if a.Pages != nil {
			t.Errorf("%s: %d pages counted past the budget", a.Filename, *a.Pages)
		}
	}
	if len(in.Notes) == 0 || !strings.Contains(strings.Join(in.Notes, "\n"), ErrCountingBudget.Error()) {
		t.Errorf("notes %q", in.Notes)
	}
}

// Past the message's counting time nothing more is counted, and one note says so.
func TestCountAttachmentPagesStopsAtTheDeadline(t *testing.T) {
	tif := readFixture(t, "fax.tif")
	in := channels.InboundMessage{Attachments: []channels.Attachment{{Filename: "a.tif", Data: tif}, {Filename: "b.tif", Data: tif}}}
	countAttachmentPages(&in, newPageCounter(messageInflateBudget, 0))
	if in.Attachments[0].Pages != nil || in.Attachments[1].Pages != nil {
		t.Error("pages counted after the deadline")
	}
	if len(in.Notes) != 1 || !strings.Contains(in.Notes[0], `"a.tif" in poi`) {
		t.Errorf("notes %q", in.Notes)
	}
}

// A fax server on the comune's own network often has a domain with neither SPF nor DKIM: its
// configured networks prove its mail instead, and only theirs.
func TestDetectorTakesGatewayMailFromItsNetworks(t *testing.T) {
	d, err := NewDetector([]config.FaxGateway{{Sender: "@fax.example", SubjectPattern: `(?i)fax (?:from|da|di) ([+0-9 ./-]+)`,
		Networks: []string{"10.1.2.0/24", "2001:db8::/64"}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		ip  string
		fax bool
	}{{"10.1.2.7", true}, {"2001:db8::25", true}, {"10.1.3.7", false}, {"", false}} {
		in := channels.InboundMessage{Channel: channels.Email, From: "gateway@fax.example", ReceivedOverSMTP: true,
			SenderCheck: channels.SenderNone, Subject: "Fax da 055 1234567"}
		if tc.ip != "" {
			in.ClientIP = netip.MustParseAddr(tc.ip)
		}
		if got := d.Apply(&in); got != tc.fax || (got && in.From != "+390551234567") {
			t.Errorf("client %q: fax %v from %q, want fax %v", tc.ip, got, in.From, tc.fax)
		}
	}
}
