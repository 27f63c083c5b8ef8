package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/alertstore"
	"github.com/sportello/sportello/store/storetest"
)

// erFiscalCode is the erased citizen's codice fiscale.
const erFiscalCode = "RSSMRA85T10A562S"

// seedAppIOCitizen makes a citizen known by number and fiscal code, subscribed to Firenze's
// alerts first by App IO (fiscal code alone), then by SMS: the confirmed SMS subscription,
// given the fiscal code, replaces the App IO one, and the trail of the App IO key says so,
// naming the number.
func seedAppIOCitizen(t *testing.T, s *store.Store) string {
	t.Helper()
	ctx := context.Background()
	as := alertstore.New(s)
	a, err := s.Ingest(ctx, store.IngestRequest{Comune: "firenze", In: channels.InboundMessage{Channel: channels.SMS, ExternalID: "SMappio1",
		From: erPhone, To: "+390552768000", Body: "Buongiorno"}})
	if err != nil {
		t.Fatal(err)
	}
	addFiscalCode(t, s, a.CitizenID)
	byAPI := alertstore.ConsentActor{Via: alertstore.ViaAPI, Actor: "apikey:k1"}
	if _, err := as.SubscribeFiscalCode(ctx, "firenze", erFiscalCode, nil, "it", byAPI); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		return alertstore.SubscribeByCitizen(ctx, tx, "firenze", erPhone, nil, "it", alertstore.ConsentActor{Via: alertstore.ViaSMS, Actor: erPhone})
	}); err != nil {
		t.Fatal(err)
	}
	if err := as.SetFiscalCode(ctx, "firenze", erPhone, erFiscalCode, byAPI); err != nil {
		t.Fatal(err)
	}
	return a.CitizenID
}

func addFiscalCode(t *testing.T, s *store.Store, citizenID string) {
	t.Helper()
	if _, err := s.AddIdentity(context.Background(), citizenID, channels.Identity{Kind: channels.IdentityFiscalCode, Value: erFiscalCode},
		store.AuditEntry{Actor: "anna", Action: store.AuditIdentity, CitizenID: &citizenID, Target: erFiscalCode}); err != nil {
		t.Fatal(err)
	}
}

type consentRow struct{ key, action, actor, detail string }

