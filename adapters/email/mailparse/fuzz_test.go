package mailparse

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sportello/sportello/channels"
)

func FuzzParse(f *testing.F) {
	files, err := filepath.Glob("testdata/*.eml")
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		raw, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	for _, s := range []string{
		"", "From: a@b\r\n\r\n", "Subject: =?utf-8?B?w6g=?=\n\n",
		"Content-Type: multipart/mixed; boundary=a\n\n--a\n--a\n\n--a--",
		"Content-Type: message/rfc822\n\nContent-Type: message/rfc822\n\nFrom: x@y\n\nz",
		"From: x@y\nContent-Type: text/html\n\n<a href='javascript:x'>a</a><script>b</script><p>c",
		"From: x@y\nContent-Type: multipart/alternative; boundary=\"\"\n\n",
		"From: x@y\nContent-Disposition: attachment; filename*0*=x''%; filename*1=\n\n",
		"From: x@y\nMessage-ID: <a\x00b@y>\nIn-Reply-To: <c\rd@y>\nReferences: <e\x01f@y> <g@y>\n\n",
		"From: Mallory <mal\x00lory@evil.example\nTo: urp\x00@comune.fi.it;\nDate: 1\x00 Jan\n\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		opts := testOptions()
		opts.MaxParts = 50
		opts.MaxDepth = 8
		start := time.Now()
		in, err := Parse(bytes.NewReader(raw), opts)
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("Parse took %v on %d bytes", d, len(raw))
		}
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error of the wrong type: %v", err)
			}
			return
		}
		if in.Channel != channels.Email || in.ExternalID == "" || in.ExternalID != in.MessageID {
			t.Fatalf("bad ids: channel %q external %q message %q", in.Channel, in.ExternalID, in.MessageID)
		}
		for name, s := range map[string]string{"body": in.Body, "subject": in.Subject, "from": in.From,
			"name": in.FromName, "to": in.To, "id": in.ExternalID} {
			if !utf8.ValidString(s) {
				t.Fatalf("%s is not valid UTF-8: %q", name, s)
			}
		}
		// Memory stays proportional to the input: attachments hold at most the input's bytes
		// and the text grows only by charset expansion and the forwarded-message markers.
		total := 0
		for _, a := range in.Attachments {
			total += len(a.Data)
			if a.Filename == "" || a.ContentType == "" || a.Size != int64(len(a.Data)) {
				t.Fatalf("bad attachment %+v", a)
			}
		}
		if total > len(raw) {
			t.Fatalf("attachments hold %d bytes of a %d-byte input", total, len(raw))
		}
		if len(in.Body) > 8*len(raw)+4096 {
			t.Fatalf("body of %d bytes from %d bytes of input", len(in.Body), len(raw))
		}
		if len(in.Notes) > maxNotes+1 {
			t.Fatalf("%d notes", len(in.Notes))
		}
		assertStorableAndReplyable(t, in)
	})
}

// assertStorableAndReplyable checks what the store and our replies need of a parsed message:
// no control character in an id (a reply writes them into In-Reply-To and References, where a
// CR is refused) and no NUL anywhere (PostgreSQL refuses it in text).
func assertStorableAndReplyable(t *testing.T, in channels.InboundMessage) {
	t.Helper()
	ids := append([]string{in.MessageID, in.InReplyTo, in.From, in.To}, in.References...)
	for _, id := range ids {
		if hasControlChar(id) {
			t.Fatalf("control character in an id or address: %q", id)
		}
	}
	texts := append([]string{in.Subject, in.FromName, in.Body}, in.Notes...)
	for _, a := range in.Attachments {
		texts = append(texts, a.Filename, a.ContentType)
	}
	for _, s := range texts {
		if strings.IndexByte(s, 0) >= 0 {
			t.Fatalf("NUL in %q", s)
		}
	}
}
