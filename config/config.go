// Package config reads sportello.yaml: defaults are filled in, environment variables override
// secrets, and Validate names the offending key of anything that cannot work.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Config is the whole configuration of one Sportello deployment.
type Config struct {
	DataDir       string        `yaml:"data_dir"`
	DatabaseURL   string        `yaml:"database_url"`
	PublicURL     string        `yaml:"public_url"`
	Timezone      string        `yaml:"timezone"`
	HTTP          HTTP          `yaml:"http"`
	SMTP          SMTP          `yaml:"smtp"`
	Twilio        Twilio        `yaml:"twilio"`
	Email         Email         `yaml:"email"`
	BusinessHours BusinessHours `yaml:"business_hours"`
	SharedNumbers []string      `yaml:"shared_numbers"`
	// SharedComuni are the comuni the shared numbers serve: their operators see the contacts
	// whose comune is still to be decided, and decide it. Empty means every comune.
	SharedComuni []string   `yaml:"shared_comuni"`
	Comuni       []Comune   `yaml:"comuni"`
	CTI          CTI        `yaml:"cti"`
	IMAP         []IMAP     `yaml:"imap"`
	Fax          Fax        `yaml:"fax"`
	Categories   []Category `yaml:"categories"`
	Queues       []Queue    `yaml:"queues"`
	Jobs         Jobs       `yaml:"jobs"`
	Alerts       Alerts     `yaml:"alerts"`
	Database     Database   `yaml:"database"`
	Reports      Reports    `yaml:"reports"`
	Log          Log        `yaml:"log"`
	Auth         Auth       `yaml:"auth"`
	Metrics      Metrics    `yaml:"metrics"`
	Voice        Voice      `yaml:"voice"`
	AppIO        AppIO      `yaml:"app_io"`
	Retention    Retention  `yaml:"retention"`

	// Location is Timezone loaded; filled by Validate.
	Location *time.Location `yaml:"-"`
	// Demo is true for the built-in demo config (no file found).
	Demo bool `yaml:"-"`
}

type HTTP struct {
	Listen string `yaml:"listen"`
	// MaxBodyBytes bounds webhook and API request bodies.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// TrustProxy makes the client IP come from X-Forwarded-For (behind a load balancer).
	TrustProxy bool `yaml:"trust_proxy"`
}

type SMTP struct {
	Listen          string        `yaml:"listen"`
	Domain          string        `yaml:"domain"`
	MaxMessageBytes int64         `yaml:"max_message_bytes"`
	MaxRecipients   int           `yaml:"max_recipients"`
	MaxLineLength   int           `yaml:"max_line_length"`
	MaxConnections  int           `yaml:"max_connections"`
	ReadTimeout     time.Duration `yaml:"read_timeout"`
	WriteTimeout    time.Duration `yaml:"write_timeout"`
	TLSCert         string        `yaml:"tls_cert"`
	TLSKey          string        `yaml:"tls_key"`

	// MaxConnectionsPerIP, IdleTimeout (no MAIL, RCPT or message bytes: NOOP is idle) and
	// SessionLifetime keep one client from holding every slot (see email.SMTPOptions).
	MaxConnectionsPerIP int           `yaml:"max_connections_per_ip"`
	IdleTimeout         time.Duration `yaml:"idle_timeout"`
	SessionLifetime     time.Duration `yaml:"session_lifetime"`
}

type Twilio struct {
	AccountSID           string `yaml:"account_sid"`
	AuthToken            string `yaml:"auth_token"`
	APIBaseURL           string `yaml:"api_base_url"`
	From                 string `yaml:"from"`
	MessagingServiceSID  string `yaml:"messaging_service_sid"`
	MaxMessagesPerSecond int    `yaml:"max_messages_per_second"`
	// SkipSignature disables webhook signature checks. Only for local experiments.
	SkipSignature bool `yaml:"skip_signature"`
}

// Enabled reports whether real Twilio credentials are configured; without them outbound SMS go
// to the local outbox.
func (t Twilio) Enabled() bool { return t.AccountSID != "" && t.AuthToken != "" }

type Email struct {
	From  string `yaml:"from"`
	Relay string `yaml:"relay"`
	// RelayUsername/RelayPassword authenticate to the relay when set.
	RelayUsername string `yaml:"relay_username"`
	RelayPassword string `yaml:"relay_password"`
	// RelayTLS: none | starttls | tls
	RelayTLS string `yaml:"relay_tls"`

	// DNSServer (host:port) answers the SPF, DKIM and DMARC lookups that decide whether a
	// sender may get a closed-hours answer; "" = the system resolver.
	DNSServer string `yaml:"dns_server"`

	// PECRelay is the PEC provider's authenticated submission server: replies to pec contacts
	// leave through it from the comune's pec_address.
	PECRelay PECRelay `yaml:"pec_relay"`
	// PECTrustedRoots is a PEM file of the PEC providers' CA certificates: an envelope's
	// S/MIME signature is "valid" only when it chains to one of them ("" = signatures are
	// checked but never trusted). It never blocks ingestion.
	PECTrustedRoots string `yaml:"pec_trusted_roots"`
	// PECDeliveryTimeout is how long a PEC reply may wait for its delivery receipt
	// (avvenuta-consegna) before it is flagged for the operator.
	PECDeliveryTimeout time.Duration `yaml:"pec_delivery_timeout"`
}

