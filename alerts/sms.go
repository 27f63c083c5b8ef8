package alerts

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/alertstore"
)

// ConfirmWithin is how long after its confirmation request a pending subscription can be
// confirmed by SI. Later, an SI is more likely an answer to something else.
const ConfirmWithin = 7 * 24 * time.Hour

// HandleSMS answers the SMS keywords of contract section 5 (twilio.KeywordHandler). A message
// that is not a command, or an SI with nothing to confirm, is not handled and becomes a contact
// for the operators. Commands that change a subscription are acted on once per MessageSid: a
// redelivered webhook gets the first answer again and changes nothing.
func (s *Service) HandleSMS(ctx context.Context, in channels.InboundMessage) (string, bool, error) {
	cmd := ParseCommand(in.Body)
	if cmd.Kind == NotACommand {
		return "", false, nil
	}
	phone := in.From
	switch cmd.Kind {
	case CmdHelp, CmdTraffic:
		if err := s.as.TakeRate(ctx, keywordReplyBucket(phone), 1, keywordReplies); err != nil {
			return silentWhenSpent(err)
		}
		if cmd.Kind == CmdHelp {
			return textsFor(cmd.Lang).help, true, nil
		}
		return s.answerTraffic(ctx, cmd, in)
	}
	if in.ExternalID != "" {
		prev, err := s.as.SMSCommandBySid(ctx, in.ExternalID)
		if err == nil {
			return prev.Reply, prev.Handled, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return "", false, err
		}
	}
	by := alertstore.ConsentActor{Via: alertstore.ViaSMS, Actor: phone}
	var reply string
	var handled bool
	err := s.o.Store.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		var err error
		reply, handled, err = s.act(ctx, tx, cmd, in, by)
		if err != nil {
			return err
		}
		if handled && reply != "" {
			// The command is done whatever the limit says (a STOP always stops); only its
			// answer may be left unsent.
			switch err := alertstore.TakeRateTx(ctx, tx, keywordReplyBucket(phone), 1, keywordReplies); {
			case isRateLimited(err):
				reply = ""
			case err != nil:
				return err
			}
		}
		if in.ExternalID == "" {
			return nil
		}
		return alertstore.RecordSMSCommand(ctx, tx, alertstore.SMSCommand{MessageSid: in.ExternalID, Phone: phone, Keyword: cmd.Keyword, Handled: handled, Reply: reply})
	})
	if errors.Is(err, store.ErrConflict) {
		// The same MessageSid is being acted on concurrently (a redelivery): its answer stands.
		prev, err := s.as.SMSCommandBySid(ctx, in.ExternalID)
		if err != nil {
			return "", false, err
		}
		return prev.Reply, prev.Handled, nil
	}
	if err != nil {
		return "", false, err
	}
	return reply, handled, nil
}

// keywordReplies bounds the keyword answers one number gets: a citizen's conversation (ISCRIVI,
// SI, BLOCCO, INFO, STOP) fits, while an automated sender whose own messages start with a
// keyword ("Info: questo numero non accetta risposte") and that answers everything is answered
// a few times and then no more, which ends the loop (each turn of it a paid SMS).
var keywordReplies = alertstore.Rate{Limit: 6, Per: time.Hour}

// keywordReplyBucket names a number's bucket by a hash: rate_limits is kept out of erasure and
// export, so it holds no number.
func keywordReplyBucket(phone string) string { return "keyword-reply:" + store.HashToken(phone) }

func isRateLimited(err error) bool {
	var rl *alertstore.RateLimitedError
	return errors.As(err, &rl)
}

// silentWhenSpent handles a keyword without answering it when its number's answers are spent.
func silentWhenSpent(err error) (string, bool, error) {
	if isRateLimited(err) {
		return "", true, nil
	}
	return "", false, err
}

