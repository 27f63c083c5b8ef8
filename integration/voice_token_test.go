package integration

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/integration/harness"
	"github.com/sportello/sportello/store"
)

const (
	testAPIKeySID    = "SK00000000000000000000000000000001"
	testAPIKeySecret = "softphone-secret"
	testTwiMLApp     = "AP00000000000000000000000000000002"
)

// The softphone's access token: a JWT signed HS256 with the API key's secret, for the signed-in
// user's client identity, with a Voice grant (incoming calls, outgoing through the TwiML app).
func TestVoiceTokenForTheSignedInOperator(t *testing.T) {
	gw := harness.Start(t, harness.Options{Extra: `
voice:
  twiml_app_sid: ` + testTwiMLApp + `
  api_key_sid: ` + testAPIKeySID + `
  api_key_secret: ` + testAPIKeySecret + `
`})
	alice := gw.User(t, "alice", store.RoleOperator)
	var got struct {
		Token    string `json:"token"`
		Identity string `json:"identity"`
		TTL      int    `json:"ttl_seconds"`
	}
	if code := harness.API(t, "GET", gw.URL+"/api/v1/voice/token", alice, nil, &got); code != 200 {
		t.Fatalf("token: %d", code)
	}
	if got.Identity != "alice" || got.TTL < 600 {
		t.Fatalf("identity %q ttl %d", got.Identity, got.TTL)
	}
	parts := strings.Split(got.Token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", got.Token)
	}
	mac := hmac.New(sha256.New, []byte(testAPIKeySecret))
	mac.Write([]byte(parts[0] + "." + parts[1]))
	if base64.RawURLEncoding.EncodeToString(mac.Sum(nil)) != parts[2] {
		t.Fatal("the token is not signed with the API key's secret")
	}
	var header, claims map[string]any
	decode := func(s string, v any) {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatal(err)
		}
	}
	decode(parts[0], &header)
	decode(parts[1], &claims)
	if header["alg"] != "HS256" || header["cty"] != "twilio-fpa;v=1" {
		t.Fatalf("header %v", header)
	}
	grants, _ := claims["grants"].(map[string]any)
	voice, _ := grants["voice"].(map[string]any)
	outgoing, _ := voice["outgoing"].(map[string]any)
	incoming, _ := voice["incoming"].(map[string]any)
	if claims["iss"] != testAPIKeySID || claims["sub"] != harness.AccountSID || grants["identity"] != "alice" ||
		outgoing["application_sid"] != testTwiMLApp || incoming["allow"] != true {
		t.Fatalf("claims %v", claims)
	}
	if exp, _ := claims["exp"].(float64); time.Unix(int64(exp), 0).Before(time.Now().Add(10 * time.Minute)) {
		t.Fatalf("expires at %v", exp)
	}
	// Without a user there is no token.
	if code := harness.API(t, "GET", gw.URL+"/api/v1/voice/token", "", nil, nil); code != 401 {
		t.Fatalf("anonymous token: %d", code)
	}
}

func TestVoiceTokenUnconfigured(t *testing.T) {
	gw := harness.Start(t, harness.Options{})
	tok := gw.User(t, "alice", store.RoleOperator)
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	if code := harness.API(t, "GET", gw.URL+"/api/v1/voice/token", tok, nil, &e); code != 503 {
		t.Fatalf("unconfigured softphone: %d %+v", code, e)
	}
}

func TestCLIUserAddPhone(t *testing.T) {
	bin := harness.Binary(t)
	dir := t.TempDir()
	cfgPath := harness.WriteConfig(t, dir, harness.ConfigYAML(harness.Options{}, filepath.Join(dir, "data"), ""), harness.FreePort(t))
	run := func(args ...string) (string, error) {
		cmd := exec.Command(bin, append([]string{"user", "add", "--config", cfgPath, "--role", "operator"}, args...)...)
		cmd.Stdin = strings.NewReader("una-password-lunga\n")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := run("--username", "bob", "--phone", "335 111 2222"); err != nil {
		t.Fatalf("user add --phone: %v %s", err, out)
	}
	if out, err := run("--username", "carla", "--phone", "sip:carla@pbx.comune.fi.it"); err != nil {
		t.Fatalf("user add --phone sip: %v %s", err, out)
	}
	if out, err := run("--username", "dario", "--phone", "client:dario"); err == nil || !strings.Contains(out, "--phone") {
		t.Fatalf("a bad phone was accepted: %v %s", err, out)
	}
	s, err := store.Open(t.Context(), store.Options{DataDir: filepath.Join(dir, "data")})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	for user, want := range map[string]string{"bob": "+393351112222", "carla": "sip:carla@pbx.comune.fi.it"} {
		if got, err := s.UserPhone(t.Context(), user); err != nil || got != want {
			t.Errorf("%s answers at %q (%v), want %q", user, got, err, want)
		}
	}
	if _, err := s.UserByUsername(t.Context(), "dario"); err == nil {
		t.Error("the user with a bad phone was created")
	}

	// An admin moves bob to a SIP phone, then back to the browser; a bad number changes nothing.
	phone := func(args ...string) (string, error) {
		out, err := exec.Command(bin, append([]string{"user", "phone", "--config", cfgPath}, args...)...).CombinedOutput()
		return string(out), err
	}
	if out, err := phone("--username", "bob", "--phone", "sip:bob@pbx.comune.fi.it"); err != nil {
		t.Fatalf("user phone: %v %s", err, out)
	}
	if got, err := s.UserPhone(t.Context(), "bob"); err != nil || got != "sip:bob@pbx.comune.fi.it" {
		t.Errorf("bob answers at %q (%v) after user phone", got, err)
	}
	if out, err := phone("--username", "bob", "--phone", "not a phone"); err == nil || !strings.Contains(out, "--phone") {
		t.Fatalf("a bad phone was accepted: %v %s", err, out)
	}
	if out, err := phone("--username", "nobody", "--phone", "3351112222"); err == nil || !strings.Contains(out, "no user") {
		t.Fatalf("an unknown user: %v %s", err, out)
	}
	if out, err := phone("--username", "bob", "--phone", ""); err != nil || !strings.Contains(out, "browser") {
		t.Fatalf("user phone back to the browser: %v %s", err, out)
	}
	if got, err := s.UserPhone(t.Context(), "bob"); err != nil || got != "" {
		t.Errorf("bob answers at %q (%v), want the browser", got, err)
	}
}
