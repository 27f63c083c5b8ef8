package alerts

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/fiscalcode"
	"github.com/sportello/sportello/jobs"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/alertstore"
)

// SubscriberView is a subscription with its consent trail.
type SubscriberView struct {
	alertstore.Subscriber
	Consents []alertstore.Consent
}

// normalizeMobile reads a number a comune gives and insists on a mobile (alerts go only to
// those) of a region of alerts.sms_countries, when that lists any (the confirmation SMS it
// causes is sent at once).
func (s *Service) normalizeMobile(raw string) (string, error) {
	phone, err := channels.NormalizePhone(raw)
	if err != nil {
		return "", invalid("invalid_phone", "%q is not a phone number", raw)
	}
	if !channels.IsMobile(phone) {
		return "", invalid("not_mobile", "%s is not a mobile number: SMS alerts go only to mobile numbers", phone)
	}
	allowed := s.o.Config.Alerts.SMSCountries
	if region := channels.RegionOf(phone); len(allowed) > 0 && !slices.Contains(allowed, region) {
		return "", invalid("country_not_allowed", "%s is a number of %s: confirmation SMS go only to numbers of %s (alerts.sms_countries)",
			phone, region, strings.Join(allowed, ", "))
	}
	return phone, nil
}

// RequestSubscription subscribes a number on a comune's behalf: the subscription stays pending
// until the citizen answers SI to the confirmation SMS sent now. A number already confirmed only
// has its topics changed. At most one confirmation SMS reaches a number a day, whoever asks
// (alertstore.ConfirmationInterval); a number that said STOP gets none and is answered as
// pending. charge, when its Bucket is set, is the caller's rate limit: each confirmation SMS
// sent costs one unit of it too, so a key's limit bounds the SMS it causes, and a spent limit
// is a "rate_limited" refusal that changes nothing.
func (s *Service) RequestSubscription(ctx context.Context, comune, rawPhone string, topics []string, lang string, by alertstore.ConsentActor, charge RateCharge) (SubscriberView, error) {
	if _, ok := s.comuni[comune]; !ok {
		return SubscriberView{}, notFound("comune %q not found", comune)
	}
	phone, err := s.normalizeMobile(rawPhone)
	if err != nil {
		return SubscriberView{}, err
	}
	topics, err = s.Topics(comune, topics)
	if err != nil {
		return SubscriberView{}, err
	}
	switch lang {
	case "":
		lang = "it"
	case "it", "en":
	default:
		return SubscriberView{}, invalid("invalid_lang", "lang must be it or en")
	}
	sb, _, err := s.as.RequestSubscription(ctx, comune, phone, topics, lang, by, func(ctx context.Context, tx *store.Tx) error {
		if charge.Bucket != "" {
			if err := alertstore.TakeRateTx(ctx, tx, charge.Bucket, 1, charge.Rate); err != nil {
				return err
			}
		}
		if s.o.Jobs == nil || s.o.Jobs() == nil {
			return errors.New("alerts: no job client to send the confirmation request")
		}
		_, err := s.o.Jobs().InsertTx(ctx, tx.SQL(), ConfirmArgs{Comune: comune, Phone: phone, Lang: lang}, nil)
		return err
	})
	var rl *alertstore.RateLimitedError
	if errors.As(err, &rl) {
		return SubscriberView{}, &RequestError{Kind: TooMany, Code: "rate_limited", RetryAfter: rl.RetryAfter,
			Message: fmt.Sprintf("this key's rate limit is spent (each confirmation SMS counts as a request); retry in %d s", retrySeconds(rl.RetryAfter))}
	}
	if err != nil {
		return SubscriberView{}, err
	}
	return s.view(ctx, sb)
}

// SubscriptionRequest is a subscription a comune asks for: a phone, a fiscal code, or both.
type SubscriptionRequest struct {
	Phone      string
	FiscalCode string
	Topics     []string
	Lang       string
}

