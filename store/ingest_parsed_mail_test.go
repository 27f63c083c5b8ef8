package store_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/sportello/sportello/adapters/email/mailparse"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

// Any SMTP client can put a NUL in a header (go-smtp passes every byte of DATA), and
// PostgreSQL refuses NUL in text (SQLSTATE 22021): a parsed message holding one failed on
// every attempt, so the sender got 451 forever and an IMAP poller never got past it. What the
// parser makes of such headers is storable on both databases, even without the ingest door's
// own NUL removal.
func TestParsedMailWithNULInItsHeadersIsStored(t *testing.T) {
	raw := []byte("From: Mallory <mal\x00lory@evil.example\r\nTo: urp@comune.fi.it\r\nSubject: x\x00y\r\n" +
		"Message-ID: <a\x00b@evil.example>\r\nIn-Reply-To: <c\x00d@evil.example>\r\nReferences: <e\x00f@evil.example>\r\n" +
		"Date: 1\x00 gennaio\r\n\r\nciao\r\n")
	in, err := mailparse.Parse(bytes.NewBuffer(raw), mailparse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		if _, err := s.Ingest(context.Background(), store.IngestRequest{In: in, Comune: "firenze"}); err != nil {
			t.Fatalf("a message the parser accepted cannot be stored: %v", err)
		}
	})
}
