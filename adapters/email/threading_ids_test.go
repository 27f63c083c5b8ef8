package email

import (
	netmail "net/mail"
	"testing"
	"time"

	"github.com/sportello/sportello/channels"
)

// A bare CR in a Message-ID or References used to survive parsing (readHeader trims only a
// trailing CR), be stored, and come back as In-Reply-To and References of every later reply,
// where go-message refuses a header value with CR: the reply failed for good. The parser now
// drops such ids, so the reply threads under the clean ones.
func TestReplyToAMessageWithControlCharactersInItsIDsCanBeBuilt(t *testing.T) {
	raw := []byte("From: Anna <anna@example.it>\r\nTo: urp@comune.fi.it\r\nSubject: buca\r\n" +
		"Message-ID: <a\rb@example.it>\r\nReferences: <x\ry@example.it> <prima@example.it>\r\n\r\nciao\r\n")
	in, err := messageFromRaw(DefaultParse(0), raw, "anna@example.it", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(in.References) != 1 || in.References[0] != "prima@example.it" {
		t.Errorf("references %q: want only the clean one", in.References)
	}
	from, _ := netmail.ParseAddress("Linea Comune <noreply@055055.example>")
	to, _ := netmail.ParseAddress("anna@example.it")
	out := channels.OutboundMessage{Channel: channels.Email, Subject: "Re: buca", Body: "risposta",
		InReplyTo: in.MessageID, References: append(in.References, in.MessageID)}
	if _, err := buildMessage(out, from, to, "r1@055055.example", time.Now()); err != nil {
		t.Errorf("the reply to message id %q cannot be built: %v", in.MessageID, err)
	}
}