// PECRelay is an authenticated SMTP submission server of a PEC provider.
type PECRelay struct {
	Address  string `yaml:"address"`
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// Security: tls (implicit, port 465; the default), starttls, or none (tests only).
	Security string `yaml:"security"`
	// CAFile is a PEM file of CAs trusted for the relay's certificate besides the system's.
	CAFile string `yaml:"ca_file"`
}

type BusinessHours struct {
	Days  []string `yaml:"days"`
	Open  string   `yaml:"open"`
	Close string   `yaml:"close"`
	// Holidays are dates (YYYY-MM-DD) on which the centre is closed.
	Holidays []string `yaml:"holidays"`
	// PublicHolidays seeds the Italian public holidays (Easter Monday included) into each
	// comune's calendar the first time it is stored (default true); nil inherits (a comune) or
	// is true (the centre).
	PublicHolidays *bool `yaml:"public_holidays"`
}

// Patron is a comune's patron saint's day, a holiday of its own.
type Patron struct {
	// Day is MM-DD ("06-24").
	Day  string `yaml:"day"`
	Name string `yaml:"name"`
}

type Office struct {
	ID         string   `yaml:"id"`
	Name       string   `yaml:"name"`
	Email      string   `yaml:"email"`
	Phone      string   `yaml:"phone"`
	Categories []string `yaml:"categories"`
}

type Comune struct {
	ID             string   `yaml:"id"`
	Name           string   `yaml:"name"`
	PhoneNumbers   []string `yaml:"phone_numbers"`
	EmailAddresses []string `yaml:"email_addresses"`
	// PECAddress is the comune's certified mailbox: replies to pec contacts come from it.
	PECAddress    string         `yaml:"pec_address"`
	Offices       []Office       `yaml:"offices"`
	BusinessHours *BusinessHours `yaml:"business_hours"`
	// Aliases are other ways citizens write the comune's name ("sesto", "bagno").
	Aliases []string `yaml:"aliases"`
	// Patron is the patron saint's day, seeded into the comune's calendar as a holiday.
	Patron Patron `yaml:"patron"`
	// Topics citizens may subscribe to for alerts.
	Topics []string `yaml:"topics"`
	// AlertTemplates per language: "it", "en"; {{.Message}} is the alert text.
	AlertTemplates map[string]string `yaml:"alert_templates"`
	// AppIO is the comune's App IO service (its key).
	AppIO ComuneAppIO `yaml:"app_io"`
}

