package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

// stressSender is a citizen's address in the stress test and the message it sends.
type stressSender struct {
	id channels.Identity
	// erased is set for the citizen the test erases.
	erased bool
}

func (s stressSender) message(ext string) store.IngestRequest {
	in := channels.InboundMessage{Channel: channels.SMS, ExternalID: "SM" + ext, From: s.id.Value,
		To: "+390552768000", Body: "segnalazione " + ext}
	if s.id.Kind == channels.IdentityEmail {
		in = channels.InboundMessage{Channel: channels.Email, ExternalID: "<" + ext + "@x>", MessageID: "<" + ext + "@x>",
			From: s.id.Value, To: "urp@comune.fi.it", Subject: "pratica", Body: "segnalazione " + ext}
	}
	return store.IngestRequest{Comune: "firenze", In: in}
}

// stressAck is a message a caller was told was stored.
type stressAck struct {
	from stressSender
	req  store.IngestRequest
	rec  channels.Receipt
}

// mergeStress is the citizens of the stress test: pairs merged while they write (A into B,
// then the merged pairs two by two), others who only write, and one erased meanwhile.
type mergeStress struct {
	as, bs, others []stressSender
	erased         stressSender
	citizen        map[channels.Identity]string // each address's citizen before the run
}

func newMergeStress(t *testing.T, s *store.Store, pairs, others int) *mergeStress {
	t.Helper()
	m := &mergeStress{citizen: map[channels.Identity]string{}}
	for i := range pairs {
		m.as = append(m.as, stressSender{id: channels.IdentityFor(channels.SMS, fmt.Sprintf("+39347100%04d", i))})
		m.bs = append(m.bs, stressSender{id: channels.IdentityFor(channels.Email, fmt.Sprintf("b%d@example.it", i))})
	}
	for i := range others {
		m.others = append(m.others, stressSender{id: channels.IdentityFor(channels.SMS, fmt.Sprintf("+39347200%04d", i))})
	}
	m.erased = stressSender{id: channels.IdentityFor(channels.SMS, "+393473000000"), erased: true}
	for i, from := range m.all() {
		rec, err := s.Ingest(context.Background(), from.message(fmt.Sprintf("seed-%d", i)))
		if err != nil {
			t.Fatal(err)
		}
		m.citizen[from.id] = rec.CitizenID
	}
	return m
}

func (m *mergeStress) all() []stressSender {
	return append(append(append(append([]stressSender(nil), m.as...), m.bs...), m.others...), m.erased)
}

// Merges of citizens, and an erasure, while their messages and other citizens' arrive on two
// stores on one database (two replicas on PostgreSQL, where ingest batches many citizens'
// messages in one transaction and a merge locks its two citizens): no caller sees an error,
// every message acknowledged is stored once, on the citizen its address belongs to now (never
// on one merged away), and no deadlock holds anyone for PostgreSQL's deadlock_timeout.
func TestMergesAndErasureUnderIngestFromTwoStores(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(strings.ToLower(string(d)), func(t *testing.T) {
			sh := storetest.NewShared(t, d)
			stores := []*store.Store{sh.Open(t), sh.Open(t)}
			m := newMergeStress(t, stores[0], 8, 8)
			started := time.Now()
			acks, errs := m.run(stores, 16, 40)
			elapsed := time.Since(started)
			for _, err := range errs {
				t.Error(err)
			}
			m.check(t, stores[0], acks)
			// A deadlock costs its victim PostgreSQL's deadlock_timeout (a second) before it
			// runs again: with batches and merges locking citizens in whatever order, runs
			// met a dozen or more and took 15-20 s; in id order, 0.8-3.9 s here. The bound
			// leaves room for a CI machine running every package at once.
			if elapsed > 10*time.Second {
				t.Errorf("the run took %v: writers waited for deadlocks to be broken", elapsed)
			}
			t.Logf("%d messages, merges and an erasure in %v", len(acks), elapsed)
		})
	}
}

