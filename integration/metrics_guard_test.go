package integration

import (
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/integration/harness"
)

// nonLoopbackIP is an address of this machine other than loopback ("" when it has none).
func nonLoopbackIP(t *testing.T) string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			return n.IP.String()
		}
	}
	return ""
}

// TestMetricsGuard asks the real binary for /metrics as clients on and off the host: it used to
// answer anyone. Without metrics.token only loopback clients get it; behind a reverse proxy
// (http.trust_proxy) a client the proxy forwards from elsewhere is refused although its TCP
// peer is loopback; with metrics.token the bearer opens it from anywhere, unless the token is
// still the mask of `config print`.
func TestMetricsGuard(t *testing.T) {
	ext := nonLoopbackIP(t)
	if ext == "" {
		t.Fatal("this test needs an address other than loopback on this machine")
	}
	start := func(extra string, trustProxy bool, edits ...func(string) string) (local, remote string) {
		// The port is free when chosen but another test may take it before the gateway binds
		// it (seen once in CI): a gateway refused its address is started again on another.
		for attempt := 1; ; attempt++ {
			dir := t.TempDir()
			port := strings.Split(harness.FreePort(t), ":")[1]
			yaml := harness.ConfigYAML(harness.Options{Extra: extra}, filepath.Join(dir, "data"), "")
			if trustProxy {
				yaml = strings.Replace(yaml, "  listen: 127.0.0.1:0\n", "  listen: 127.0.0.1:0\n  trust_proxy: true\n", 1)
			}
			for _, edit := range edits {
				yaml = edit(yaml)
			}
			cfgPath := harness.WriteConfig(t, dir, yaml, "0.0.0.0:"+port)
			p := harness.LaunchProcess(t, cfgPath, "127.0.0.1:"+port)
			err := p.WaitReady(60 * time.Second)
			if err == nil {
				return "http://127.0.0.1:" + port, "http://" + ext + ":" + port
			}
			if attempt == 3 || !strings.Contains(p.Output(), "address already in use") {
				t.Fatalf("sportello did not become ready: %v\n%s", err, p.Output())
			}
		}
	}
	check := func(what, url string, header map[string]string, want int) {
		t.Helper()
		req, err := http.NewRequest("GET", url+"/metrics", nil)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, body := harness.Do(t, req)
		if resp.StatusCode != want {
			t.Errorf("%s: %d, want %d", what, resp.StatusCode, want)
		}
		if want == 200 && !strings.Contains(body, "go_goroutines") {
			t.Errorf("%s: not the metrics: %.200s", what, body)
		}
		if want != 200 && strings.Contains(body, "go_goroutines") {
			t.Errorf("%s: metrics leaked", what)
		}
	}

	local, remote := start("", false)
	check("loopback", local, nil, 200)
	check("another address", remote, nil, 403)
	check("another address claiming loopback", remote, map[string]string{"X-Forwarded-For": "127.0.0.1"}, 403)
	check("another address with a bearer, no token configured", remote, map[string]string{"Authorization": "Bearer x"}, 403)

	local, remote = start("metrics: {token: m3tr1cs-s3cret}\n", true)
	check("loopback, straight to the port", local, nil, 200)
	check("an internet client through a local proxy", local, map[string]string{"X-Forwarded-For": "203.0.113.9"}, 403)
	check("a forged loopback hop through a local proxy", local, map[string]string{"X-Forwarded-For": "127.0.0.1, 203.0.113.9"}, 403)
	check("the bearer through a local proxy", local, map[string]string{"X-Forwarded-For": "203.0.113.9", "Authorization": "Bearer m3tr1cs-s3cret"}, 200)
	check("another address with the bearer", remote, map[string]string{"Authorization": "Bearer m3tr1cs-s3cret"}, 200)
	check("another address with a wrong bearer", remote, map[string]string{"Authorization": "Bearer wrong"}, 401)
	check("another address without the bearer", remote, nil, 403)

	// Secrets left as `config print`'s mask are known to whoever saw the printout: the metrics
	// bearer opens nothing, and no Twilio webhook is taken as signed with the mask. The gateway
	// signs webhooks only (no account_sid): with one it would not start, the mask being no
	// token Twilio's client takes.
	local, remote = start("metrics: {token: \"********\"}\n", false, func(yaml string) string {
		yaml = strings.Replace(yaml, "  account_sid: "+harness.AccountSID+"\n", "", 1)
		return strings.Replace(yaml, "auth_token: "+harness.AuthToken, `auth_token: "********"`, 1)
	})
	check("another address with the mask as bearer", remote, map[string]string{"Authorization": "Bearer ********"}, 403)
	check("loopback, the mask configured", local, nil, 200)
	form := url.Values{"MessageSid": {"SM" + strings.Repeat("0", 32)}, "AccountSid": {"AC" + strings.Repeat("0", 32)},
		"From": {"+393331234567"}, "To": {"+390550550"}, "Body": {"ciao"}}
	req, err := http.NewRequest("POST", local+"/webhooks/twilio/sms", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", harness.Signature("********", harness.PublicURL+"/webhooks/twilio/sms", form))
	if resp, body := harness.Do(t, req); resp.StatusCode != http.StatusForbidden {
		t.Errorf("an SMS signed with the mask: %d %s, want 403", resp.StatusCode, body)
	}
}
