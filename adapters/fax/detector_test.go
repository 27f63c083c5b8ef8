package fax

import (
	"reflect"
	"regexp"
	"strings"
	"testing"

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