// Subscribe subscribes a citizen on a comune's behalf by phone, by fiscal code, or by both. With
// a phone it is RequestSubscription (pending until the SI), the fiscal code kept with it for
// App IO. By fiscal code alone it is confirmed at once: App IO asks the citizen's own consent
// (the comune's service switched on in the app) before anything reaches them, and the fan-out
// asks App IO at every send; so the comune must have an App IO service.
func (s *Service) Subscribe(ctx context.Context, comune string, req SubscriptionRequest, by alertstore.ConsentActor, charge RateCharge) (SubscriberView, error) {
	if _, ok := s.comuni[comune]; !ok {
		return SubscriberView{}, notFound("comune %q not found", comune)
	}
	if strings.TrimSpace(req.Phone) == "" && strings.TrimSpace(req.FiscalCode) == "" {
		return SubscriberView{}, invalid("missing_phone", "phone or fiscal_code is required")
	}
	cf := ""
	if strings.TrimSpace(req.FiscalCode) != "" {
		var err error
		if cf, err = fiscalcode.Normalize(req.FiscalCode); err != nil {
			return SubscriberView{}, invalid("invalid_fiscal_code", "fiscal_code: %v", err)
		}
	}
	if strings.TrimSpace(req.Phone) != "" {
		v, err := s.RequestSubscription(ctx, comune, req.Phone, req.Topics, req.Lang, by, charge)
		if err != nil || cf == "" {
			return v, err
		}
		if err := s.as.SetFiscalCode(ctx, comune, v.Phone, cf, by); err != nil {
			return SubscriberView{}, err
		}
		sb, err := s.as.Subscriber(ctx, comune, v.Phone)
		if err != nil {
			return SubscriberView{}, err
		}
		return s.view(ctx, sb)
	}
	if s.o.AppIO == nil || !s.o.AppIO.Enabled(comune) {
		return SubscriberView{}, invalid("app_io_unavailable", "comune %s has no App IO service: a subscription by fiscal code alone would reach nobody; give a phone", comune)
	}
	topics, err := s.Topics(comune, req.Topics)
	if err != nil {
		return SubscriberView{}, err
	}
	lang := req.Lang
	switch lang {
	case "":
		lang = "it"
	case "it", "en":
	default:
		return SubscriberView{}, invalid("invalid_lang", "lang must be it or en")
	}
	sb, err := s.as.SubscribeFiscalCode(ctx, comune, cf, topics, lang, by)
	if err != nil {
		return SubscriberView{}, err
	}
	return s.view(ctx, sb)
}

// subscriberKey reads the key of a subscription a comune names: a fiscal code, or a phone.
func (s *Service) subscriberKey(ctx context.Context, comune, raw string) (string, error) {
	if cf, err := fiscalcode.Normalize(raw); err == nil {
		sb, err := s.as.SubscriberByFiscalCode(ctx, comune, cf)
		if errors.Is(err, store.ErrNotFound) {
			return "", notFound("subscriber %s not found", cf)
		}
		return sb.Phone, err
	}
	phone, err := channels.NormalizePhone(raw)
	if err != nil {
		return "", invalid("invalid_phone", "%q is not a phone number or a fiscal code", raw)
	}
	return phone, nil
}

// RateCharge names the shared rate-limit bucket a request draws on, and its rate.
type RateCharge struct {
	Bucket string
	Rate   alertstore.Rate
}

// GetSubscriber reads a comune's subscription of a number, with its consent trail. A number
// the comune never subscribed, or removed, is not found.
func (s *Service) GetSubscriber(ctx context.Context, comune, rawPhone string) (SubscriberView, error) {
	phone, err := s.subscriberKey(ctx, comune, rawPhone)
	if err != nil {
		return SubscriberView{}, err
	}
	sb, err := s.as.Subscriber(ctx, comune, phone)
	if errors.Is(err, store.ErrNotFound) || (err == nil && sb.Status == alertstore.SubscriberRemoved) {
		return SubscriberView{}, notFound("subscriber %s not found", phone)
	}
	if err != nil {
		return SubscriberView{}, err
	}
	return s.view(ctx, sb)
}

func (s *Service) view(ctx context.Context, sb alertstore.Subscriber) (SubscriberView, error) {
	cs, err := s.as.Consents(ctx, sb.Comune, sb.Phone)
	if err != nil {
		return SubscriberView{}, err
	}
	return SubscriberView{Subscriber: sb, Consents: cs}, nil
}

// RemoveSubscriber deletes a comune's subscription of a number (its consent trail stays).
func (s *Service) RemoveSubscriber(ctx context.Context, comune, rawPhone string, by alertstore.ConsentActor) error {
	if cf, err := fiscalcode.Normalize(rawPhone); err == nil {
		return s.removeFiscalCode(ctx, comune, cf, by)
	}
	phone, err := s.subscriberKey(ctx, comune, rawPhone)
	if err != nil {
		return err
	}
	err = s.as.RemoveSubscriber(ctx, comune, phone, by)
	if errors.Is(err, store.ErrNotFound) {
		return notFound("subscriber %s not found", phone)
	}
	return err
}

