package desk_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/config"
	"github.com/sportello/sportello/desk"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

// Two replicas (two stores, two desks) on one PostgreSQL database assign 60 new contacts at
// once to 4 operators of capacity 5: exactly 20 are assigned and nobody holds more than 5.
func TestReplicasNeverOverAssign(t *testing.T) {
	t.Parallel()
	s1, dbURL := storetest.OpenURL(t, store.Postgres)
	s2, err := store.Open(context.Background(), store.Options{URL: dbURL})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s2.Close() }()
	cfg, err := config.Parse([]byte(testYAML))
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var desks []*desk.Desk
	for _, s := range []*store.Store{s1, s2} {
		d, err := desk.New(desk.Options{Store: s, Config: cfg, Logger: log})
		if err != nil {
			t.Fatal(err)
		}
		desks = append(desks, d)
	}
	ctx := context.Background()
	for i := 0; i < 4; i++ {
		u, err := s1.CreateUser(ctx, store.User{Username: fmt.Sprintf("op%d", i), Role: store.RoleOperator, PasswordHash: "x", Capacity: 5})
		if err != nil {
			t.Fatal(err)
		}
		if err := desks[0].SetPresence(ctx, u, "available"); err != nil {
			t.Fatal(err)
		}
	}
	var ids []string
	for i := 0; i < 60; i++ {
		r, err := s1.Ingest(ctx, store.IngestRequest{Comune: "firenze", Queue: "generale",
			In: channels.InboundMessage{Channel: channels.SMS, ExternalID: fmt.Sprintf("SMR%03d", i), From: fmt.Sprintf("+39347%07d", i), To: "+390552768000", Body: "x"}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ContactID)
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(ids))
	start := make(chan struct{})
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if _, err := desks[i%2].AssignWaiting(ctx, id); err != nil {
				errs <- err
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	ops, err := s1.Operators(ctx)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, o := range ops {
		if o.Open > o.Capacity {
			t.Fatalf("%s holds %d contacts, capacity %d", o.Username, o.Open, o.Capacity)
		}
		total += o.Open
	}
	if total != 20 {
		t.Fatalf("%d contacts assigned, want 20", total)
	}
}

// A user whose every inbox session ended without a logout is set offline by the sweep, and
// their contacts go back to the queue; a user who only ever used an API token is left alone.
func TestExpiredSessionsSetOffline(t *testing.T) {
	t.Parallel()
	clock := &storetest.Clock{}
	storetest.EachWith(t, store.Options{Now: clock.Now}, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		ctx := context.Background()
		web := f.user("web", store.RoleOperator)
		api := f.user("api", store.RoleOperator)
		if _, err := s.CreateToken(ctx, web.ID, store.TokenSession, time.Minute); err != nil {
			t.Fatal(err)
		}
		for _, u := range []store.User{web, api} {
			if err := f.d.SetPresence(ctx, u, "available"); err != nil {
				t.Fatal(err)
			}
		}
		clock.Advance(time.Minute) // web's only session expires
		if err := f.d.SessionEnded(ctx, api); err != nil {
			t.Fatal(err)
		}
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- f.d.RunSLA(runCtx) }()
		presence := map[string]string{}
		f.waitFor("the sweep to set web offline", func() bool {
			ops, _ := s.Operators(ctx)
			for _, o := range ops {
				presence[o.Username] = o.Presence
			}
			return presence["web"] == "offline"
		})
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		// SessionEnded with no session at all does go offline: it is called after a logout.
		if presence["api"] != "offline" {
			t.Fatalf("api after SessionEnded is %s", presence["api"])
		}
	})
}
