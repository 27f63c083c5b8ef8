// Package twilio connects Twilio to Sportello: inbound SMS and voice webhooks (signature
// checked against the configured public URL), status callbacks, and the outbound SMS sender.
package twilio

import (
	"context"
	"crypto/hmac"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	twclient "github.com/twilio/twilio-go/client"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/httperr"
	"github.com/sportello/sportello/templates"
)

// MenuItem is one choice of the phone menu.
type MenuItem struct {
	Digit    string
	Category string
	Label    string
}

// DefaultMenu follows the seed centre's request mix, most frequent first.
func DefaultMenu() []MenuItem {
	return []MenuItem{
		{"1", "blocco-traffico", "blocchi del traffico e circolazione"},
		{"2", "contravvenzioni", "multe e contravvenzioni"},
		{"3", "permessi-ztl", "permessi ZTL"},
		{"4", "incentivi-veicoli", "incentivi per i veicoli"},
		{"5", "servizi-generici", "altri servizi e informazioni"},
	}
}

// Hours answers whether the centre is open, for the voice menu.
type Hours interface {
	Open(comune string, t time.Time) bool
	Describe(comune, lang string) string
}

// KeywordHandler answers SMS commands (ISCRIVI, STOP, BLOCCO...). handled=false lets the
// message become a contact.
type KeywordHandler interface {
	HandleSMS(ctx context.Context, in channels.InboundMessage) (reply string, handled bool, err error)
}

// AutoReplier may answer a stored SMS at once (closed hours).
type AutoReplier interface {
	AutoReplySMS(ctx context.Context, in channels.InboundMessage, r channels.Receipt) string
}

// TrafficInfo reads the active traffic-block alerts of a comune for the phone menu.
type TrafficInfo interface {
	ActiveTrafficAlerts(ctx context.Context, comune string) ([]string, error)
}

// WebhookOptions wire the webhooks.
type WebhookOptions struct {
	AuthToken string
	// AccountSID, when set, is the only account whose webhooks are taken.
	AccountSID string
	// PublicURL is the base URL Twilio calls; signatures are checked against it, never
	// against the request's own Host (which a proxy rewrites).
	PublicURL     string
	SkipSignature bool
	Sink          channels.Sink
	Calls         channels.CallSink
	Deliveries    channels.DeliverySink
	Text          *templates.Text
	Hours         Hours
	// ComuneOf tells the comune of a dialled number ("" for shared or unknown numbers).
	ComuneOf    func(to string) (id, name string)
	Menu        []MenuItem
	Keywords    KeywordHandler
	AutoReplies AutoReplier
	Traffic     TrafficInfo
	// Desk connects queued calls to operators; nil leaves them in the queue (a PBX answers).
	Desk CallDesk
	// CallbackOfferSeconds: after this long in the queue a caller may ask to be called back (0: never).
	CallbackOfferSeconds int
	// Record: answered calls are recorded, and the welcome prompt says so.
	Record bool
	Now    func() time.Time
	Logger *slog.Logger
}

// Webhooks serves Twilio's callbacks.
type Webhooks struct {
	o         WebhookOptions
	validator twclient.RequestValidator
	// phones spares parsing the centre's own numbers (every webhook's To) and returning callers.
	phones *channels.PhoneMemo
}

