package alerts

import (
	"context"
	"testing"
	"time"

	"github.com/sportello/sportello/store/alertstore"
)

// TestQuietHoursHoldNonUrgentAlerts: with an injected clock at 23:30 in Rome, an alert waits
// for 08:00 (scheduled, quiet_held); an urgent one goes now; at noon nothing waits; a send_at
// that falls in the window moves to its end.
func TestQuietHoursHoldNonUrgentAlerts(t *testing.T) {
	rome, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		t.Fatal(err)
	}
	// Tomorrow, so the held alert's 08:00 is still ahead of the store's real clock.
	d := time.Now().In(rome).AddDate(0, 0, 1)
	night := time.Date(d.Year(), d.Month(), d.Day(), 23, 30, 0, 0, rome)
	morning := time.Date(d.Year(), d.Month(), d.Day()+1, 8, 0, 0, 0, rome)
	clock := night
	f := newFixture(t, 1000, 100, func(o *Options) { o.Now = func() time.Time { return clock } })
	f.cfg.Alerts.QuietHours = "21:00-08:00"
	f.cfg.Location = rome
	f.subscribe(t, "firenze", "+393470000001")

	a, err := f.svc.Compose("firenze", AlertRequest{Category: "altro", Message: "Prova notturna"})
	if err != nil || !a.QuietHeld || !a.SendAt.Equal(morning) {
		t.Fatalf("a non-urgent alert at 23:30: held %v, send_at %s (%v); want 08:00 next morning", a.QuietHeld, a.SendAt.In(rome), err)
	}
	stored, _, err := f.svc.CreateAlert(context.Background(), "firenze", AlertRequest{Category: "altro", Message: "Prova notturna"})
	if err != nil || stored.Status != alertstore.AlertScheduled || !stored.SendAt.Equal(morning) {
		t.Fatalf("stored: %s at %s (%v)", stored.Status, stored.SendAt.In(rome), err)
	}
	got, err := f.svc.GetAlert(context.Background(), "firenze", stored.ID)
	if err != nil || !got.QuietHeld || got.Urgent {
		t.Fatalf("read back: quiet_held %v urgent %v (%v)", got.QuietHeld, got.Urgent, err)
	}
	u, err := f.svc.Compose("firenze", AlertRequest{Category: "altro", Message: "Allerta", Urgent: true})
	if err != nil || u.QuietHeld || !u.SendAt.IsZero() {
		t.Fatalf("an urgent alert at 23:30 must go now: held %v send_at %s (%v)", u.QuietHeld, u.SendAt, err)
	}
	p, err := f.svc.Preview(context.Background(), "firenze", AlertRequest{Category: "altro", Message: "Prova"})
	if err != nil || !p.QuietHeld || !p.SendAt.Equal(morning) {
		t.Fatalf("the preview must say 08:00: %+v %v", p, err)
	}

	clock = time.Date(d.Year(), d.Month(), d.Day(), 12, 0, 0, 0, rome)
	if a, err := f.svc.Compose("firenze", AlertRequest{Category: "altro", Message: "Prova"}); err != nil || a.QuietHeld || !a.SendAt.IsZero() {
		t.Fatalf("at noon the alert must go now: %+v %v", a, err)
	}
	late := time.Date(d.Year(), d.Month(), d.Day(), 22, 0, 0, 0, rome)
	if a, err := f.svc.Compose("firenze", AlertRequest{Category: "altro", Message: "Prova", SendAt: &late}); err != nil || !a.QuietHeld || !a.SendAt.Equal(morning) {
		t.Fatalf("a send_at of 22:00 must move to 08:00: %+v %v", a, err)
	}
	exp := time.Date(d.Year(), d.Month(), d.Day(), 23, 0, 0, 0, rome)
	if _, err := f.svc.Compose("firenze", AlertRequest{Category: "altro", Message: "Prova", SendAt: &late, ExpiresAt: &exp}); !isCode(err, "expires_before_send") {
		t.Fatalf("an alert expiring before the quiet hours end: %v", err)
	}
}
