package store_test

import (
	"strings"
	"testing"

	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

// The sweep of expired offers runs every SLA round on every replica: it must read the partial
// index of the calls waiting for their operator (a handful of rows), never the contacts.
func TestStaleOffersReadTheirPartialIndex(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		conn := oneConn(t, s)
		plan := explain(t, conn, s.Dialect(), store.StaleOffersQuery, 1, 1, 10)
		if !strings.Contains(plan, "contacts_call_offers") || strings.Contains(plan, "TEMP B-TREE") {
			t.Fatalf("the sweep does not read contacts_call_offers in order:\n%s", plan)
		}
	})
}
