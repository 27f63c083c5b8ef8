package alerts

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/store/alertstore"
)

// sendAppIO tries to reach a recipient through the comune's App IO service. fallback is true
// when App IO cannot reach them (no service key, no profile, a profile that refuses the
// service, a message App IO refuses for good): the caller sends an SMS instead, and res.Error
// says why. Otherwise res is the outcome: sent (SID "io:" + App IO's id), retry (throttled,
// App IO down, or not reached at all), or failed when App IO may have got the message but did
// not say so: App IO cannot be asked about a message it never gave us an id for, and sending
// again could deliver it twice.
func (s *Service) sendAppIO(ctx context.Context, a alertstore.Alert, r alertstore.Recipient) (res alertstore.SendResult, fallback bool) {
	res = alertstore.SendResult{Seq: r.Seq, Channel: alertstore.ChannelAppIO}
	io := s.o.AppIO
	if io == nil || !io.Enabled(a.Comune) {
		res.Error = "the comune has no App IO service"
		return res, true
	}
	allowed, err := io.Allowed(ctx, a.Comune, r.FiscalCode)
	if err != nil {
		var se *channels.SendError
		if errors.As(err, &se) && se.Permanent {
			res.Error = "App IO refused the profile lookup: " + se.Message
			return res, true
		}
		// Asking for a profile sends nothing: whatever went wrong, asking again is safe.
		res.Outcome, res.Error, res.ErrorCode = alertstore.OutcomeRetry, err.Error(), errorCode(err)
		return res, false
	}
	if !allowed {
		res.Error = "no App IO profile accepts the comune's service"
		return res, true
	}
	subject, markdown := s.appIOContent(a, r.Lang)
	id, err := io.SendIO(ctx, channels.AppIOMessage{Comune: a.Comune, FiscalCode: r.FiscalCode, Subject: subject, Markdown: markdown})
	if err == nil {
		res.Outcome, res.SID = alertstore.OutcomeSent, alertstore.AppIOPrefix+id
		return res, false
	}
	var se *channels.SendError
	switch {
	case errors.As(err, &se) && se.Permanent:
		res.Error = "App IO refused the message: " + se.Message
		return res, true
	case errors.As(err, &se) && se.Code != 0, neverConnected(err):
		res.Outcome, res.Error, res.ErrorCode = alertstore.OutcomeRetry, err.Error(), errorCode(err)
		return res, false
	}
	res.Outcome, res.Error = alertstore.OutcomeFailed, "App IO did not answer; unknown whether it got the message, so it was not resent: "+err.Error()
	return res, false
}

func errorCode(err error) string {
	var se *channels.SendError
	if errors.As(err, &se) && se.Code != 0 {
		return fmt.Sprint(se.Code)
	}
	return ""
}

// appIOContent is an alert as an App IO message: the subject names the comune and the
// category, the markdown is the subscriber's text (escaped, so it prints as written).
func (s *Service) appIOContent(a alertstore.Alert, lang string) (subject, markdown string) {
	name := a.Comune
	if info, ok := s.comuni[a.Comune]; ok {
		name = info.cfg.Name
	}
	category := a.Category
	for _, c := range s.o.Config.Categories {
		if c.ID == a.Category && c.Name != "" {
			category = c.Name
		}
	}
	prefix := "Avviso"
	if lang == "en" {
		prefix = "Alert"
	}
	return channels.FitAppIO(prefix+": "+category+" - "+name, channels.EscapeMarkdown(textFor(a, lang)), name)
}

// appIOStatusBatch bounds one pass over the messages App IO accepted.
const appIOStatusBatch = 200

// PollAppIO asks App IO about messages it accepted and has not reported processed yet, the
// least recently asked first: PROCESSED makes the recipient delivered, REJECTED failed; the
// others are asked again after StatusEvery.
func (s *Service) PollAppIO(ctx context.Context) error {
	io := s.o.AppIO
	if io == nil {
		return nil
	}
	every := s.o.Config.AppIO.StatusEvery
	pending, err := s.fas.AppIOSent(ctx, s.now().Add(-every), appIOStatusBatch)
	if err != nil {
		return err
	}
	for _, p := range pending {
		if err := ctx.Err(); err != nil {
			return err
		}
		st, err := io.IOStatus(ctx, p.Comune, p.FiscalCode, p.SID[len(alertstore.AppIOPrefix):])
		if err != nil {
			return fmt.Errorf("alerts: asking App IO about message %s: %w", p.SID, err)
		}
		ref := alertstore.RecipientRef{AlertID: p.AlertID, Seq: p.Seq}
		switch st {
		case channels.AppIOProcessed:
			_, err = s.fas.UpdateRecipientDelivery(ctx, ref, p.SID, alertstore.RecipientDelivered, "")
			s.publishProgress(ctx, p.AlertID, p.Comune, false)
		case channels.AppIORejected:
			_, err = s.fas.UpdateRecipientDelivery(ctx, ref, p.SID, alertstore.RecipientFailed, "REJECTED")
			s.publishProgress(ctx, p.AlertID, p.Comune, false)
		default:
			err = s.fas.TouchRecipient(ctx, p.AlertID, p.Seq)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// pollAppIOEvery is how often Run looks for App IO messages to ask about.
func (s *Service) pollAppIOEvery() time.Duration {
	if d := s.o.Config.AppIO.StatusEvery; d > 0 {
		return d
	}
	return 5 * time.Second
}