func consentTrail(t *testing.T, s *store.Store) []consentRow {
	t.Helper()
	rows, err := s.Query(context.Background(), "SELECT phone, action, actor, detail FROM subscriber_consents ORDER BY at, id")
	list, err := store.Collect(rows, err, func(r interface{ Scan(...any) error }) (consentRow, error) {
		var c consentRow
		return c, r.Scan(&c.key, &c.action, &c.actor, &c.detail)
	})
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// The App IO subscription's consent trail (key "cf:" and the fiscal code) keeps an HMAC of its
// key after the erasure, as a number's does, and no detail names the number or fiscal code.
func TestEraseCitizenPseudonymisesAppIOConsentTrail(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		id := seedAppIOCitizen(t, s)
		if err := s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO alert_recipients (alert_id, seq, batch, phone, fiscal_code, channel, status, error, updated_at)
				VALUES ('al1', 1, 0, ?, ?, 'app_io', 'failed', ?, 1)`, "cf:"+erFiscalCode, erFiscalCode, "profile "+erFiscalCode+" not found")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		counts, err := s.EraseCitizen(ctx, id, store.Scope{}, "admin", "art. 17")
		if err != nil {
			t.Fatal(err)
		}
		if counts.Subscriptions != 2 {
			t.Errorf("subscriptions ended = %d, want 2 (the SMS one and the replaced App IO one)", counts.Subscriptions)
		}
		appIOKey, err := s.ErasedKey(ctx, "cf:"+erFiscalCode)
		if err != nil {
			t.Fatal(err)
		}
		var replaced, erased bool
		for _, c := range consentTrail(t, s) {
			if strings.Contains(c.key+c.actor+c.detail, erFiscalCode) || strings.Contains(c.key+c.actor+c.detail, erPhone) {
				t.Errorf("consent row keeps an erased value: %+v", c)
			}
			if c.key == appIOKey && c.action == "remove" {
				replaced = c.detail == "replaced by the subscription of "+store.Erased
			}
			if c.key == appIOKey && c.action == "erase" && c.actor == "admin" {
				erased = true
			}
		}
		if !replaced || !erased {
			t.Errorf("the App IO key's trail lost its rows: remove with scrubbed detail %v, erase %v", replaced, erased)
		}
		var key, fiscalCode, providerError string
		if err := s.QueryRow(ctx, "SELECT phone, fiscal_code, error FROM alert_recipients WHERE alert_id = 'al1'").Scan(&key, &fiscalCode, &providerError); err != nil {
			t.Fatal(err)
		}
		if key != appIOKey || fiscalCode != "" || providerError != store.Erased {
			t.Errorf("App IO delivery row after erasure: key %q fiscal code %q error %q", key, fiscalCode, providerError)
		}
	})
}

// The provider's refusal text on a delivery row (Twilio's 21211 and 21408 name the To number)
// and on an outbound reply goes with the number; a bystander's delivery row keeps its own.
func TestEraseCitizenErasesProviderErrors(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a, err := s.Ingest(ctx, store.IngestRequest{Comune: "firenze", In: channels.InboundMessage{Channel: channels.SMS, ExternalID: "SMperr1",
			From: erPhone, To: "+390552768000", Body: "Buongiorno"}})
		if err != nil {
			t.Fatal(err)
		}
		refusal := func(phone string) string {
			return "Permission to send an SMS has not been enabled for the region indicated by the 'To' number: " + phone + "."
		}
		const bystander = "+393470000009"
		reply := channels.Message{ID: store.NewID(), ContactID: a.ContactID, Channel: channels.SMS, From: "+390552768000", To: erPhone,
			Body: "risposta", Status: store.OutQueued, Author: "anna"}
		if err := s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
			for seq, phone := range []string{erPhone, bystander} {
				if _, err := tx.Exec(ctx, `INSERT INTO alert_recipients (alert_id, seq, batch, phone, status, error_code, error, updated_at)
					VALUES ('al1', ?, 0, ?, 'failed', '21408', ?, 1)`, seq, phone, refusal(phone)); err != nil {
					return err
				}
			}
			return s.InsertOutboundTx(ctx, tx, reply)
		}); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkOutbound(ctx, reply.ID, "", store.OutFailed, refusal(erPhone)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.EraseCitizen(ctx, a.CitizenID, store.Scope{}, "admin", "r"); err != nil {
			t.Fatal(err)
		}
		key, err := s.ErasedKey(ctx, erPhone)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string][2]string{erPhone: {key, store.Erased}, bystander: {bystander, refusal(bystander)}}
		for seq, phone := range []string{erPhone, bystander} {
			var got [2]string
			if err := s.QueryRow(ctx, "SELECT phone, error FROM alert_recipients WHERE alert_id = 'al1' AND seq = ?", seq).Scan(&got[0], &got[1]); err != nil {
				t.Fatal(err)
			}
			if got != want[phone] {
				t.Errorf("delivery row of %s after the erasure: %q, want %q", phone, got, want[phone])
			}
		}
		m, err := s.OutboundMessage(ctx, reply.ID)
		if err != nil {
			t.Fatal(err)
		}
		if m.Error != store.Erased || m.To != store.Erased {
			t.Errorf("outbound reply after the erasure: to %q, error %q", m.To, m.Error)
		}
	})
}

// An admin scoped to Firenze may not erase a citizen subscribed (by number or by fiscal code)
// to another comune's alerts: the erasure would end that comune's subscription and STOP the
// number everywhere. Nothing changes; an admin of both comuni may.
func TestEraseCitizenScopedAdminRefusedForOtherComuneSubscription(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		as := alertstore.New(s)
		fi, both := store.Scope{Comuni: []string{"firenze"}}, store.Scope{Comuni: []string{"firenze", "empoli"}}
		bySMS := alertstore.ConsentActor{Via: alertstore.ViaSMS, Actor: erPhone}
		byPhone, err := s.Ingest(ctx, store.IngestRequest{Comune: "firenze", In: channels.InboundMessage{Channel: channels.SMS, ExternalID: "SMscope1",
			From: erPhone, To: "+390552768000", Body: "Buongiorno"}})
		if err != nil {
			t.Fatal(err)
		}
		for _, comune := range []string{"firenze", "empoli"} {
			if err := s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
				return alertstore.SubscribeByCitizen(ctx, tx, comune, erPhone, nil, "it", bySMS)
			}); err != nil {
				t.Fatal(err)
			}
		}
		byFiscalCode, err := s.Ingest(ctx, store.IngestRequest{Comune: "firenze", In: channels.InboundMessage{Channel: channels.Email, ExternalID: "<scope2@x>",
			From: erEmail, To: "urp@comune.fi.it", Body: "ciao"}})
		if err != nil {
			t.Fatal(err)
		}
		addFiscalCode(t, s, byFiscalCode.CitizenID)
		if _, err := as.SubscribeFiscalCode(ctx, "empoli", erFiscalCode, nil, "it", alertstore.ConsentActor{Via: alertstore.ViaAPI, Actor: "apikey:k2"}); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{byPhone.CitizenID, byFiscalCode.CitizenID} {
			if _, err := s.EraseCitizen(ctx, id, fi, "admin-fi", "r"); !errors.Is(err, store.ErrOutOfScope) {
				t.Fatalf("Firenze admin erasing a citizen subscribed in Empoli: %v, want ErrOutOfScope", err)
			}
			if c, err := s.GetCitizen(ctx, id, store.Scope{}); err != nil || c.ErasedAt != nil || len(c.Identities) == 0 {
				t.Fatalf("refused erasure changed the citizen: %+v %v", c, err)
			}
		}
		if subs, err := as.SubscriptionsOf(ctx, erPhone); err != nil || len(subs) != 2 {
			t.Fatalf("subscriptions after the refused erasure: %+v %v", subs, err)
		}
		if out, err := as.IsOptedOut(ctx, erPhone); err != nil || out {
			t.Fatalf("number on the STOP list after a refused erasure: %v %v", out, err)
		}
		if keys, err := as.SubscriptionsOfFiscalCode(ctx, "empoli", erFiscalCode); err != nil || len(keys) != 1 {
			t.Fatalf("App IO subscription after the refused erasure: %v %v", keys, err)
		}
		for _, id := range []string{byPhone.CitizenID, byFiscalCode.CitizenID} {
			if _, err := s.EraseCitizen(ctx, id, both, "admin-both", "r"); err != nil {
				t.Fatalf("admin of both comuni: %v", err)
			}
		}
		if subs, err := as.SubscriptionsOf(ctx, erPhone); err != nil || len(subs) != 0 {
			t.Fatalf("subscriptions after the erasure: %+v %v", subs, err)
		}
	})
}

// A subscription in the admin's own comune does not stop their erasure.
func TestEraseCitizenScopedAdminErasesOwnComuneSubscription(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		id := seedAppIOCitizen(t, s)
		counts, err := s.EraseCitizen(ctx, id, store.Scope{Comuni: []string{"firenze"}}, "admin-fi", "r")
		if err != nil || counts.Subscriptions != 2 {
			t.Fatalf("Firenze admin erasing a citizen subscribed in Firenze: %+v %v", counts, err)
		}
	})
}
