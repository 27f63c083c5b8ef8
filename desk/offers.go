package desk

import (
	"context"
	"fmt"
	"time"

	"github.com/sportello/sportello/store"
)

// An offer (dialOperator) marks a queued call offered, then asks Twilio to dial the operator;
// Twilio's callbacks say how it went: the operator's answer (in progress), or the <Dial
// action> (nobody answered: CallMissed puts the call back in the queue). When neither ever
// comes, because the replica died or was killed between marking the call and the REST call,
// or its REST call hung until the process ended, or Twilio posted the callbacks while our
// replicas were down, the call would stay offered and assigned for good: the caller waits in
// Twilio's queue, nothing offers the call again (the drain hands out only unassigned work),
// and the operator counts as on a call, so gets no other. The same holds for a call assigned
// while queued whose offer never started (a crash between the assignment's commit and
// offerCall). ExpireOffers, every round of RunSLA, returns such calls to the queue and offers
// them to the next free operator once no callback can be on its way any more.

// The parts of an offer's deadline (offerDeadline).
const (
	// offerRequestTimeout bounds the REST request that starts an offer: the desk stops waiting
	// for Twilio's answer then. An offer Twilio refused goes to the next operator; one left
	// unanswered stands (Twilio may be ringing) and, with no callback, expires here.
	offerRequestTimeout = 10 * time.Second
	// whisperSpeech is how long the whisper an operator's phone hears before its keypress can
	// take: "Chiamata per <category>, <Comune>: premere 1 per rispondere", about 5 s spoken.
	whisperSpeech = 10 * time.Second
	// whisperGather is the whisper's <Gather timeout> (templates/voice/whisper.xml), which runs
	// once the speech ends; a test keeps the two equal.
	whisperGather = 8 * time.Second
	// offerCallbackMargin covers the callbacks' delivery: Twilio waits up to 15 s for each
	// webhook, and the whisper's document and then the answer or the <Dial action> are two of
	// them. Past it, a callback Twilio sent was answered or is lost.
	offerCallbackMargin = 30 * time.Second
)

// maxExpiredOffers bounds one sweep of expired offers; the next sweep takes the rest. Each one
// expired is a transaction and, for the next operator, a REST request: far more than one
// round's worth would only hold the sweep up.
const maxExpiredOffers = 100

// expirySweepBudget bounds how long one sweep keeps taking expired offers back. The sweep runs
// inside RunSLA's round, and each offer it expires is dialled to the next operator there and
// then, a REST request of up to offerRequestTimeout (more when Twilio refuses and the next
// operator is tried): while Twilio hangs, a hundred of them would hold escalation, the drain and
// the session sweep for many minutes. Past the budget the sweep stops taking offers back; the
// rest stay as they are, still stale, for the next round, so a round spends at most the budget
// plus one offer's attempts here. Handing the offers to goroutines instead would free the round
// as well, but needs a bounded pool, one offer in flight per call, and waiting for them at
// shutdown; a budget needs none, and expired offers are rare (a lost callback, a dead replica).
const expirySweepBudget = 5 * time.Second

// offerTimeouts are offerRequestTimeout and expirySweepBudget, which tests shorten.
type offerTimeouts struct {
	request, sweep time.Duration
}

// offerDeadline is how long after an offer was made no callback about it can still come: the
// REST request that starts it, the operator's phone or browser ringing (voice.ring_seconds:
// Twilio's <Dial timeout>), the whisper of a phone that answered, and the callbacks' delivery.
// 78 s with the default ring time. A call assigned while queued and never offered waits as
// long, from its last change, before it is offered again.
func (d *Desk) offerDeadline() time.Duration {
	ring := time.Duration(d.o.Config.Voice.RingSeconds) * time.Second
	return offerRequestTimeout + ring + whisperSpeech + whisperGather + offerCallbackMargin
}

// ExpireOffers returns to the queue every Twilio call still waiting, past offerDeadline, for
// its operator to be reached (offered with no answer and no outcome, or assigned while queued
// and never offered), audits it as the system's ("offer expired"), and offers it to the next
// free operator. Each call is taken back by a compare-and-set under the assignment lock: with
// several replicas sweeping at once one acts, and a call answered, put on hold, ended or offered
// again meanwhile is left alone. The operator is not turned away: unlike a missed call, the
// offer may never have rung. Once expirySweepBudget is spent it takes no more offers back (the
// next sweep does). It returns the calls taken back.
func (d *Desk) ExpireOffers(ctx context.Context) ([]string, error) {
	if d.calls == nil {
		return nil, nil // nothing offers Twilio calls here
	}
	deadline := d.offerDeadline()
	stale, err := d.o.Store.StaleOffers(ctx, deadline, maxExpiredOffers)
	if err != nil {
		return nil, err
	}
	var expired []string
	// Wall-clock time, not d.now(): the budget is about how long the round is held.
	began := time.Now()
	for i, so := range stale {
		if spent := time.Since(began); spent >= d.offerTimeouts.sweep {
			d.o.Logger.Warn("the sweep of expired offers ran out of time: the next sweep takes the rest", "spent", spent,
				"left", len(stale)-i)
			break
		}
		if !twilioCallSid.MatchString(so.ExternalID) {
			continue // a PBX's calls are its own to ring
		}
		why := fmt.Sprintf("offer expired: no answer and no outcome within %s", deadline)
		if !so.Offered {
			why = fmt.Sprintf("offer expired: assigned and not dialled within %s", deadline)
		}
		lc := store.LiveCall{ContactID: so.ContactID, ExternalID: so.ExternalID, Comune: so.Comune}
		taken, err := d.takeCallBack(ctx, lc, so.Operator, why, func(ctx context.Context, tx *store.Tx) (bool, error) {
			return d.o.Store.ExpireOfferTx(ctx, tx, so.ContactID, so.Operator, deadline)
		})
		if err != nil {
			return expired, fmt.Errorf("expiring the offer of %s: %w", so.ContactID, err)
		}
		if !taken {
			continue // another replica's sweep, or a callback, came first
		}
		d.o.Logger.Warn("a call's offer expired: it goes to the next operator", "contact", so.ContactID, "operator", so.Operator,
			"offered", so.Offered)
		expired = append(expired, so.ContactID)
		d.offerToNext(ctx, so.ContactID, maxOfferAttempts)
	}
	return expired, nil
}