// removeFiscalCode removes every subscription of the comune that carries a fiscal code: the one
// by the fiscal code alone and one by phone still waiting for its SI can stand side by side.
func (s *Service) removeFiscalCode(ctx context.Context, comune, cf string, by alertstore.ConsentActor) error {
	keys, err := s.as.SubscriptionsOfFiscalCode(ctx, comune, cf)
	if err != nil {
		return err
	}
	if len(keys) == 0 {
		return notFound("subscriber %s not found", cf)
	}
	for _, key := range keys {
		if err := s.as.RemoveSubscriber(ctx, comune, key, by); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	return nil
}

// ConfirmArgs is the River job that asks a citizen to confirm a subscription by SMS.
type ConfirmArgs struct {
	Comune string `json:"comune"`
	Phone  string `json:"phone"`
	Lang   string `json:"lang"`
}

// Kind names the job.
func (ConfirmArgs) Kind() string { return "alert_subscription_confirm" }

// InsertOpts: confirmation requests travel with the other single messages.
func (ConfirmArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: jobs.QueueOutbound, MaxAttempts: 25}
}

// ConfirmWorker sends confirmation requests.
type ConfirmWorker struct {
	river.WorkerDefaults[ConfirmArgs]
	S *Service
}

var confirmTexts = map[string]string{
	"it": "%s: per ricevere i suoi avvisi SMS rispondi SI a questo messaggio. Se non li hai chiesti ignoralo, o scrivi STOP.",
	"en": "%s: to get its SMS alerts, reply YES to this message. If you did not ask for them, ignore it or text STOP.",
}

// Work sends the request unless the subscription is no longer pending or the number said STOP.
// A refusal for good is logged and dropped (21610 also records the STOP); anything else retries.
func (w *ConfirmWorker) Work(ctx context.Context, job *river.Job[ConfirmArgs]) error {
	s, a := w.S, job.Args
	sb, err := s.as.Subscriber(ctx, a.Comune, a.Phone)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if out, err := s.as.IsOptedOut(ctx, a.Phone); err != nil || out || sb.Status != alertstore.SubscriberPending {
		return err
	}
	snd, err := s.sender()
	if err != nil {
		return err
	}
	start, _, err := s.reserve(ctx, 1)
	if err != nil {
		return err
	}
	if err := sleep(ctx, time.Until(start)); err != nil {
		return err
	}
	text := confirmTexts["it"]
	if a.Lang == "en" {
		text = confirmTexts["en"]
	}
	body := fmt.Sprintf(text, s.comuneName(a.Comune))
	if sent, err := s.confirmationSent(ctx, job, body); err != nil || sent {
		return err
	}
	_, err = snd.Send(ctx, channels.OutboundMessage{Channel: channels.SMS, To: a.Phone, Body: body, StatusCallback: s.o.StatusCallback})
	var se *channels.SendError
	if errors.As(err, &se) && se.Permanent {
		s.o.Logger.Warn("confirmation request refused by the provider", "phone", a.Phone, "code", se.Code, "err", se.Message)
		if se.Code == codeUnsubscribed {
			return s.o.Store.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
				_, err := alertstore.OptOut(ctx, tx, a.Phone, alertstore.ConsentActor{Via: alertstore.ViaCarrier, Actor: "twilio"}, "Twilio error 21610")
				return err
			})
		}
		return nil
	}
	return err
}

// confirmationSent settles a retried confirmation request before it is sent again. An attempt
// can fail after the provider accepted the message (a timeout on the answer, a crash before
// River recorded the job done), and Twilio has no idempotency key: only its own record tells.
// The first attempt asks nothing; without a Lookup a retry sends again (a second request is a
// nuisance, no request at all would leave the citizen unable to confirm). A provider that
// cannot answer now fails the attempt: River retries it later, and nothing is guessed.
func (s *Service) confirmationSent(ctx context.Context, job *river.Job[ConfirmArgs], body string) (bool, error) {
	if job.Attempt <= 1 || s.o.Lookup == nil {
		return false, nil
	}
	sids, err := s.o.Lookup.FindSent(ctx, job.Args.Phone, body, job.CreatedAt)
	if err != nil {
		return false, fmt.Errorf("alerts: asking the provider whether a confirmation request reached %s: %w", job.Args.Phone, err)
	}
	if len(sids) > 0 {
		s.o.Logger.Info("a retried confirmation request had reached the provider: not sent again", "phone", job.Args.Phone, "sid", sids[0])
		return true, nil
	}
	return false, nil
}
