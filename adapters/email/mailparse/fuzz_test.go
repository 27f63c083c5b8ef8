package mailparse

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
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
	})
}