// act performs a command that changes subscriptions, inside the transaction that records it.
func (s *Service) act(ctx context.Context, tx *store.Tx, cmd Command, in channels.InboundMessage, by alertstore.ConsentActor) (string, bool, error) {
	t := textsFor(cmd.Lang)
	phone := in.From
	switch cmd.Kind {
	case CmdStop:
		if _, err := alertstore.OptOut(ctx, tx, phone, by, "keyword "+strings.ToUpper(cmd.Keyword)); err != nil {
			return "", false, err
		}
		return t.stopped, true, nil
	case CmdConfirm:
		// Only the comune of the number texted may be confirmed (any, on a shared number or the
		// number requests come from), and only a request of the last days: an SI meant for
		// Empoli must not confirm what another comune planted weeks ago.
		comune, anyComune := s.confirmScope(in.To)
		if comune == "" && !anyComune {
			// A number that is neither a comune's nor ours to send from: the SI was not
			// meant for a confirmation request.
			return "", false, nil
		}
		comuni, err := alertstore.ConfirmPending(ctx, tx, phone, comune, s.now().Add(-ConfirmWithin), by)
		if err != nil {
			return "", false, err
		}
		if len(comuni) == 0 {
			// Nothing to confirm: an SI is then an answer to an operator.
			return "", false, nil
		}
		names := make([]string, len(comuni))
		for i, c := range comuni {
			names[i] = s.comuneName(c)
		}
		return fmt.Sprintf(t.confirmed, strings.Join(names, ", ")), true, nil
	case CmdSubscribe:
		comune, rest, named := matchComune(s.names, cmd.Args)
		if !named {
			comune = s.comuneOfNumber(in.To)
			rest = cmd.Args
		}
		if comune == "" {
			return fmt.Sprintf(t.askComune, s.exampleComune(), s.comuniList()), true, nil
		}
		info := s.comuni[comune]
		var topics []string
		for _, w := range withoutFillers(rest) {
			name, ok := info.topics[w]
			if !ok {
				example := ""
				if len(info.cfg.Topics) > 0 {
					example = strings.ToUpper(info.cfg.Topics[0])
				}
				list := strings.Join(info.cfg.Topics, ", ")
				if list == "" {
					list = "-"
				}
				return fmt.Sprintf(t.unknownTopic, w, info.cfg.Name, list, strings.ToUpper(info.shortName), example), true, nil
			}
			topics = appendUnique(topics, name)
		}
		if err := alertstore.SubscribeByCitizen(ctx, tx, comune, phone, topics, cmd.Lang, by); err != nil {
			return "", false, err
		}
		clause := ""
		if len(topics) > 0 {
			clause = fmt.Sprintf(t.topicsClause, strings.Join(topics, ", "))
		}
		return fmt.Sprintf(t.subscribed, info.cfg.Name, clause), true, nil
	}
	return "", false, nil
}

// answerTraffic replies with the comune's traffic-block alerts in force. The comune is the one
// named in the text, else the one whose number was texted, else the only one the citizen is
// subscribed to; otherwise the citizen is asked to name it.
func (s *Service) answerTraffic(ctx context.Context, cmd Command, in channels.InboundMessage) (string, bool, error) {
	comune := findComune(s.names, cmd.Args)
	if comune == "" {
		comune = s.comuneOfNumber(in.To)
	}
	if comune == "" {
		subs, err := s.as.SubscriptionsOf(ctx, in.From)
		if err != nil {
			return "", false, err
		}
		var confirmed []string
		for _, sb := range subs {
			if sb.Status == alertstore.SubscriberConfirmed {
				confirmed = append(confirmed, sb.Comune)
			}
		}
		if len(confirmed) == 1 {
			comune = confirmed[0]
		}
	}
	if comune == "" {
		return fmt.Sprintf(textsFor(cmd.Lang).askTrafficWho, s.exampleComune(), s.comuniList()), true, nil
	}
	list, err := s.as.ActiveAlerts(ctx, comune, TrafficCategory, s.o.ActiveFor, 5)
	if err != nil {
		return "", false, err
	}
	texts := make([]string, len(list))
	for i, a := range list {
		texts[i] = a.Message
		if cmd.Lang == "en" && a.MessageEN != "" {
			texts[i] = a.MessageEN
		}
	}
	return s.trafficReply(cmd.Lang, comune, texts), true, nil
}

// comuneOfNumber is the comune a texted number belongs to ("" for shared or unknown numbers).
func (s *Service) comuneOfNumber(to string) string {
	n := channels.NormalizePhoneOrRaw(to)
	if s.shared[n] {
		return ""
	}
	return s.byNumber[n]
}

// confirmScope says which comune's pending requests an SI sent to the number to may confirm:
// a comune's own number confirms that comune's; a shared number, or the number confirmation
// requests come from (twilio.from, or any number of a Messaging Service's pool, which this
// process cannot list), confirms any comune's (anyComune); another number confirms nothing.
func (s *Service) confirmScope(to string) (comune string, anyComune bool) {
	n := channels.NormalizePhoneOrRaw(to)
	if s.shared[n] {
		return "", true
	}
	if c := s.byNumber[n]; c != "" {
		return c, false
	}
	tw := s.o.Config.Twilio
	if (tw.From != "" && n == channels.NormalizePhoneOrRaw(tw.From)) || tw.MessagingServiceSID != "" {
		return "", true
	}
	return "", false
}

func (s *Service) comuneName(id string) string {
	if info, ok := s.comuni[id]; ok {
		return info.cfg.Name
	}
	return id
}

func appendUnique(list []string, v string) []string {
	for _, x := range list {
		if x == v {
			return list
		}
	}
	return append(list, v)
}
