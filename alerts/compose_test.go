package alerts

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/gsm7"
	"github.com/sportello/sportello/store/alertstore"
)

func TestComposeRefusesBadInputPrecisely(t *testing.T) {
	f := newFixture(t, 1000, 100)
	past := time.Now().Add(-time.Hour)
	soon := time.Now().Add(time.Hour)
	earlier := time.Now().Add(30 * time.Minute)
	cases := []struct {
		name   string
		comune string
		req    AlertRequest
		code   string
	}{
		{"no category", "firenze", AlertRequest{Message: "x"}, "missing_category"},
		{"unknown category", "firenze", AlertRequest{Category: "meteo", Message: "x"}, "unknown_category"},
		{"empty", "firenze", AlertRequest{Category: "altro", Message: "  \n "}, "empty_message"},
		{"too long", "firenze", AlertRequest{Category: "altro", Message: strings.Repeat("a", 1531)}, "message_too_long"},
		{"too long en", "firenze", AlertRequest{Category: "altro", Message: "a", MessageEN: strings.Repeat("b", 1531)}, "message_too_long"},
		{"invalid utf-8", "firenze", AlertRequest{Category: "altro", Message: "a\xffb"}, "invalid_message"},
		{"unknown topic", "empoli", AlertRequest{Category: "altro", Message: "x", Topics: []string{"scuole"}}, "unknown_topic"},
		{"send_at past", "firenze", AlertRequest{Category: "altro", Message: "x", SendAt: &past}, "send_at_in_past"},
		{"expires first", "firenze", AlertRequest{Category: "altro", Message: "x", SendAt: &soon, ExpiresAt: &earlier}, "expires_before_send"},
		{"unknown comune", "roma", AlertRequest{Category: "altro", Message: "x"}, "not_found"},
	}
	for _, c := range cases {
		_, err := f.svc.Compose(c.comune, c.req)
		if !isCode(err, c.code) {
			t.Errorf("%s: %v, want %s", c.name, err, c.code)
		}
	}
	var n int
	if err := f.s.QueryRow(context.Background(), "SELECT COUNT(*) FROM alerts").Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d alerts stored", n)
	}
}

func TestComposeRendersTemplatesAndCost(t *testing.T) {
	f := newFixture(t, 1000, 100)
	a, err := f.svc.Compose("firenze", AlertRequest{Category: "blocco-traffico", Message: "È in vigore il blocco: «fasce» 8–18.", MessageEN: "Traffic block 8-18.", Topics: []string{"TRAFFICO"}})
	if err != nil {
		t.Fatal(err)
	}
	if a.TextIT != "Firenze: È in vigore il blocco: «fasce» 8–18." || a.TextEN != "Firenze (EN): Traffic block 8-18." || a.Encoding != gsm7.EncodingUCS2 || a.Segments != 1 {
		t.Fatalf("%+v", a)
	}
	if strings.Join(a.Topics, ",") != "traffico" {
		t.Fatalf("topics %q", a.Topics)
	}
	a, err = f.svc.Compose("firenze", AlertRequest{Category: "blocco-traffico", Message: "È in vigore il blocco: «fasce» 8–18.", GSM7Safe: true})
	if err != nil || a.TextIT != "Firenze: E' in vigore il blocco: \"fasce\" 8-18." || a.Encoding != gsm7.EncodingGSM7 {
		t.Fatalf("%+v %v", a, err)
	}
	// 100 characters with one È: UCS-2 costs two segments, the rewrite one.
	long := "È " + strings.Repeat("x", 98)
	ucs, _ := f.svc.Compose("empoli", AlertRequest{Category: "altro", Message: long})
	gsm, _ := f.svc.Compose("empoli", AlertRequest{Category: "altro", Message: long, GSM7Safe: true})
	if ucs.Segments != 2 || gsm.Segments != 1 {
		t.Fatalf("segments %d (UCS-2) and %d (GSM-7)", ucs.Segments, gsm.Segments)
	}
}

