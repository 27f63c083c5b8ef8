package integration

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/alertstore"
)

// TestAlertsQuietHours: with a quiet window that covers now, an alert from the API is
// scheduled for the window's end (send_at, quiet_held), an urgent one goes at once; the
// composer says when an alert sent now would go, its preview says it too, and the held
// alert's page says why it waits. Names, not ids, in the alert list.
func TestAlertsQuietHours(t *testing.T) {
	rome, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().In(rome)
	from := now.Add(-time.Hour)
	end := now.Add(2 * time.Hour).Truncate(time.Minute)
	window := fmt.Sprintf("%s-%s", from.Format("15:04"), end.Format("15:04"))
	gw := alertsGatewayYAML(t, alertsYAML(1000, 100)+"  quiet_hours: \""+window+"\"\n")
	key := alertKey(t, gw, "firenze")
	if _, err := alertstore.New(gw.G.Store).ImportSubscribers(context.Background(), "firenze", []alertstore.ImportRow{{Phone: "+393470000011"}}, nil,
		alertstore.ConsentActor{Via: alertstore.ViaImport, Actor: "test"}); err != nil {
		t.Fatal(err)
	}

	st, j := alertCall(t, "POST", gw.URL+"/api/v1/alerts", key, map[string]any{"category": "blocco-traffico", "message": "Blocco domani"}, "")
	if st != http.StatusAccepted || j["status"] != "scheduled" || j["quiet_held"] != true {
		t.Fatalf("a non-urgent alert in the quiet hours: %d %v", st, j)
	}
	sendAt, err := time.Parse(time.RFC3339, fmt.Sprint(j["send_at"]))
	if err != nil || !sendAt.Equal(end) {
		t.Fatalf("send_at %v, want the window's end %s", j["send_at"], end)
	}
	id := fmt.Sprint(j["id"])
	st, j = alertCall(t, "GET", gw.URL+"/api/v1/alerts/"+id, key, nil, "")
	if st != 200 || j["quiet_held"] != true || j["urgent"] != false || j["status"] != "scheduled" {
		t.Fatalf("the held alert reads back: %d %v", st, j)
	}
	st, j = alertCall(t, "POST", gw.URL+"/api/v1/alerts", key, map[string]any{"category": "blocco-traffico", "message": "Strada chiusa ora", "urgent": true}, "")
	if st != http.StatusAccepted || j["status"] == "scheduled" || j["quiet_held"] != false || j["urgent"] != true {
		t.Fatalf("an urgent alert must go at once: %d %v", st, j)
	}

	c, csrf := alertPageClient(t, gw, "sup", store.RoleSupervisor, "firenze")
	_, page := alertPage(t, c, "GET", gw.URL+"/supervisor/alerts", nil, "")
	when := end.Format("02/01/2006 15:04")
	text := visibleText(page)
	if !strings.Contains(page, `id="alert-urgent"`) || !strings.Contains(text, "Ore di silenzio") || !strings.Contains(text, when) {
		t.Errorf("the composer does not say the alert would go at %s:\n%s", when, text)
	}
	for _, want := range []string{"Comune di Firenze", "Blocco del traffico"} {
		if !strings.Contains(text, want) {
			t.Errorf("the alert list lacks %q", want)
		}
	}
	resp, body := alertPage(t, c, "POST", gw.URL+"/supervisor/alerts/preview",
		url.Values{"comune": {"firenze"}, "category": {"blocco-traffico"}, "message": {"Prova"}}, csrf)
	if resp.StatusCode != 200 || !strings.Contains(body, `"quiet_held":true`) || !strings.Contains(body, when) {
		t.Errorf("the preview does not say when: %d %s", resp.StatusCode, body)
	}
	_, page = alertPage(t, c, "GET", gw.URL+"/supervisor/alerts/"+id, nil, "")
	text = visibleText(page)
	if !strings.Contains(text, "Rimandato per le ore di silenzio") || !strings.Contains(text, "API del comune") || strings.Contains(text, "blocco-traffico") {
		t.Errorf("the held alert's page:\n%s", text)
	}
}
