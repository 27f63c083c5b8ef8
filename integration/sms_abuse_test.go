package integration

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sportello/sportello/integration/harness"
	"github.com/sportello/sportello/store"
)

// Attacks on the alerts' SMS through the real HTTP stack: the comuni API and the signed
// Twilio webhooks, with the Twilio emulator counting what reached each number.

// alertsYAMLRate is the alerts test configuration with a per-key limit.
func alertsYAMLRate(perMinute int) string {
	return strings.Replace(alertsYAML(500, 100), "requests_per_minute: 600", fmt.Sprintf("requests_per_minute: %d", perMinute), 1)
}

// Issue 9: the per-key limit holds for the deployment. Two gateways on one PostgreSQL database
// with requests_per_minute 10 admit 10 requests of a key between them, not 20.
func TestRateLimitAcrossReplicas(t *testing.T) {
	dbURL := ""
	var gws []*harness.Gateway
	for i := 0; i < 2; i++ {
		gw := harness.Start(t, harness.Options{Dialect: store.Postgres, DatabaseURL: dbURL, Replace: alertsYAMLRate(10)})
		dbURL = gw.DatabaseURL
		gws = append(gws, gw)
	}
	key := alertKey(t, gws[0], "firenze")
	allowed := 0
	for i := 0; i < 20; i++ {
		code, out := alertCall(t, "GET", gws[i%2].URL+"/api/v1/alerts", key, nil, "")
		switch code {
		case 200:
			allowed++
		case 429:
			if errCode(out) != "rate_limited" {
				t.Fatalf("429 without its code: %v", out)
			}
		default:
			t.Fatalf("request %d: %d %v", i, code, out)
		}
	}
	// One unit comes back every 6 s: a slow run may earn one more.
	if allowed < 10 || allowed > 11 {
		t.Fatalf("%d requests admitted across two replicas, want 10", allowed)
	}
}

// Issue 8, lower risk: a fullwidth "ＳＴＯＰ" is a STOP.
func TestFullwidthStop(t *testing.T) {
	gw := harness.Start(t, harness.Options{Replace: alertsYAMLRate(600)})
	key := alertKey(t, gw, "firenze")
	citizen := "+393471233002"
	alertSMS(t, gw, "", citizen, alFirenze, "ISCRIVI")
	if reply := alertSMS(t, gw, "", citizen, alFirenze, "ＳＴＯＰ"); !strings.Contains(reply, "più") {
		t.Fatalf("fullwidth STOP not recognised: %q", reply)
	}
	if code, out := alertCall(t, "GET", gw.URL+"/api/v1/subscribers/"+citizen, key, nil, ""); code != 200 || out["status"] != "stopped" {
		t.Fatalf("after ＳＴＯＰ: %d %v", code, out)
	}
}
