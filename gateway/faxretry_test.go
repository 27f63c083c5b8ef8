package gateway

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/events"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

type discardEvents struct{}

func (discardEvents) Publish(context.Context, events.Event) error { return nil }

// A fax document retried after running out of its budget keeps the preview its first attempt
// stored: the retry does not draw page one again. The first attempt does draw it (here it
// fails on a document the tools cannot read, and says so in the log).
func TestFaxRetryKeepsTheStoredPreview(t *testing.T) {
	s := storetest.Open(t, store.SQLite)
	ctx := context.Background()
	pages := 1
	r, err := s.Ingest(ctx, store.IngestRequest{In: channels.InboundMessage{Channel: channels.Fax, ExternalID: "fax-retry@gw.example",
		MessageID: "fax-retry@gw.example", From: "+390551234567", To: "urp@comune.fi.it", Subject: "Fax", Body: "Ricevuto un fax di 1 pagina.",
		ReceivedAt:  time.Now().UTC(),
		Attachments: []channels.Attachment{{Filename: "fax.tif", ContentType: "image/tiff", Pages: &pages, Data: []byte("II*\x00not a tiff")}}},
		Comune: "firenze", Queue: "generale"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.GetContact(ctx, r.ContactID, store.Scope{})
	if err != nil || len(c.Attachments) != 1 {
		t.Fatalf("contact: %+v %v", c, err)
	}
	args := faxWorkArgs{ContactID: r.ContactID, AttachmentID: c.Attachments[0].ID}
	work := func(attempt int) string {
		var logs bytes.Buffer
		w := &faxWorker{store: s, events: discardEvents{}, preview: true, log: slog.New(slog.NewTextHandler(&logs, nil))}
		job := &river.Job[faxWorkArgs]{JobRow: &rivertype.JobRow{Attempt: attempt}, Args: args}
		if err := w.Work(ctx, job); err != nil {
			t.Fatalf("attempt %d: %v", attempt, err)
		}
		return logs.String()
	}
	if out := work(1); !strings.Contains(out, "fax preview not made") {
		t.Fatalf("the first attempt did not try to draw the page:\n%s", out)
	}
	png := []byte("\x89PNG\r\n\x1a\nstored by an earlier attempt")
	if err := s.SetAttachmentPreview(ctx, args.AttachmentID, png); err != nil {
		t.Fatal(err)
	}
	if out := work(2); strings.Contains(out, "preview") {
		t.Fatalf("a retry drew the page again:\n%s", out)
	}
	if got, err := s.AttachmentPreview(ctx, r.ContactID, args.AttachmentID, store.Scope{}); err != nil || !bytes.Equal(got, png) {
		t.Fatalf("preview after the retry: %q %v", got, err)
	}
}