func TestCAPCreateUpdateCancel(t *testing.T) {
	f := newFixture(t, 1000, 100)
	ctx := context.Background()
	f.subscribe(t, "firenze", phones("+39347", 3)...)
	doc, err := os.ReadFile("cap/testdata/blocco.xml")
	if err != nil {
		t.Fatal(err)
	}
	res, err := f.svc.SubmitCAP(ctx, "firenze", doc, "k1")
	if err != nil {
		t.Fatal(err)
	}
	a := res.Alert
	if res.Action != "created" || a.Category != TrafficCategory || a.Recipients != 3 || a.ExpiresAt == nil ||
		!strings.HasPrefix(a.Message, "Blocco del traffico venerdì 28\nDalle 8:30") || !strings.Contains(a.TextEN, "Traffic block on Friday 28") {
		t.Fatalf("%+v", res)
	}
	// The same document again is the same alert.
	again, err := f.svc.SubmitCAP(ctx, "firenze", doc, "k1")
	if err != nil || !again.Existing || again.Alert.ID != a.ID {
		t.Fatalf("repeat: %+v %v", again, err)
	}
	// Another comune's key does not see it.
	update := strings.Replace(string(doc), "<msgType>Alert</msgType>", "<msgType>Update</msgType><references>mobilita@comune.fi.it,FI-2026-1127-001,2026-11-27T07:00:00+01:00</references>", 1)
	update = strings.Replace(update, "FI-2026-1127-001</identifier>", "FI-2026-1127-002</identifier>", 1)
	update = strings.Replace(update, "venerdì 28", "sabato 29", 1)
	if _, err := f.svc.SubmitCAP(ctx, "empoli", []byte(update), "k2"); !isCode(err, "not_found") {
		t.Fatalf("another comune's update: %v", err)
	}
	up, err := f.svc.SubmitCAP(ctx, "firenze", []byte(update), "k1")
	if err != nil || up.Action != "replaced" || up.Alert.Replaces != a.ID || !strings.Contains(up.Alert.Message, "sabato 29") {
		t.Fatalf("update: %+v %v", up, err)
	}
	old, _ := f.svc.GetAlert(ctx, "firenze", a.ID)
	if old.Status != alertstore.AlertSuperseded || old.Counts.Queued != 0 || old.Counts.Cancelled != 3 {
		t.Fatalf("the replaced alert: %+v", old)
	}
	cancel := `<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>FI-2026-1127-003</identifier><sender>mobilita@comune.fi.it</sender>
<sent>2026-11-27T09:00:00+01:00</sent><status>Actual</status><msgType>Cancel</msgType><scope>Public</scope>
<references>mobilita@comune.fi.it,FI-2026-1127-002,2026-11-27T08:00:00+01:00</references></alert>`
	c, err := f.svc.SubmitCAP(ctx, "firenze", []byte(cancel), "k1")
	if err != nil || c.Action != "cancelled" || c.Alert.ID != up.Alert.ID || c.Alert.Status != alertstore.AlertCancelled {
		t.Fatalf("cancel: %+v %v", c, err)
	}
	if list, _ := f.svc.ActiveTrafficAlerts(ctx, "firenze"); len(list) != 0 {
		t.Fatalf("still active: %q", list)
	}
	// Only Actual, Public alerts go out; expired ones are refused.
	for doc, code := range map[string]string{
		strings.Replace(string(doc), "<status>Actual", "<status>Test", 1):                                   "cap_not_actual",
		strings.Replace(string(doc), "2099-11-28", "2001-11-28", 1):                                         "cap_expired",
		strings.Replace(string(doc), "cap:1.2", "cap:1.1", 1):                                               "cap_not_1_2",
		strings.Replace(string(doc), "<event>Blocco del traffico</event>", "", 1):                           "cap_missing_field",
		strings.Replace(string(doc), "<valueName>topics</valueName>", "<valueName>category</valueName>", 1): "unknown_category",
	} {
		if _, err := f.svc.SubmitCAP(ctx, "firenze", []byte(doc), "k1"); !isCode(err, code) {
			t.Errorf("want %s, got %v", code, err)
		}
	}
}
