package email

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/sportello/sportello/adapters/email/pec"
	"github.com/sportello/sportello/adapters/email/pec/pectest"
	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/ingest"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

// errValueRefused stands for the database refusing a value (PostgreSQL's SQLSTATE 22021).
var errValueRefused = errors.New("invalid byte sequence for encoding UTF8")

// A message the store refuses for what it holds fails the same way on every attempt: retried,
// it stopped the mailbox at its UID for good, and no later mail was ever read. It is left
// unread for a person and the poller goes on; a failure of the database's own is still
// retried (TestIMAPStoreFailureLeavesMailUnseenAndRetries).
func TestIMAPMessageTheStoreRefusesStaysUnreadAndLaterMailIsRead(t *testing.T) {
	srv := startIMAP(t)
	other := srv.client(t)
	for i := 1; i <= 3; i++ {
		appendMail(t, other, "INBOX", mailN(i))
	}
	sink, uids := newMemSink(), newMemUIDs()
	var mu sync.Mutex
	refusals := 0
	sink.setHook(func(in channels.InboundMessage) error {
		if in.ExternalID != "m2@example.it" {
			return nil
		}
		mu.Lock()
		refusals++
		mu.Unlock()
		return &ingest.RefusedError{Err: errValueRefused}
	})
	p, stop := runPoller(t, IMAPOptions{Address: srv.addr, Sink: sink, State: uids, BatchSize: 10, IdleRefresh: 200 * time.Millisecond})
	waitFor(t, 5*time.Second, "the mail behind the refused one", func() bool { return len(sink.stored()) == 2 })
	appendMail(t, other, "INBOX", mailN(4))
	waitFor(t, 5*time.Second, "mail arriving later", func() bool { return len(sink.stored()) == 3 })
	waitFor(t, 5*time.Second, "progress past the refused message", func() bool { _, u := uids.get(p.Key()); return u == 4 })
	stop()
	for _, in := range sink.stored() {
		if in.ExternalID == "m2@example.it" {
			t.Fatal("the refused message was stored")
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if refusals != 1 {
		t.Errorf("the refused message was offered %d times, want once", refusals)
	}
	if st := p.Stats(); st.Sessions != 1 || st.LastError != "" {
		t.Errorf("a refusal must not end the session: %+v", st)
	}
	fl := flagsOf(t, other, "INBOX")
	if hasFlag(fl[2], imap.FlagSeen) || !hasFlag(fl[1], imap.FlagSeen) || !hasFlag(fl[3], imap.FlagSeen) || !hasFlag(fl[4], imap.FlagSeen) {
		t.Errorf("the refused message must stay unread for a person, the others be flagged: %v", fl)
	}
}

// refusingReceipts refuses every receipt, as the store would one it cannot hold.
type refusingReceipts struct {
	mu    sync.Mutex
	calls int
}

func (r *refusingReceipts) DeliveryReceipt(context.Context, channels.DeliveryReceipt) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	return "", &ingest.RefusedError{Err: errValueRefused}
}

func (r *refusingReceipts) callCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls
}

func TestIMAPPECReceiptTheStoreRefusesStaysUnreadAndLaterMailIsRead(t *testing.T) {
	prov, err := pectest.NewProvider("Gestore di Prova S.p.A.", "pec.prova.example")
	if err != nil {
		t.Fatal(err)
	}
	accept, err := prov.Build(pectest.Spec{Tipo: pec.TipoAccettazione, Mittente: "protocollo@pec.comune.fi.it", To: "mario.rossi@pec.prova.example",
		Oggetto: "Re: Richiesta", Identificativo: "opec2@pec.prova.example", MsgID: "reply-1@sportello.example", Date: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	srv := startIMAP(t)
	other := srv.client(t)
	appendMail(t, other, "INBOX", string(accept))
	appendMail(t, other, "INBOX", mailN(2))
	sink, uids, receipts := newMemSink(), newMemUIDs(), &refusingReceipts{}
	p, stop := runPoller(t, IMAPOptions{Address: srv.addr, Sink: sink, State: uids, PEC: true, Receipts: receipts})
	waitFor(t, 5*time.Second, "the mail behind the refused receipt", func() bool { return len(sink.stored()) == 1 })
	waitFor(t, 5*time.Second, "progress past the refused receipt", func() bool { _, u := uids.get(p.Key()); return u == 2 })
	stop()
	if n := receipts.callCount(); n != 1 {
		t.Errorf("the refused receipt was offered %d times, want once", n)
	}
	fl := flagsOf(t, other, "INBOX")
	if hasFlag(fl[1], imap.FlagSeen) || !hasFlag(fl[2], imap.FlagSeen) {
		t.Errorf("the refused receipt must stay unread, the mail after it be flagged: %v", fl)
	}
}

// The audit's case end to end, on both databases: a NUL in a message's headers used to stop
// the mailbox for good on PostgreSQL. The message is stored, and so is the mail behind it.
func TestIMAPMailWithNULInItsHeadersIsStoredAndLaterMailIsRead(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		sink, err := ingest.New(ingest.Options{Store: s, Logger: quietLogger()})
		if err != nil {
			t.Fatal(err)
		}
		defer sink.Close()
		srv := startIMAP(t)
		other := srv.client(t)
		appendMail(t, other, "INBOX", "From: Mallory <mal\x00lory@evil.example\r\nTo: urp@comune.fi.it\r\nSubject: x\x00y\r\n"+
			"Message-ID: <a\x00b@evil.example>\r\nReferences: <c\x00d@evil.example>\r\n\r\nciao\x00\r\n")
		appendMail(t, other, "INBOX", mailN(2))
		p, stop := runPoller(t, IMAPOptions{Address: srv.addr, Sink: sink, State: s})
		waitFor(t, 10*time.Second, "both stored", func() bool { _, u, _ := s.IMAPState(ctx, p.Key()); return u == 2 })
		stop()
		if n, _ := s.CountMessages(ctx, ""); n != 2 {
			t.Fatalf("messages: %d, want 2", n)
		}
		for uid, fs := range flagsOf(t, other, "INBOX") {
			if !hasFlag(fs, imap.FlagSeen) {
				t.Errorf("UID %d not flagged \\Seen", uid)
			}
		}
	})
}