// run sends senders×perSender messages through both stores while the pairs merge and the
// erased citizen is erased; it returns the messages acknowledged and every error a caller saw.
func (m *mergeStress) run(stores []*store.Store, senders, perSender int) ([]stressAck, []error) {
	ctx := context.Background()
	var mu sync.Mutex
	var acks []stressAck
	var errs []error
	fail := func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}
	everyone := m.all()
	var wg sync.WaitGroup
	ingesting := make(chan struct{})
	var firstAck sync.Once
	for g := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := stores[g%len(stores)]
			rnd := rand.New(rand.NewPCG(uint64(g), 1))
			for i := range perSender {
				from := everyone[rnd.IntN(len(everyone))]
				req := from.message(fmt.Sprintf("st-%d-%d", g, i))
				rec, err := s.Ingest(ctx, req)
				if err != nil {
					fail(fmt.Errorf("ingest of %s from %s: %w", req.In.ExternalID, from.id.Value, err))
					continue
				}
				firstAck.Do(func() { close(ingesting) })
				mu.Lock()
				acks = append(acks, stressAck{from: from, req: req, rec: rec})
				mu.Unlock()
			}
		}()
	}
	<-ingesting
	// Each store merges half the pairs, A into B, then the merged pairs two by two; the
	// erasure runs on one of them meanwhile.
	var merges sync.WaitGroup
	for r := range stores {
		merges.Add(1)
		go func() {
			defer merges.Done()
			for k := r; k < len(m.as); k += len(stores) {
				if err := stores[r].MergeCitizens(ctx, m.citizen[m.bs[k].id], m.citizen[m.as[k].id], store.Scope{}); err != nil {
					fail(fmt.Errorf("merge of pair %d: %w", k, err))
				}
				time.Sleep(time.Millisecond)
			}
		}()
	}
	merges.Add(1)
	go func() {
		defer merges.Done()
		time.Sleep(5 * time.Millisecond)
		if _, err := stores[1].EraseCitizen(ctx, m.citizen[m.erased.id], store.Scope{}, "admin", "art. 17"); err != nil {
			fail(fmt.Errorf("erasure: %w", err))
		}
	}()
	merges.Wait()
	for r := range stores {
		merges.Add(1)
		go func() {
			defer merges.Done()
			for k := 2 * r; k+1 < len(m.bs); k += 2 * len(stores) {
				if err := stores[r].MergeCitizens(ctx, m.citizen[m.bs[k+1].id], m.citizen[m.bs[k].id], store.Scope{}); err != nil {
					fail(fmt.Errorf("merge of pairs %d and %d: %w", k, k+1, err))
				}
			}
		}()
	}
	merges.Wait()
	wg.Wait()
	return acks, errs
}

// check asserts that every acknowledged message is stored once, as acknowledged, on the live
// citizen its address belongs to now (the erased citizen's: on the erased citizen, or on the
// new one a later message started), and that nothing else was stored.
func (m *mergeStress) check(t *testing.T, s *store.Store, acks []stressAck) {
	t.Helper()
	ctx := context.Background()
	type stored struct {
		messageID, citizenID string
		mergedInto           sql.NullString
		erasedAt             sql.NullInt64
	}
	rows, err := s.Query(ctx, `SELECT m.external_id, m.id, c.citizen_id, ci.merged_into, ci.erased_at FROM messages m
		JOIN contacts c ON c.id = m.contact_id JOIN citizens ci ON ci.id = c.citizen_id`)
	if err != nil {
		t.Fatal(err)
	}
	byExternal := map[string][]stored{}
	for rows.Next() {
		var ext string
		var st stored
		if err := rows.Scan(&ext, &st.messageID, &st.citizenID, &st.mergedInto, &st.erasedAt); err != nil {
			t.Fatal(err)
		}
		byExternal[ext] = append(byExternal[ext], st)
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	if want := len(acks) + len(m.citizen); len(byExternal) != want {
		t.Errorf("%d messages stored, want %d (%d acknowledged and the seeds)", len(byExternal), want, len(acks))
	}
	erasedCitizen := m.citizen[m.erased.id]
	for _, a := range acks {
		got := byExternal[a.req.In.ExternalID]
		if len(got) != 1 {
			t.Errorf("message %s is stored %d times", a.req.In.ExternalID, len(got))
			continue
		}
		st := got[0]
		if a.rec.Duplicate || st.messageID != a.rec.MessageID {
			t.Errorf("message %s: acknowledged as %+v, stored as %s", a.req.In.ExternalID, a.rec, st.messageID)
		}
		if st.mergedInto.Valid {
			t.Errorf("message %s is on citizen %s, merged into %s", a.req.In.ExternalID, st.citizenID, st.mergedInto.String)
			continue
		}
		if a.from.erased && st.citizenID == erasedCitizen && st.erasedAt.Valid {
			continue // stored before the erasure, erased with the citizen
		}
		owner, err := s.CitizenByIdentity(ctx, a.from.id)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Fatal(err)
		}
		if st.citizenID != owner || st.erasedAt.Valid {
			t.Errorf("message %s from %s is on citizen %s (erased %v), the address is %s's", a.req.In.ExternalID, a.from.id.Value,
				st.citizenID, st.erasedAt.Valid, owner)
		}
	}
	noLiveContactOnErasedCitizen(t, s)
	noLiveIdentityOnErasedCitizen(t, s)
}
