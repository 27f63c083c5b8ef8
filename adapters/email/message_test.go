package email

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sportello/sportello/channels"
)

func TestMessageFromRawFallbacks(t *testing.T) {
	parse := DefaultParse(0)
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	// Latin-1 text without a header: kept, decoded as Windows-1252.
	in, err := messageFromRaw(parse, []byte("la multa \xe8 sbagliata, perch\xe9?\r\n"), "a@example.it", now)
	if err != nil || in.Body != "la multa è sbagliata, perché?\r\n" || in.From != "a@example.it" || in.AutoReply || !in.ReceivedAt.Equal(now) {
		t.Fatalf("latin-1: %+v %v", in, err)
	}
	// No envelope sender: nobody to answer.
	in, err = messageFromRaw(parse, []byte("testo qualsiasi\n"), "", now)
	if err != nil || !in.AutoReply {
		t.Fatalf("no sender: %+v %v", in, err)
	}
	// The same raw input twice is the same id (a retried delivery is a duplicate).
	in2, _ := messageFromRaw(parse, []byte("testo qualsiasi\n"), "", now)
	if in.ExternalID != in2.ExternalID || in.ExternalID == "" {
		t.Fatalf("ids %q %q", in.ExternalID, in2.ExternalID)
	}
	for name, raw := range map[string]string{"empty": "", "blank": " \r\n\r\n", "nul": "abc\x00def", "binary": strings.Repeat("\x01\x02\x03\xff", 100)} {
		if _, err := messageFromRaw(parse, []byte(raw), "a@example.it", now); !errors.Is(err, ErrNotAMessage) {
			t.Errorf("%s: want ErrNotAMessage, got %v", name, err)
		}
	}
	// A message without From takes the envelope sender, with a note.
	in, err = messageFromRaw(parse, []byte("Subject: ciao\r\nMessage-ID: <x@y>\r\n\r\ncorpo\r\n"), "env@example.it", now)
	if err != nil || in.From != "env@example.it" || !containsNote(in.Notes, "MAIL FROM") || in.ExternalID != "x@y" {
		t.Fatalf("no From: %+v %v", in, err)
	}
}

// FuzzMessageFromRaw: whatever arrives, the server neither panics nor stores something it
// could not answer for: a stored message has an id, a valid channel and UTF-8 text.
func FuzzMessageFromRaw(f *testing.F) {
	for _, s := range []string{
		italianMail("a@b", "x@example.it", "urp@comune.fi.it", "Oggetto", "Corpo del messaggio"),
		"ciao senza intestazione",
		"From: <>\r\n\r\n",
		"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nciao\r\n--x--\r\n",
		"\x00\x01",
		"la multa \xe8 sbagliata",
	} {
		f.Add([]byte(s), "mittente@example.it")
	}
	parse := DefaultParse(1 << 16)
	now := time.Now()
	f.Fuzz(func(t *testing.T, raw []byte, envFrom string) {
		in, err := messageFromRaw(parse, raw, envFrom, now)
		if err != nil {
			if !errors.Is(err, ErrNotAMessage) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		if in.ExternalID == "" || in.Channel != channels.Email || !in.ReceivedAt.Equal(now) {
			t.Fatalf("stored message without id/channel/time: %+v", in)
		}
		if !utf8.ValidString(in.Body) || !utf8.ValidString(in.Subject) {
			t.Fatalf("invalid UTF-8 in body or subject")
		}
	})
}