// NewWebhooks validates the options.
func NewWebhooks(o WebhookOptions) (*Webhooks, error) {
	if o.Sink == nil || o.Calls == nil || o.Text == nil {
		return nil, errors.New("twilio: webhooks need a sink, a call sink and templates")
	}
	if o.Menu == nil {
		o.Menu = DefaultMenu()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.ComuneOf == nil {
		o.ComuneOf = func(string) (string, string) { return "", "" }
	}
	o.PublicURL = strings.TrimRight(o.PublicURL, "/")
	return &Webhooks{o: o, validator: twclient.NewRequestValidator(o.AuthToken), phones: channels.NewPhoneMemo(0)}, nil
}

// Register is the webhooks' route list.
func (w *Webhooks) Register(e *echo.Echo) {
	g := e.Group("/webhooks/twilio", w.verify)
	g.POST("/sms", w.sms)
	g.POST("/status", w.messageStatus)
	g.POST("/voice", w.voice)
	g.POST("/voice/menu", w.voiceMenu)
	g.POST("/voice/recording", w.voiceRecording)
	g.POST("/voice/wait", w.voiceWait)
	g.POST("/voice/status", w.voiceStatus)
	g.POST("/voice/queued", w.voiceQueued)
	g.POST("/voice/leg", w.voiceLeg)
	g.POST("/voice/whisper", w.voiceWhisper)
	g.POST("/voice/whisper/accept", w.voiceWhisperAccept)
	g.POST("/voice/dialed", w.voiceDialed)
	g.POST("/voice/wait/offer", w.voiceWaitOffer)
	g.POST("/voice/hold", w.voiceHoldWait)
	g.POST("/voice/recorded", w.voiceRecorded)
	g.POST("/voice/callback/status", w.voiceCallbackStatus)
	g.POST("/voice/callback/dialed", w.voiceCallbackStatus)
}

// verify parses the form (400 if malformed, 413 if too large), checks its sids (checkSids: 400,
// or 403 for another account) and X-Twilio-Signature (403 if missing or wrong) before any
// handler runs, so a forged or re-cut request stores nothing.
func (w *Webhooks) verify(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if err := r.ParseForm(); err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return httperr.New(http.StatusRequestEntityTooLarge, "too_large", "webhook body too large")
			}
			return httperr.BadRequest("malformed_form", "the body is not a valid form: %v", err)
		}
		if err := w.checkSids(r.PostForm); err != nil {
			return err
		}
		if w.o.SkipSignature {
			return next(c)
		}
		if w.o.AuthToken == "" {
			return httperr.Forbidden("webhook signatures cannot be checked: twilio.auth_token is not configured")
		}
		sig := r.Header.Get("X-Twilio-Signature")
		if sig == "" {
			return httperr.Forbidden("missing X-Twilio-Signature")
		}
		if !w.signedByTwilio(w.o.PublicURL+r.URL.RequestURI(), r.PostForm, sig) {
			return httperr.Forbidden("invalid X-Twilio-Signature")
		}
		return next(c)
	}
}

// signedByTwilio checks sig against the URL Twilio requested, as configured: one HMAC settles
// the usual case. twilio-go's validator decides the rest: it also tries the URL with and
// without its port, and computes both HMACs every time (6.6 % of an SMS's CPU when it ran for
// every webhook, 2.0 % since). Both accept only the HMAC of the auth token
// (FuzzSignatureAgreesWithTwilioGo).
func (w *Webhooks) signedByTwilio(fullURL string, form url.Values, sig string) bool {
	if hmac.Equal([]byte(Signature(w.o.AuthToken, fullURL, form)), []byte(sig)) {
		return true
	}
	params := make(map[string]string, len(form))
	for k, vs := range form {
		if len(vs) > 0 {
			params[k] = vs[0]
		}
	}
	return w.validator.Validate(fullURL, params, sig)
}

// sidPattern is a Twilio resource's sid: two letters naming its kind, then 32 hex digits.
var sidPattern = regexp.MustCompile(`^[A-Z]{2}[0-9a-fA-F]{32}$`)

// checkSids refuses a webhook whose sids are not Twilio's, or that is for another account.
// The signature covers the fields' names and values run together, without separators, so a
// captured request can be cut again at a field's edge and still verify: MessageSid absorbing
// the next field ("NumMedia" "0") is a new sid, which de-duplication would take for a new
// message (a second contact, a keyword run again: ISCRIVI after the citizen's STOP). A sid's
// fixed length pins the edges on both of its sides.
func (w *Webhooks) checkSids(form url.Values) error {
	for name, values := range form {
		if !strings.HasSuffix(name, "Sid") {
			continue
		}
		for _, v := range values {
			if v != "" && !sidPattern.MatchString(v) {
				return httperr.BadRequest("malformed_sid", "%s is not a Twilio sid", name)
			}
		}
	}
	if acct := form.Get("AccountSid"); acct != "" && w.o.AccountSID != "" && acct != w.o.AccountSID {
		return httperr.Forbidden("the webhook is for another Twilio account")
	}
	return nil
}

func twiml(c echo.Context, body string) error {
	return c.Blob(http.StatusOK, "text/xml; charset=utf-8", []byte(body))
}

func (w *Webhooks) render(c echo.Context, name string, data any) error {
	out, err := w.o.Text.Render(name, data)
	if err != nil {
		return err
	}
	return twiml(c, out)
}

func required(form url.Values, names ...string) error {
	for _, n := range names {
		if strings.TrimSpace(form.Get(n)) == "" {
			return httperr.BadRequest("missing_field", "%s is required", n)
		}
	}
	return nil
}

// callbackURL is an absolute URL under our public base.
func (w *Webhooks) callbackURL(path string) string { return w.o.PublicURL + path }