type IMAP struct {
	Comune   string `yaml:"comune"`
	Address  string `yaml:"address"`
	Security string `yaml:"security"`
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	Mailbox  string `yaml:"mailbox"`
	// MoveTo, when set, moves ingested messages to this folder instead of flagging them \Seen.
	MoveTo       string        `yaml:"move_to"`
	PollInterval time.Duration `yaml:"poll_interval"`
	// InsecureSkipVerify accepts any server certificate (test servers only).
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`
	// PEC marks a comune's PEC box: envelopes become pec contacts, receipts update our replies.
	PEC bool `yaml:"pec"`
}

type FaxGateway struct {
	Sender         string `yaml:"sender"`
	SubjectPattern string `yaml:"subject_pattern"`
	// Networks are the addresses (CIDR, or single IPs) the gateway's mail comes from over
	// SMTP, for a gateway whose domain publishes no SPF or DKIM (a fax server on the comune's
	// own network).
	Networks []string `yaml:"networks"`

	Pattern  *regexp.Regexp `yaml:"-"`
	Prefixes []netip.Prefix `yaml:"-"`
}

type Fax struct {
	Gateways       []FaxGateway `yaml:"gateways"`
	OutboundDomain string       `yaml:"outbound_domain"`
	// OCR: "auto" (when tesseract is installed), "off".
	OCR       string `yaml:"ocr"`
	Tesseract string `yaml:"tesseract"`
}

// Category is a classification target with its Italian keyword rules. A keyword matches a word
// of the text after accents and case are folded; a trailing * matches any ending (mult* matches
// multa, multe); a keyword of several words matches that phrase.
type Category struct {
	ID       string   `yaml:"id"`
	Name     string   `yaml:"name"`
	Keywords []string `yaml:"keywords"`
}

// Queue routes contacts: the first queue whose non-empty match lists all match wins.
type Queue struct {
	ID         string   `yaml:"id"`
	Name       string   `yaml:"name"`
	Comuni     []string `yaml:"comuni"`
	Categories []string `yaml:"categories"`
	Channels   []string `yaml:"channels"`
	Priority   int      `yaml:"priority"`
	SLAMinutes int      `yaml:"sla_minutes"`
	Default    bool     `yaml:"default"`
}

type Jobs struct {
	MaxWorkers    int           `yaml:"max_workers"`
	FetchCooldown time.Duration `yaml:"fetch_cooldown"`
	// FetchPoll: 0 picks per database (SQLite polls on the writer's only connection, so less
	// often; PostgreSQL is woken by LISTEN/NOTIFY and polls only as a safety net).
	FetchPoll time.Duration `yaml:"fetch_poll"`
}

type Alerts struct {
	// BatchSize is how many recipients one fan-out job hands to Twilio.
	BatchSize int `yaml:"batch_size"`
	// MaxMessageChars bounds an alert's text.
	MaxMessageChars int `yaml:"max_message_chars"`
	// RequestsPerMinute per API key.
	RequestsPerMinute int `yaml:"requests_per_minute"`
	// StallAfter: an alert sending without progress for this long is reported stalled.
	StallAfter time.Duration `yaml:"stall_after"`
	// BatchLease: a fan-out batch whose worker made no progress for this long is taken back
	// and resumed by another worker, even if the worker's process is alive.
	BatchLease time.Duration `yaml:"batch_lease"`
	// QuietHours ("HH:MM-HH:MM" in the centre's time zone, or "off"): a non-urgent alert sent
	// then waits until the window ends.
	QuietHours string `yaml:"quiet_hours"`
	// SMSCountries are the regions (ISO 3166 alpha-2) whose mobile numbers a comune's key may
	// ask to subscribe: each request sends a confirmation SMS, and texting premium foreign
	// ranges is how a leaked key would be turned into money (SMS pumping).
	SMSCountries []string `yaml:"sms_countries"`
}

// Database budgets one replica's PostgreSQL connections (SQLite ignores it). Every replica
// uses at most MaxOpenConns + 1 (the live events' LISTEN): replicas × (max_open_conns + 1)
// must stay below PostgreSQL's max_connections minus its reserved ones and some headroom.
type Database struct {
	// MaxOpenConns is this replica's whole budget.
	MaxOpenConns int `yaml:"max_open_conns"`
	// RiverConns is River's share (fetching and completing jobs, its LISTEN connection).
	RiverConns int `yaml:"river_conns"`
	// FanoutConns is the alert fan-out's share. What remains after River's and the fan-out's
	// shares serves webhooks, the APIs and the pages: a fan-out cannot take it.
	FanoutConns int `yaml:"fanout_conns"`
	// Writers is how many group commits for webhooks and the APIs run side by side, each on
	// one of the remaining connections (store.Options.Writers).
	Writers int `yaml:"writers"`
}

// RequestConns is what remains of the budget for webhooks, the APIs, pages and other jobs.
func (d Database) RequestConns() int { return d.MaxOpenConns - d.RiverConns - d.FanoutConns }

// Reports configure the figures of contract section 7.
type Reports struct {
	// TargetSeconds: a call answered within this many seconds counts for the service level.
	TargetSeconds int `yaml:"target_seconds"`
	// TargetLevel is the share of calls to answer within TargetSeconds (staffing, wallboard).
	TargetLevel float64 `yaml:"target_level"`
	// WrapUpSeconds is the after-call work added to the talk time for staffing.
	WrapUpSeconds int `yaml:"wrap_up_seconds"`
}

type Log struct {
	Level  string `yaml:"level"`
	Format string `yaml:"format"` // text | json
}

// Auth tunes logins and tokens.
type Auth struct {
	// TokenTTL is how long a new API token lasts; 0 = until revoked.
	TokenTTL time.Duration `yaml:"token_ttl"`
	// LoginConcurrency is how many password checks (argon2id, 64 MiB each) run at once.
	LoginConcurrency int `yaml:"login_concurrency"`
}

// Retention is how long citizens' data is kept, in days (0 = keep; every default is 0). The
// server applies it daily, `sportello retention run` at once (see docs/privacy.md).
type Retention struct {
	// Contacts: a resolved contact received longer ago has its texts and identities erased.
	Contacts int `yaml:"contacts"`
	// Attachments: the files of resolved contacts (voicemails are recordings).
	Attachments int `yaml:"attachments"`
	// Recordings: voicemails and call recordings of resolved contacts.
	Recordings int `yaml:"recordings"`
	// Audit: audit log entries.
	Audit int `yaml:"audit"`
}

// Enabled reports whether any period is set.
func (r Retention) Enabled() bool {
	return r.Contacts > 0 || r.Attachments > 0 || r.Recordings > 0 || r.Audit > 0
}

// Metrics guards /metrics.
type Metrics struct {
	// Token, when set, lets a request with "Authorization: Bearer <token>" read /metrics from
	// any address; without it only loopback clients may.
	Token string `yaml:"token"`
}

// Error is a configuration problem tied to one key.
type Error struct {
	Key    string
	Reason string
	// Line in the file, when the problem was found while reading it (0 = unknown).
	Line int
}

func (e *Error) Error() string {
	if e.Key == "" {
		return "config: " + e.Reason
	}
	if e.Line > 0 {
		return fmt.Sprintf("config: %s: %s (line %d)", e.Key, e.Reason, e.Line)
	}
	return fmt.Sprintf("config: %s: %s", e.Key, e.Reason)
}

// Errors is every problem Validate found.
type Errors []*Error

func (es Errors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

// Resolve picks the config file the way the CLI does: the flag, else $SPORTELLO_CONFIG, else
// ./sportello.yaml if it exists; "" means the built-in demo config.
func Resolve(flagValue string) string {
	if flagValue != "" {
		return flagValue
	}
	if env := os.Getenv("SPORTELLO_CONFIG"); env != "" {
		return env
	}
	if _, err := os.Stat("sportello.yaml"); err == nil {
		return "sportello.yaml"
	}
	return ""
}

// Overrides are what the command line sets over the file and the environment.
type Overrides struct {
	// Getenv reads the environment (nil = os.Getenv).
	Getenv func(string) string
	// HTTPListen and SMTPListen replace http.listen and smtp.listen when not empty.
	HTTPListen string
	SMTPListen string
}

// Load reads path ("" = the demo config), applies environment overrides and defaults, and validates.
func Load(path string) (*Config, error) { return LoadWith(path, Overrides{}) }

// LoadWith is Load with the command line's overrides.
func LoadWith(path string, o Overrides) (*Config, error) {
	var data []byte
	demo := path == ""
	if demo {
		data = []byte(DemoYAML)
	} else {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		data = b
	}
	c, err := parse(data, o)
	if err != nil {
		if path != "" {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return nil, err
	}
	c.Demo = demo
	return c, nil
}

// Parse decodes YAML strictly (an unknown key is an error), then applies the environment,
// defaults and validation.
func Parse(data []byte) (*Config, error) { return parse(data, Overrides{}) }

func parse(data []byte, o Overrides) (*Config, error) {
	var c Config
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("config: %s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if errs := checkTree(&root); len(errs) > 0 {
		return nil, errs
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("config: %s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	getenv := o.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	c.ApplyEnv(getenv)
	if o.HTTPListen != "" {
		c.HTTP.Listen = o.HTTPListen
	}
	if o.SMTPListen != "" {
		c.SMTP.Listen = o.SMTPListen
	}
	c.SetDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// ApplyEnv lets the environment override secrets, the database and the listen addresses.
func (c *Config) ApplyEnv(getenv func(string) string) {
	if v := getenv("SPORTELLO_PEC_RELAY_PASSWORD"); v != "" {
		c.Email.PECRelay.Password = v
	}
	if v := getenv("TWILIO_AUTH_TOKEN"); v != "" {
		c.Twilio.AuthToken = v
	}
	if v := getenv("TWILIO_ACCOUNT_SID"); v != "" {
		c.Twilio.AccountSID = v
	}
	if v := getenv("SPORTELLO_DATABASE_URL"); v != "" {
		c.DatabaseURL = v
	}
	if v := getenv("SPORTELLO_CTI_TOKEN"); v != "" {
		c.CTI.Token = v
	}
	if v := getenv("SPORTELLO_METRICS_TOKEN"); v != "" {
		c.Metrics.Token = v
	}
	if v := getenv("SPORTELLO_HTTP_LISTEN"); v != "" {
		c.HTTP.Listen = v
	}
	if v := getenv("SPORTELLO_SMTP_LISTEN"); v != "" {
		c.SMTP.Listen = v
	}
	c.applyAppIOEnv(getenv)
}

// SetDefaults fills every unset key with its default.
func (c *Config) SetDefaults() {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	defInt := func(n *int, v int) {
		if *n == 0 {
			*n = v
		}
	}
	def(&c.DataDir, "./data")
	def(&c.Timezone, "Europe/Rome")
	def(&c.HTTP.Listen, "127.0.0.1:8080")
	def(&c.PublicURL, "http://"+c.HTTP.Listen)
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	if c.HTTP.MaxBodyBytes == 0 {
		c.HTTP.MaxBodyBytes = 1 << 20
	}
	def(&c.SMTP.Domain, "localhost")
	if c.SMTP.MaxMessageBytes == 0 {
		c.SMTP.MaxMessageBytes = 10 << 20
	}
	defInt(&c.SMTP.MaxRecipients, 50)
	defInt(&c.SMTP.MaxLineLength, 4000)
	defInt(&c.SMTP.MaxConnections, 200)
	if c.SMTP.ReadTimeout == 0 {
		c.SMTP.ReadTimeout = 60 * time.Second
	}
	if c.SMTP.WriteTimeout == 0 {
		c.SMTP.WriteTimeout = 60 * time.Second
	}
	defInt(&c.SMTP.MaxConnectionsPerIP, 20)
	if c.SMTP.IdleTimeout == 0 {
		c.SMTP.IdleTimeout = 2 * time.Minute
	}
	if c.SMTP.SessionLifetime == 0 {
		c.SMTP.SessionLifetime = 15 * time.Minute
	}
	defInt(&c.Twilio.MaxMessagesPerSecond, 50)
	def(&c.Email.From, "Linea Comune <noreply@055055.example>")
	def(&c.Email.RelayTLS, "none")
	def(&c.Email.PECRelay.Security, "tls")
	if c.Email.PECDeliveryTimeout == 0 {
		c.Email.PECDeliveryTimeout = 24 * time.Hour
	}
	if len(c.BusinessHours.Days) == 0 {
		c.BusinessHours.Days = []string{"mon", "tue", "wed", "thu", "fri", "sat"}
	}
	def(&c.BusinessHours.Open, "08:00")
	def(&c.BusinessHours.Close, "20:00")
	for i := range c.IMAP {
		def(&c.IMAP[i].Security, "tls")
		def(&c.IMAP[i].Mailbox, "INBOX")
		if c.IMAP[i].PollInterval == 0 {
			c.IMAP[i].PollInterval = 30 * time.Second
		}
	}
	def(&c.Fax.OCR, "auto")
	def(&c.Fax.Tesseract, "tesseract")
	if len(c.Categories) == 0 {
		c.Categories = DefaultCategories()
	}
	if len(c.Queues) == 0 {
		c.Queues = DefaultQueues()
	}
	c.Voice.setDefaults()
	c.AppIO.setDefaults()
	defInt(&c.Jobs.MaxWorkers, 200)
	if c.Jobs.FetchCooldown == 0 {
		c.Jobs.FetchCooldown = 5 * time.Millisecond
	}
	defInt(&c.Alerts.BatchSize, 500)
	defInt(&c.Alerts.MaxMessageChars, 1530)
	defInt(&c.Alerts.RequestsPerMinute, 600)
	if c.Alerts.StallAfter == 0 {
		c.Alerts.StallAfter = 2 * time.Minute
	}
	if c.Alerts.QuietHours == "" {
		c.Alerts.QuietHours = "21:00-08:00"
	}
	if c.Alerts.SMSCountries == nil {
		c.Alerts.SMSCountries = []string{"IT"}
	}
	if c.Alerts.BatchLease == 0 {
		c.Alerts.BatchLease = time.Minute
	}
	defInt(&c.Database.MaxOpenConns, 20)
	defInt(&c.Database.RiverConns, 4)
	defInt(&c.Database.FanoutConns, 6)
	defInt(&c.Database.Writers, 1)
	defInt(&c.Reports.TargetSeconds, 20)
	if c.Reports.TargetLevel == 0 {
		c.Reports.TargetLevel = 0.8
	}
	def(&c.Log.Level, "info")
	def(&c.Log.Format, "text")
	defInt(&c.Auth.LoginConcurrency, 2)
}

var (
	hhmm     = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)
	slugLike = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)
	weekdays = map[string]bool{"mon": true, "tue": true, "wed": true, "thu": true, "fri": true, "sat": true, "sun": true}
)

// Validate checks every key and returns all problems at once.
func (c *Config) Validate() error {
	var errs Errors
	bad := func(key, format string, args ...any) {
		errs = append(errs, &Error{Key: key, Reason: fmt.Sprintf(format, args...)})
	}
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		bad("timezone", "unknown time zone %q", c.Timezone)
	} else {
		c.Location = loc
	}
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		bad("database_url", "must be empty (embedded SQLite) or a postgres:// URL")
	}
	if !strings.HasPrefix(c.PublicURL, "http://") && !strings.HasPrefix(c.PublicURL, "https://") {
		bad("public_url", "must start with http:// or https://, got %q", c.PublicURL)
	}
	if c.Twilio.SkipSignature && (c.Twilio.AccountSID != "" || !loopbackURL(c.PublicURL)) {
		// Unsigned webhooks let anyone post as Twilio: plant contacts, and subscribe or stop
		// any number with a keyword. Acceptable only on a machine nobody else reaches.
		bad("twilio.skip_signature", "is for local experiments only: not with a twilio.account_sid, nor with a public_url other than loopback (%s)", c.PublicURL)
	}
	if !strings.Contains(c.HTTP.Listen, ":") {
		bad("http.listen", "must be host:port, got %q", c.HTTP.Listen)
	}
	if c.SMTP.Listen != "" && !strings.Contains(c.SMTP.Listen, ":") {
		bad("smtp.listen", "must be host:port or empty, got %q", c.SMTP.Listen)
	}
	if c.SMTP.MaxMessageBytes < 1024 {
		bad("smtp.max_message_bytes", "must be at least 1024")
	}
	if c.SMTP.MaxConnectionsPerIP < 1 || c.SMTP.MaxConnectionsPerIP > c.SMTP.MaxConnections {
		bad("smtp.max_connections_per_ip", "must be between 1 and smtp.max_connections (%d)", c.SMTP.MaxConnections)
	}
	if c.SMTP.IdleTimeout < time.Second {
		bad("smtp.idle_timeout", "must be at least 1s")
	}
	if c.SMTP.SessionLifetime < time.Second {
		bad("smtp.session_lifetime", "must be at least 1s")
	}
	if c.Email.DNSServer != "" && !strings.Contains(c.Email.DNSServer, ":") {
		bad("email.dns_server", "must be host:port or empty, got %q", c.Email.DNSServer)
	}
	if (c.SMTP.TLSCert == "") != (c.SMTP.TLSKey == "") {
		bad("smtp.tls_cert", "tls_cert and tls_key go together")
	}
	if c.Auth.TokenTTL < 0 {
		bad("auth.token_ttl", "must be 0 (no expiry) or a positive duration")
	}
	if c.Auth.LoginConcurrency < 1 || c.Auth.LoginConcurrency > 64 {
		bad("auth.login_concurrency", "must be between 1 and 64 (each check takes 64 MiB)")
	}
	if c.Twilio.MaxMessagesPerSecond < 0 {
		bad("twilio.max_messages_per_second", "must be positive")
	}
	if c.Twilio.APIBaseURL != "" && !strings.HasPrefix(c.Twilio.APIBaseURL, "http") {
		bad("twilio.api_base_url", "must be an http(s) URL")
	}
	if c.Twilio.AccountSID != "" && !strings.HasPrefix(c.Twilio.AccountSID, "AC") {
		bad("twilio.account_sid", "must start with AC")
	}
	if c.Twilio.Enabled() && c.Twilio.AuthToken != Masked && !alphanumeric(c.Twilio.AuthToken) {
		// twilio-go refuses any other token (error 21224): the sender could not start. The mask
		// reads back so that a printed configuration does (Warnings names it).
		bad("twilio.auth_token", "must be letters and digits only, as Twilio's auth tokens are")
	}
	if c.Twilio.Enabled() && c.Twilio.From == "" && c.Twilio.MessagingServiceSID == "" {
		bad("twilio.from", "outbound SMS need a sender: set twilio.from or twilio.messaging_service_sid")
	}
	switch c.Email.RelayTLS {
	case "none", "starttls", "tls":
	default:
		bad("email.relay_tls", "must be none, starttls or tls")
	}
	switch c.Email.PECRelay.Security {
	case "none", "starttls", "tls":
	default:
		bad("email.pec_relay.security", "must be none, starttls or tls")
	}
	if a := c.Email.PECRelay.Address; a != "" && !strings.Contains(a, ":") {
		bad("email.pec_relay.address", "must be host:port, got %q", a)
	}
	if c.Email.PECDeliveryTimeout < 0 {
		bad("email.pec_delivery_timeout", "must be a positive duration")
	}
	c.validateHours("business_hours", c.BusinessHours, bad)
	c.validateVoice(bad)
	c.validateCTI(bad)
	for i, n := range c.SharedNumbers {
		if _, err := normalizePhone(n); err != nil {
			bad(fmt.Sprintf("shared_numbers[%d]", i), "%q is not a phone number", n)
		}
	}
	if len(c.Comuni) == 0 {
		bad("comuni", "at least one comune is needed")
	}
	for i, id := range c.SharedComuni {
		if _, ok := c.ComuneByID(id); !ok {
			bad(fmt.Sprintf("shared_comuni[%d]", i), "unknown comune %q", id)
		}
	}
	seen := map[string]bool{}
	for i, cm := range c.Comuni {
		key := fmt.Sprintf("comuni[%d]", i)
		if !slugLike.MatchString(cm.ID) {
			bad(key+".id", "must be a lower-case slug, got %q", cm.ID)
		}
		if seen[cm.ID] {
			bad(key+".id", "duplicate comune %q", cm.ID)
		}
		seen[cm.ID] = true
		if cm.Name == "" {
			bad(key+".name", "is required")
		}
		for j, n := range cm.PhoneNumbers {
			if _, err := normalizePhone(n); err != nil {
				bad(fmt.Sprintf("%s.phone_numbers[%d]", key, j), "%q is not a phone number", n)
			}
		}
		for j, a := range cm.EmailAddresses {
			if !bareAddress(a) {
				bad(fmt.Sprintf("%s.email_addresses[%d]", key, j), "%q is not a plain email address (write urp@comune.fi.it, without a name or angle brackets)", a)
			}
		}
		if cm.PECAddress != "" && !bareAddress(cm.PECAddress) {
			bad(key+".pec_address", "%q is not a plain email address", cm.PECAddress)
		}
		validateOffices(key, cm.Offices, bad)
		if cm.BusinessHours != nil {
			c.validateHours(key+".business_hours", *cm.BusinessHours, bad)
		}
		if cm.Patron.Day != "" {
			if _, err := time.Parse("2006-01-02", "2024-"+cm.Patron.Day); err != nil || len(cm.Patron.Day) != 5 {
				bad(key+".patron.day", "must be MM-DD (06-24), got %q", cm.Patron.Day)
			}
		}
	}
	for i, m := range c.IMAP {
		key := fmt.Sprintf("imap[%d]", i)
		if !seen[m.Comune] {
			bad(key+".comune", "unknown comune %q", m.Comune)
		}
		if !strings.Contains(m.Address, ":") {
			bad(key+".address", "must be host:port, got %q", m.Address)
		}
		switch m.Security {
		case "none", "starttls", "tls":
		default:
			bad(key+".security", "must be none, starttls or tls, got %q", m.Security)
		}
		if m.Username == "" {
			bad(key+".username", "is required")
		}
	}
	for i := range c.Fax.Gateways {
		g := &c.Fax.Gateways[i]
		key := fmt.Sprintf("fax.gateways[%d]", i)
		if g.Sender == "" {
			bad(key+".sender", "is required")
		}
		if g.SubjectPattern == "" {
			g.SubjectPattern = `(?i)fax (?:from|da|di) ([+0-9 ./-]+)`
		}
		g.Prefixes = g.Prefixes[:0]
		for j, n := range g.Networks {
			p, err := parseNetwork(n)
			if err != nil {
				bad(fmt.Sprintf("%s.networks[%d]", key, j), "%v", err)
				continue
			}
			g.Prefixes = append(g.Prefixes, p)
		}
		re, err := regexp.Compile(g.SubjectPattern)
		if err != nil {
			bad(key+".subject_pattern", "%v", err)
		} else if re.NumSubexp() < 1 {
			bad(key+".subject_pattern", "needs a group for the fax number")
		} else {
			g.Pattern = re
		}
	}
	switch c.Fax.OCR {
	case "auto", "off":
	default:
		bad("fax.ocr", "must be auto or off")
	}
	cats := map[string]bool{}
	for i, cat := range c.Categories {
		if !slugLike.MatchString(cat.ID) {
			bad(fmt.Sprintf("categories[%d].id", i), "must be a lower-case slug, got %q", cat.ID)
		}
		cats[cat.ID] = true
	}
	defaults := 0
	for i, q := range c.Queues {
		key := fmt.Sprintf("queues[%d]", i)
		if !slugLike.MatchString(q.ID) {
			bad(key+".id", "must be a lower-case slug, got %q", q.ID)
		}
		for _, cm := range q.Comuni {
			if !seen[cm] {
				bad(key+".comuni", "unknown comune %q", cm)
			}
		}
		for _, cat := range q.Categories {
			if !cats[cat] {
				bad(key+".categories", "unknown category %q", cat)
			}
		}
		for _, ch := range q.Channels {
			switch ch {
			case "sms", "email", "fax", "phone", "pec":
			default:
				bad(key+".channels", "unknown channel %q", ch)
			}
		}
		if q.SLAMinutes < 0 {
			bad(key+".sla_minutes", "must not be negative")
		}
		if q.Default {
			defaults++
		}
	}
	if defaults > 1 {
		bad("queues", "only one queue may be the default")
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		bad("log.format", "must be text or json")
	}
	for _, r := range []struct {
		key  string
		days int
	}{{"retention.contacts", c.Retention.Contacts}, {"retention.attachments", c.Retention.Attachments},
		{"retention.recordings", c.Retention.Recordings}, {"retention.audit", c.Retention.Audit}} {
		if r.days < 0 || r.days > 36500 {
			bad(r.key, "must be a number of days between 0 (keep) and 36500, got %d", r.days)
		}
	}
	if c.Reports.TargetSeconds < 1 || c.Reports.TargetSeconds > 3600 {
		bad("reports.target_seconds", "must be between 1 and 3600, got %d", c.Reports.TargetSeconds)
	}
	if c.Reports.TargetLevel <= 0 || c.Reports.TargetLevel >= 1 {
		bad("reports.target_level", "must be above 0 and below 1, got %v", c.Reports.TargetLevel)
	}
	if c.Reports.WrapUpSeconds < 0 || c.Reports.WrapUpSeconds > 3600 {
		bad("reports.wrap_up_seconds", "must be between 0 and 3600, got %d", c.Reports.WrapUpSeconds)
	}
	if c.Alerts.BatchSize < 1 || c.Alerts.BatchSize > 10000 {
		bad("alerts.batch_size", "must be between 1 and 10000")
	}
	if _, err := ParseQuietHours(c.Alerts.QuietHours); err != nil {
		bad("alerts.quiet_hours", "%s", err.Error())
	}
	for i, cc := range c.Alerts.SMSCountries {
		if len(cc) != 2 || strings.ToUpper(cc) != cc || strings.IndexFunc(cc, func(r rune) bool { return r < 'A' || r > 'Z' }) >= 0 {
			bad(fmt.Sprintf("alerts.sms_countries[%d]", i), "must be a two-letter region code such as IT, got %q", cc)
		}
	}
	if c.Alerts.StallAfter < time.Second {
		bad("alerts.stall_after", "must be at least 1s")
	}
	// A send may start up to a quarter of the lease after its claim and take 30 s before it
	// times out; the lease must outlast both, with room for the replicas' clocks to differ, or
	// the sweep would settle (and resend) a recipient whose send is still in flight.
	if c.Alerts.BatchLease < 50*time.Second {
		bad("alerts.batch_lease", "must be at least 50s (a send may start a quarter of the lease late and take 30s)")
	}
	if c.Database.RiverConns < 2 {
		bad("database.river_conns", "must be at least 2 (one listens, one works)")
	}
	if c.Database.FanoutConns < 1 {
		bad("database.fanout_conns", "must be at least 1")
	}
	if c.Database.RequestConns() < 2 {
		bad("database.max_open_conns", "must leave at least 2 connections beyond river_conns and fanout_conns for webhooks and the APIs (%d left)", c.Database.RequestConns())
	}
	if c.Database.Writers < 1 || c.Database.Writers >= c.Database.RequestConns() {
		bad("database.writers", "must be at least 1 and leave a connection for reads: below %d (max_open_conns - river_conns - fanout_conns)", c.Database.RequestConns())
	}
	c.validateAppIO(bad)
	if len(errs) > 0 {
		return errs
	}
	return nil
}

func (c *Config) validateHours(key string, h BusinessHours, bad func(string, string, ...any)) {
	for _, d := range h.Days {
		if !weekdays[strings.ToLower(d)] {
			bad(key+".days", "unknown day %q (use mon..sun)", d)
		}
	}
	if !hhmm.MatchString(h.Open) {
		bad(key+".open", "must be HH:MM, got %q", h.Open)
	}
	if !hhmm.MatchString(h.Close) {
		bad(key+".close", "must be HH:MM, got %q", h.Close)
	}
	if hhmm.MatchString(h.Open) && hhmm.MatchString(h.Close) && h.Open >= h.Close {
		bad(key+".close", "must be after open")
	}
	for _, d := range h.Holidays {
		if _, err := time.Parse("2006-01-02", d); err != nil {
			bad(key+".holidays", "%q is not a YYYY-MM-DD date", d)
		}
	}
}

// ComuneByID finds a comune.
func (c *Config) ComuneByID(id string) (*Comune, bool) {
	for i := range c.Comuni {
		if c.Comuni[i].ID == id {
			return &c.Comuni[i], true
		}
	}
	return nil, false
}

// UndecidedComuni are the comuni whose operators see contacts with no comune yet (a text to a
// shared number that named none): shared_comuni, or every comune when it is empty. With no
// shared number there are none, and only unscoped users see such contacts.
func (c *Config) UndecidedComuni() []string {
	if len(c.SharedNumbers) == 0 {
		return nil
	}
	if len(c.SharedComuni) > 0 {
		return c.SharedComuni
	}
	out := make([]string, len(c.Comuni))
	for i, cm := range c.Comuni {
		out[i] = cm.ID
	}
	return out
}

// PublicHolidaysFor reports whether the comune's calendar starts with the Italian public holidays.
func (c *Config) PublicHolidaysFor(comune string) bool {
	if cm, ok := c.ComuneByID(comune); ok && cm.BusinessHours != nil && cm.BusinessHours.PublicHolidays != nil {
		return *cm.BusinessHours.PublicHolidays
	}
	return c.BusinessHours.PublicHolidays == nil || *c.BusinessHours.PublicHolidays
}

// HoursFor is the comune's business hours, or the centre's.
func (c *Config) HoursFor(comune string) BusinessHours {
	if cm, ok := c.ComuneByID(comune); ok && cm.BusinessHours != nil {
		return *cm.BusinessHours
	}
	return c.BusinessHours
}

// parseNetwork reads a CIDR prefix, or a single address as the prefix of just that address.
func parseNetwork(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not a network (CIDR, e.g. 192.0.2.0/24)", s)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not an address or a network (CIDR)", s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// loopbackURL reports whether a URL's host is this machine only (localhost or a loopback address).
func loopbackURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	host := u.Hostname()
	if host == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}
