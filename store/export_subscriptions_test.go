package store_test

import (
	"context"
	"testing"

	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

// consents.json holds the subscriptions by fiscal code (App IO) and their consent trail, as it
// does a number's: each subscription once, though the SMS one carries the fiscal code too.
func TestExportCitizenIncludesAppIOSubscriptions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		id := seedAppIOCitizen(t, s)
		d, err := s.ExportCitizen(ctx, id, store.Scope{Comuni: []string{"firenze"}})
		if err != nil {
			t.Fatal(err)
		}
		subs := map[string]store.SubscriptionRecord{}
		for _, sr := range d.Subscriptions {
			if _, twice := subs[sr.Phone]; twice {
				t.Errorf("subscription %s exported twice", sr.Phone)
			}
			subs[sr.Phone] = sr
		}
		appIO, sms := subs["cf:"+erFiscalCode], subs[erPhone]
		if len(subs) != 2 || appIO.Status != "removed" || appIO.FiscalCode != erFiscalCode || sms.Status != "confirmed" || sms.FiscalCode != erFiscalCode {
			t.Errorf("exported subscriptions: %+v", d.Subscriptions)
		}
		actions := map[string]bool{}
		for _, c := range d.Consents {
			if c.Phone == "cf:"+erFiscalCode {
				actions[c.Action] = true
			}
		}
		if !actions["subscribe"] || !actions["remove"] {
			t.Errorf("the App IO subscription's trail in the export: %+v", d.Consents)
		}
		// Another comune's admin sees neither the citizen nor the subscriptions.
		if _, err := s.ExportCitizen(ctx, id, store.Scope{Comuni: []string{"empoli"}}); err != store.ErrNotFound {
			t.Errorf("export by an admin of another comune: %v, want ErrNotFound", err)
		}
	})
}
