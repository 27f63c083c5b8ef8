package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
	"github.com/sportello/sportello/web"
)

// /readyz says when every connection of the pool is taken (requests would queue for one),
// and is ready again once one is free.
func TestReadyzReportsAnExhaustedPool(t *testing.T) {
	ctx := context.Background()
	url := storetest.NewDatabaseURL(t, store.Postgres)
	s, err := store.Open(ctx, store.Options{URL: url, MaxOpenConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	e := web.New(web.Options{Store: s})
	ready := func() (int, string) {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		var body struct{ Status string }
		_ = json.Unmarshal(rec.Body.Bytes(), &body)
		return rec.Code, body.Status
	}
	if code, st := ready(); code != http.StatusOK {
		t.Fatalf("idle pool: %d %s", code, st)
	}
	var held []interface{ Close() error }
	for range 2 {
		c, err := s.DB().Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	if code, st := ready(); code != http.StatusServiceUnavailable || st != "database pool exhausted" {
		t.Fatalf("exhausted pool: %d %q", code, st)
	}
	_ = held[0].Close()
	if code, st := ready(); code != http.StatusOK {
		t.Fatalf("after a connection came back: %d %s", code, st)
	}
	_ = held[1].Close()
}
