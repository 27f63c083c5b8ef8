package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sportello/sportello/integration/harness"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/alertstore"
)

// alertsYAML is the harness's test configuration with the alerts' own settings.
func alertsYAML(rate, batch int) string {
	y := strings.Replace(harness.BaseYAML, "  api_base_url: "+harness.TwilioAPIPlaceholder+"\n",
		fmt.Sprintf("  api_base_url: %s\n  max_messages_per_second: %d\n", harness.TwilioAPIPlaceholder, rate), 1)
	return y + fmt.Sprintf("alerts:\n  batch_size: %d\n  requests_per_minute: 600\n", batch)
}

func alertsGateway(t *testing.T, d store.Dialect, rate, batch int) *harness.Gateway {
	t.Helper()
	return harness.Start(t, harness.Options{Dialect: d, Replace: alertsYAML(rate, batch)})
}

func alertsGatewayYAML(t *testing.T, yaml string) *harness.Gateway {
	t.Helper()
	return harness.Start(t, harness.Options{Replace: yaml})
}

// alertKey creates a comune API key directly in the store.
func alertKey(t *testing.T, gw *harness.Gateway, comune string) string {
	t.Helper()
	_, key, err := alertstore.New(gw.G.Store).CreateAPIKey(context.Background(), comune, "test")
	if err != nil {
		t.Fatal(err)
	}
	return key
}

var alertSMSSeq atomic.Int64

// alertSMS posts a signed inbound SMS and returns the TwiML <Message> reply ("" if none).
func alertSMS(t *testing.T, gw *harness.Gateway, sid, from, to, body string) string {
	t.Helper()
	if sid == "" {
		sid = fmt.Sprintf("SMa1%030d", alertSMSSeq.Add(1)+time.Now().UnixNano()%1e9*1000)
	}
	resp, text := harness.PostTwilio(t, gw.URL, "/webhooks/twilio/sms", harness.SMSForm(sid, from, to, body))
	if resp.StatusCode != 200 {
		t.Fatalf("sms webhook %q: %d %s", body, resp.StatusCode, text)
	}
	var tw struct {
		Message []string `xml:"Message"`
	}
	if err := xml.Unmarshal([]byte(text), &tw); err != nil {
		t.Fatalf("TwiML %q: %v", text, err)
	}
	return strings.Join(tw.Message, "\n")
}

// alertCall sends a request with a key; body is JSON unless it is a string (sent as is with
// contentType). It returns the status and the decoded JSON answer.
func alertCall(t *testing.T, method, url, key string, body any, contentType string) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
		if contentType == "" {
			contentType = "application/json"
		}
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, text := harness.Do(t, req)
	var out map[string]any
	if strings.TrimSpace(text) != "" {
		if err := json.Unmarshal([]byte(text), &out); err != nil {
			t.Fatalf("%s %s: %d %q is not JSON", method, url, resp.StatusCode, text)
		}
	}
	return resp.StatusCode, out
}

func errCode(out map[string]any) string {
	e, _ := out["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

// alertSubscribers imports confirmed subscribers straight into the store.
func alertSubscribers(t *testing.T, gw *harness.Gateway, comune string, prefix string, n int) []string {
	t.Helper()
	rows := make([]alertstore.ImportRow, n)
	out := make([]string, n)
	for i := range rows {
		out[i] = fmt.Sprintf("%s%07d", prefix, i)
		rows[i] = alertstore.ImportRow{Phone: out[i]}
	}
	if _, err := alertstore.New(gw.G.Store).ImportSubscribers(context.Background(), comune, rows, nil, alertstore.ConsentActor{Via: alertstore.ViaImport, Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	return out
}

type alertCounts struct {
	Queued, Sending, Sent, Delivered, Failed, Cancelled int
}

func countsOf(out map[string]any) alertCounts {
	c, _ := out["counts"].(map[string]any)
	n := func(k string) int { v, _ := c[k].(float64); return int(v) }
	return alertCounts{n("queued"), n("sending"), n("sent"), n("delivered"), n("failed"), n("cancelled")}
}

// waitAlert polls GET /alerts/{id} until ok says so.
func waitAlert(t *testing.T, gw *harness.Gateway, key, id string, within time.Duration, ok func(status string, c alertCounts) bool) alertCounts {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		code, out := alertCall(t, "GET", gw.URL+"/api/v1/alerts/"+id, key, nil, "")
		if code != 200 {
			t.Fatalf("GET alert: %d %v", code, out)
		}
		st, _ := out["status"].(string)
		c := countsOf(out)
		if ok(st, c) {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("alert %s after %v: status %s, counts %+v", id, within, st, c)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
