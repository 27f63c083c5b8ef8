package mailparse

import (
	"strings"
	"testing"

	"github.com/sportello/sportello/channels"
)

// parseStorable parses raw and checks the result can be stored and replied to.
func parseStorable(t *testing.T, raw string) channels.InboundMessage {
	t.Helper()
	in, err := Parse(strings.NewReader(raw), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	assertStorableAndReplyable(t, in)
	return in
}

// A NUL in a Message-ID would be refused by PostgreSQL on every attempt; a bare CR would make
// every reply of the thread unbuildable. Such an id is dropped: the message gets an id of our
// own, as a message without Message-ID does.
func TestMessageIDWithAControlCharacterIsReplacedByOurOwn(t *testing.T) {
	for name, id := range map[string]string{"NUL": "a\x00b@evil.example", "CR": "a\rb@example.it",
		"ESC": "a\x1bb@example.it", "DEL": "a\x7fb@example.it", "tab": "a\tb@example.it"} {
		t.Run(name, func(t *testing.T) {
			in := parseStorable(t, "From: anna@example.it\r\nMessage-ID: <"+id+">\r\nSubject: x\r\n\r\nciao\r\n")
			if !strings.HasPrefix(in.MessageID, "sha256-") || in.ExternalID != in.MessageID {
				t.Fatalf("Message-ID %q kept as %q (external id %q)", id, in.MessageID, in.ExternalID)
			}
		})
	}
}

func TestThreadIDsWithControlCharactersAreDroppedAndTheOthersKept(t *testing.T) {
	in := parseStorable(t, "From: anna@example.it\r\nMessage-ID: <ok@example.it>\r\n"+
		"In-Reply-To: <p\x7fq@example.it>\r\nReferences: <r1@example.it> <x\ry@example.it> <n\x00ul@example.it> <r2@example.it>\r\n\r\nciao\r\n")
	if in.MessageID != "ok@example.it" || in.InReplyTo != "" || strings.Join(in.References, " ") != "r1@example.it r2@example.it" {
		t.Fatalf("ids: message %q, in-reply-to %q, references %q", in.MessageID, in.InReplyTo, in.References)
	}
	// Without brackets ids are words; a control character still disqualifies one.
	in = parseStorable(t, "From: anna@example.it\r\nReferences: r1@example.it x\x01y@example.it\r\n\r\nciao\r\n")
	if strings.Join(in.References, " ") != "r1@example.it" {
		t.Fatalf("references without brackets: %q", in.References)
	}
}

// The strict address parser refuses control characters; the loose fallback, used when the
// field is not valid RFC 5322, used to keep them, and a NUL reached the store in From.
func TestLooseAddressFallbackDropsControlCharacters(t *testing.T) {
	in := parseStorable(t, "From: Mallory <mal\x00lory@evil.example\r\nTo: \x01urp@comune.fi.it;\r\nSubject: x\r\n\r\nciao\r\n")
	if in.From != "mallory@evil.example" || in.FromName != "Mallory" || in.To != "urp@comune.fi.it" {
		t.Fatalf("from %q name %q to %q", in.From, in.FromName, in.To)
	}
	// Nothing but control characters on one side of the "@" is no address at all.
	in = parseStorable(t, "From: <\x00@\x01\r\nSubject: x\r\n\r\nciao\r\n")
	if in.From != "" {
		t.Fatalf("from %q", in.From)
	}
}

func TestNotesShowControlCharactersAsTheReplacementCharacter(t *testing.T) {
	in := parseStorable(t, "From: anna@example.it\r\nDate: 1\x00 gennaio\r\n\r\nciao\r\n")
	found := false
	for _, n := range in.Notes {
		if strings.Contains(n, "data non leggibile") {
			found = true
			if !strings.Contains(n, "1\uFFFD gennaio") {
				t.Errorf("note %q does not show where the control character was", n)
			}
		}
	}
	if !found {
		t.Fatalf("no note about the date: %q", in.Notes)
	}
}
