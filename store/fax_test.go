package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

func ingestFax(t *testing.T, s *store.Store, ext, category string) (channels.Receipt, string) {
	t.Helper()
	ctx := context.Background()
	pages := 2
	var attID string
	r, err := s.Ingest(ctx, store.IngestRequest{In: channels.InboundMessage{Channel: channels.Fax, ExternalID: ext, MessageID: ext,
		From: "+390551234567", To: "urp@comune.fi.it", Subject: "Fax da +39 055 1234567", Body: "Ricevuto un fax di 2 pagine.",
		Attachments: []channels.Attachment{{Filename: "fax.tif", ContentType: "image/tiff", Pages: &pages, Data: []byte("II*\x00fake")}}},
		Comune: "firenze", Category: category, Queue: "generale"})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		as, err := s.MessageAttachmentsTx(ctx, tx, r.MessageID)
		if err != nil {
			return err
		}
		if len(as) != 1 || as[0].Filename != "fax.tif" || as[0].ContentType != "image/tiff" || as[0].Pages == nil || *as[0].Pages != 2 || as[0].SHA256 == "" {
			t.Errorf("attachments in tx: %+v", as)
		} else {
			attID = as[0].ID
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return r, attID
}

func TestSetFaxTextAppendsOnceAndReroutesOnlyTheFallback(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		r, att := ingestFax(t, s, "fax-1@gw.example", "altro")
		ft := store.FaxText{ContactID: r.ContactID, AttachmentID: att, Text: "  Chiedo l'annullamento della multa n. 1234  \n",
			Routing: store.Routing{Category: "contravvenzioni", Queue: "polizia-municipale", Priority: 2}, Replaceable: []string{"altro"}}
		rerouted, err := s.SetFaxText(ctx, ft)
		if err != nil || !rerouted {
			t.Fatalf("first: %v %v", rerouted, err)
		}
		// A retried job: nothing appended twice.
		if rerouted, err := s.SetFaxText(ctx, ft); err != nil || rerouted {
			t.Fatalf("again: %v %v", rerouted, err)
		}
		c, err := s.GetContact(ctx, r.ContactID, store.Scope{})
		if err != nil {
			t.Fatal(err)
		}
		want := "Ricevuto un fax di 2 pagine.\n\n[Testo del fax letto con OCR: fax.tif]\nChiedo l'annullamento della multa n. 1234"
		if c.Body != want {
			t.Fatalf("body %q\nwant %q", c.Body, want)
		}
		if c.Category == nil || *c.Category != "contravvenzioni" || c.Queue == nil || *c.Queue != "polizia-municipale" || c.Priority != 2 {
			t.Fatalf("routing: %v %v %d", c.Category, c.Queue, c.Priority)
		}
		msgs, err := s.Messages(ctx, r.ContactID)
		if err != nil || len(msgs) != 1 || !strings.HasSuffix(msgs[0].Body, "n. 1234") {
			t.Fatalf("message body: %+v %v", msgs, err)
		}

		// An operator's category stays.
		r2, att2 := ingestFax(t, s, "fax-2@gw.example", "permessi-ztl")
		rerouted, err = s.SetFaxText(ctx, store.FaxText{ContactID: r2.ContactID, AttachmentID: att2, Text: "multa",
			Routing: store.Routing{Category: "contravvenzioni"}, Replaceable: []string{"altro"}})
		if err != nil || rerouted {
			t.Fatalf("operator's category: %v %v", rerouted, err)
		}
		c2, _ := s.GetContact(ctx, r2.ContactID, store.Scope{})
		if *c2.Category != "permessi-ztl" || !strings.Contains(c2.Body, "multa") {
			t.Fatalf("contact 2: %v %q", *c2.Category, c2.Body)
		}
		// Unset category: routed.
		r3, att3 := ingestFax(t, s, "fax-3@gw.example", "")
		if rerouted, err := s.SetFaxText(ctx, store.FaxText{ContactID: r3.ContactID, AttachmentID: att3, Text: "ztl",
			Routing: store.Routing{Category: "permessi-ztl"}}); err != nil || !rerouted {
			t.Fatalf("unset category: %v %v", rerouted, err)
		}
		if _, err := s.SetFaxText(ctx, store.FaxText{ContactID: r3.ContactID, AttachmentID: att, Text: "x"}); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("attachment of another contact: %v", err)
		}
		if _, err := s.SetFaxText(ctx, store.FaxText{ContactID: "nope", AttachmentID: att3, Text: "x"}); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown contact: %v", err)
		}
	})
}

func TestSetAttachmentPreview(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		r, att := ingestFax(t, s, "fax-p@gw.example", "")
		if _, err := s.AttachmentPreview(ctx, r.ContactID, att, store.Scope{}); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("before: %v", err)
		}
		png := []byte("\x89PNG\r\n\x1a\nfake")
		if err := s.SetAttachmentPreview(ctx, att, png); err != nil {
			t.Fatal(err)
		}
		got, err := s.AttachmentPreview(ctx, r.ContactID, att, store.Scope{})
		if err != nil || string(got) != string(png) {
			t.Fatalf("preview: %q %v", got, err)
		}
		if err := s.SetAttachmentPreview(ctx, "nope", png); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown attachment: %v", err)
		}
		if err := s.SetAttachmentPreview(ctx, att, nil); err == nil {
			t.Fatal("an empty preview must be refused")
		}
	})
}
