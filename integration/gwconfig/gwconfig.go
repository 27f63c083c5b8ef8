// Package gwconfig writes the config of a gateway that runs as the real binary, in its own
// process, against a Twilio emulator: the integration tests that kill or load that process and
// tools/alertbench start the same gateway, so they share its config here.
package gwconfig

import "fmt"

// Emulated is a gateway process whose Twilio is an emulator.
type Emulated struct {
	DataDir string
	// DatabaseURL is "" for SQLite in DataDir.
	DatabaseURL string
	// Addr is where the gateway listens, and the host of its public_url: the emulator's status
	// callbacks are signed for the public URL and must reach the gateway there.
	Addr string
	// TwilioURL is the emulator's base URL; AccountSID, AuthToken and From are what it expects.
	TwilioURL  string
	AccountSID string
	AuthToken  string
	From       string
	// Rate is twilio.max_messages_per_second.
	Rate int
}

// YAML is the config: one comune (Firenze, topic traffico), alert batches of 500, no SMTP
// server, warnings only in the log, and no quiet hours, so that an alert posted at night goes
// out at once like one posted by day.
func (e Emulated) YAML() string {
	return fmt.Sprintf(`
data_dir: %q
database_url: %q
public_url: http://%s
http:
  listen: %s
smtp:
  listen: ""
twilio:
  account_sid: %s
  auth_token: %s
  from: "%s"
  api_base_url: %s
  max_messages_per_second: %d
alerts:
  batch_size: 500
  quiet_hours: "off"
log:
  level: warn
comuni:
  - id: firenze
    name: Comune di Firenze
    phone_numbers: ["+390552768000"]
    topics: [traffico]
`, e.DataDir, e.DatabaseURL, e.Addr, e.Addr, e.AccountSID, e.AuthToken, e.From, e.TwilioURL, e.Rate)
}
