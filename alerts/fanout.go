package alerts

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/jobs"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/alertstore"
)

// FanoutArgs is one River job: send one batch of an alert's recipients.
type FanoutArgs struct {
	AlertID string `json:"alert_id"`
	Batch   int    `json:"batch"`
}

// Kind names the job.
func (FanoutArgs) Kind() string { return "alert_fanout" }

// InsertOpts puts fan-out jobs on their own queue, so an alert never delays operators' replies;
// attempts are many because an outage only delays a batch.
func (FanoutArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: jobs.QueueAlerts, MaxAttempts: 1000}
}

// FanoutWorker works fan-out jobs.
type FanoutWorker struct {
	river.WorkerDefaults[FanoutArgs]
	S *Service
}

// Timeout: a batch takes as long as pacing makes it take.
func (w *FanoutWorker) Timeout(*river.Job[FanoutArgs]) time.Duration { return -1 }

// NextRetry backs off to at most a minute: a batch waits out an outage, it is never dropped.
func (w *FanoutWorker) NextRetry(job *river.Job[FanoutArgs]) time.Time {
	return retryAfterAttempt(job.Attempt)
}

// retryAfterAttempt doubles the wait from a second, up to a minute.
func retryAfterAttempt(attempt int) time.Time {
	return time.Now().Add(time.Second << min(attempt, 6))
}

// Work sends a batch.
func (w *FanoutWorker) Work(ctx context.Context, job *river.Job[FanoutArgs]) error {
	return w.S.SendBatch(ctx, job.Args.AlertID, job.Args.Batch)
}

// errStopping ends a batch early because this process is shutting down.
var errStopping = errors.New("alerts: stopping")

// outageLimit is how long a batch keeps retrying in place before it hands itself back to River.
const outageLimit = 2 * time.Minute

// SendBatch sends the queued recipients of one batch, chunk by chunk: reserve send slots,
// mark the chunk "sending" (committed), hand each recipient to the provider at its slot,
// record the outcomes. A batch a live worker already holds, or one already done, is left alone,
// even when that worker is of this process: River may run a batch's job again while its first
// run still works it, and two workers of one batch would both claim and send its recipients.
//
// Every step that makes progress renews the batch's lease; a worker that stops making progress
// (stuck, or failed without handing the batch back) loses the batch after LeaseFor and the
// sweep gives it to another. Whatever ends the batch early, an error or a panic, hands it back.
func (s *Service) SendBatch(ctx context.Context, alertID string, batch int) (err error) {
	// The batch's bookkeeping is bulk work: it yields to inbound traffic in the group writer.
	ctx = store.Bulk(ctx)
	lease, ok, err := s.fas.ClaimAlertBatch(ctx, alertID, batch, s.o.SenderID, s.liveness())
	if err != nil || !ok {
		return err
	}
	release := func(cause error) error {
		if errors.Is(cause, alertstore.ErrLeaseLost) {
			// Not ours any more: whoever took it over carries on.
			s.o.Logger.Warn("an alert batch was taken over after its worker made no progress", "alert", alertID, "batch", batch)
			return nil
		}
		if err := s.releaseBatch(ctx, alertID, batch, lease); err != nil {
			// The lease runs out and the sweep hands the batch on.
			s.o.Logger.Warn("releasing an alert batch failed", "alert", alertID, "batch", batch, "err", err)
		}
		if errors.Is(cause, errStopping) {
			return river.JobSnooze(time.Second)
		}
		s.noteBatchError(ctx, alertID, batch, cause)
		return cause
	}
	defer func() {
		if p := recover(); p != nil {
			err = release(fmt.Errorf("alerts: panic in the fan-out of alert %s batch %d: %v", alertID, batch, p))
		}
	}()
	a, err := s.fas.GetAlert(ctx, "", alertID)
	if err != nil {
		return release(err)
	}
	lastRenew := time.Now()
	renew := func(ctx context.Context) error {
		if time.Since(lastRenew) < s.o.LeaseFor/4 {
			return nil
		}
		held, err := s.fas.RenewBatchLease(ctx, alertID, batch, lease)
		if err != nil {
			return err
		}
		if !held {
			return alertstore.ErrLeaseLost
		}
		lastRenew = time.Now()
		return nil
	}
	backoff := time.Duration(0)
	var failingSince time.Time
	for {
		select {
		case <-s.stopping:
			return release(errStopping)
		default:
		}
		if err := ctx.Err(); err != nil {
			return release(err)
		}
		// Before a chunk is claimed (never between a claim and its sends: that would stretch
		// the claim's time bound and requeue recipients as late).
		s.yieldToInbound(ctx)
		seqs, err := s.fas.QueuedInBatch(ctx, alertID, batch, s.chunkNow())
		if err != nil {
			return release(err)
		}
		if len(seqs) == 0 {
			done, err := s.fas.FinishAlertBatch(ctx, alertID, batch, lease)
			if err != nil {
				return release(err)
			}
			if done {
				s.publishProgress(ctx, alertID, a.Comune, true)
				return nil
			}
			continue
		}
		start, iv, err := s.reserveRenewing(ctx, len(seqs), renew)
		if err != nil {
			return release(err)
		}
		if err := s.sleepOrStop(ctx, time.Until(start)); err != nil {
			return release(err)
		}
		claimed, err := s.fas.ClaimRecipients(ctx, alertID, batch, seqs, lease)
		if err != nil {
			return release(err)
		}
		lastRenew = time.Now()
		if len(claimed) == 0 {
			// The recipients said STOP meanwhile, or the alert was cancelled or expired.
			cur, err := s.fas.GetAlert(ctx, "", alertID)
			if err != nil {
				return release(err)
			}
			if cur.Status == alertstore.AlertSending && cur.ExpiresAt != nil && !cur.ExpiresAt.After(s.now()) {
				if _, err := s.fas.EndAlert(ctx, "", alertID, alertstore.AlertExpired); err != nil {
					return release(err)
				}
			}
			continue
		}
		results := s.sendChunk(ctx, a, claimed, start, iv)
		// The outcomes are written even when ctx ends: they are facts about the provider. Lost,
		// they would leave the recipients "sending" for a whole lease before the sweep asks
		// Twilio, so a broken connection gets a few more tries (the write is conditional, so
		// repeating one that did commit changes nothing).
		if err := s.retryWrite(ctx, func(ctx context.Context) error {
			return s.fas.RecordSendResults(ctx, alertID, batch, lease.Owner, results, s.enqueueBatches)
		}); err != nil {
			return release(err)
		}
		s.publishProgress(ctx, alertID, a.Comune, false)
		retries := 0
		for _, r := range results {
			if (r.Outcome == alertstore.OutcomeRetry && r.Error != errLate) || r.Outcome == alertstore.OutcomeUncertain {
				retries++
			}
		}
		if retries == 0 {
			backoff, failingSince = 0, time.Time{}
			continue
		}
		if failingSince.IsZero() {
			failingSince = time.Now()
			s.noteBatchError(ctx, alertID, batch, fmt.Errorf("the provider refuses sends (%d of %d): %s", retries, len(results), firstError(results)))
		}
		if time.Since(failingSince) > outageLimit {
			return release(fmt.Errorf("alerts: the provider refused %d of %d sends for %v; retrying later", retries, len(results), outageLimit))
		}
		backoff = min(max(2*backoff, 200*time.Millisecond), 5*time.Second)
		if err := renew(ctx); err != nil {
			return release(err)
		}
		if err := s.sleepOrStop(ctx, backoff); err != nil {
			return release(err)
		}
	}
}

// releaseBatch hands a batch back, trying a few times over a few seconds: the error that ends
// a batch early is often a connection that just broke, and a batch handed back now is resumed
// at once instead of after its lease.
func (s *Service) releaseBatch(ctx context.Context, alertID string, batch int, lease alertstore.BatchLease) error {
	return s.retryWrite(ctx, func(ctx context.Context) error { return s.fas.ReleaseAlertBatch(ctx, alertID, batch, lease) })
}

// retryWrite runs a conditional write up to 5 times over about 3 s, even if ctx ends.
func (s *Service) retryWrite(ctx context.Context, write func(context.Context) error) error {
	ctx = context.WithoutCancel(ctx)
	var err error
	for i := range 5 {
		if err = write(ctx); err == nil {
			return nil
		}
		time.Sleep(time.Duration(100<<i) * time.Millisecond)
	}
	return err
}

// noteBatchError keeps what stopped a batch, for the stall report; best effort.
func (s *Service) noteBatchError(ctx context.Context, alertID string, batch int, cause error) {
	if cause == nil || errors.Is(cause, context.Canceled) {
		return
	}
	if err := s.fas.RecordBatchError(context.WithoutCancel(ctx), alertID, batch, cause.Error()); err != nil {
		s.o.Logger.Debug("recording a batch's error failed", "alert", alertID, "batch", batch, "err", err)
	}
}

func firstError(results []alertstore.SendResult) string {
	for _, r := range results {
		if r.Error != "" {
			return r.Error
		}
	}
	return ""
}

// sleepOrStop waits d, or returns early when ctx ends or the process stops.
func (s *Service) sleepOrStop(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-s.stopping:
		return errStopping
	case <-ctx.Done():
		return ctx.Err()
	}
}

// sendChunk hands claimed recipients to the provider, the i-th at start+i*iv, with at most
// MaxInFlight requests of this process in flight, and classifies each outcome.
//
// No send starts later than LeaseFor/4 after the claim: the rest go back to the queue, never
// handed over. So every send of a claim has ended (or timed out) within the lease, and a
// recipient still "sending" after it can be settled with the provider's record while its
// worker, stuck or not, will never send it any more.
func (s *Service) sendChunk(ctx context.Context, a alertstore.Alert, rs []alertstore.Recipient, start time.Time, iv time.Duration) []alertstore.SendResult {
	results := make([]alertstore.SendResult, len(rs))
	cutoff := time.Now().Add(s.o.LeaseFor / 4)
	if len(rs) > 0 && !rs[0].ClaimedAt.IsZero() {
		cutoff = rs[0].ClaimedAt.Add(s.o.LeaseFor / 4)
	}
	late := func(from int) {
		for j := from; j < len(rs); j++ {
			results[j] = alertstore.SendResult{Seq: rs[j].Seq, Outcome: alertstore.OutcomeRetry, Error: errLate}
		}
	}
	snd, err := s.sender()
	if err != nil {
		for i, r := range rs {
			results[i] = alertstore.SendResult{Seq: r.Seq, Outcome: alertstore.OutcomeRetry, Error: err.Error()}
		}
		return results
	}
	// Sends already started finish even if ctx ends: their outcome must be known and written.
	// They need none of ctx's values either, and a context without them is cheap to search:
	// net/http looks for a trace hook in every request's context, and through the dozen
	// layers River and the fan-out add, that search was 3 % of a fan-out's CPU.
	sendCtx := context.Background()
	var wg sync.WaitGroup
	for i, r := range rs {
		slot := start.Add(time.Duration(i) * iv)
		if d := time.Until(slot); d > 0 {
			time.Sleep(d)
		}
		s.easeForInbound(cutoff)
		wait := time.Until(cutoff) // after the easing, which may take up to the cutoff
		if wait <= 0 {
			late(i)
			break
		}
		t := time.NewTimer(wait)
		select {
		case s.inflight <- struct{}{}:
			t.Stop()
		case <-t.C:
			late(i)
		}
		if results[i].Outcome != "" {
			break
		}
		wg.Add(1)
		s.senders.run(func() {
			defer wg.Done()
			defer func() { <-s.inflight }()
			defer func() {
				// A panic in the provider's client must not kill the process with sends in
				// flight; the request may have been written, so the provider is asked later.
				if p := recover(); p != nil {
					results[i] = alertstore.SendResult{Seq: r.Seq, Outcome: alertstore.OutcomeUncertain, Error: fmt.Sprintf("panic: %v", p)}
				}
			}()
			results[i] = s.sendOne(sendCtx, snd, a, r)
		})
	}
	wg.Wait()
	for i := range results {
		results[i].ClaimedAt = rs[i].ClaimedAt // the claim each result answers
	}
	return results
}

// While people's writes are arriving (webhooks, operators: a main-lane write queued within
// inboundWindow), a process keeps at most pressuredInFlight sends in flight rather than
// MaxInFlight: the fan-out's senders, their HTTP clients and the provider's answers otherwise
// take both cores, and an inbound SMS waited for CPU (p50 18 ms, p99 310 ms during a
// 100,000-recipient fan-out against 1 and 2 ms quiet; BENCHMARKS.md, issue 14).
const (
	pressuredInFlight = 4
	inboundWindow     = 200 * time.Millisecond
	// pressuredChunk bounds a chunk while people's writes are arriving: its claim and its
	// results are one bulk write each, and a webhook may wait for one of them (200
	// recipients' took up to 10 ms during a fan-out).
	pressuredChunk = 50
)

// chunkNow is how many recipients the next chunk takes.
func (s *Service) chunkNow() int {
	n := s.chunkSize()
	if s.o.Store.MainWritesWithin(inboundWindow) {
		n = min(n, pressuredChunk)
	}
	return n
}

// easeForInbound waits, never past cutoff, while inbound work is recent and pressuredInFlight
// sends are already in flight, then until the governor's next slot.
func (s *Service) easeForInbound(cutoff time.Time) {
	for len(s.inflight) >= pressuredInFlight && s.o.Store.MainWritesWithin(inboundWindow) && time.Now().Before(cutoff) {
		time.Sleep(time.Millisecond)
	}
	s.o.Store.BulkAtWork()
	s.governor.wait(cutoff)
}

// inboundYield bounds how long one chunk waits for inbound writes to finish: the fan-out slows
// down under inbound traffic, it never stops.
const inboundYield = 50 * time.Millisecond

// yieldToInbound puts inbound traffic first: before claiming a chunk, a batch waits while a
// webhook's write is pending in this process, up to inboundYield. The waits of all of the
// process's batches are taken one at a time, so under constant inbound pressure the fan-out
// claims about 1/inboundYield chunks a second rather than each batch worker waiting side by
// side. (A first version waited before each send, between the claim and the sends: in a
// 100,000-recipient run under load the claims' time bound then expired, recipients were
// requeued as late after their batch had been taken over and finished, and 197 were left
// queued in finished batches: see BENCHMARKS.md, "Priority lanes".)
func (s *Service) yieldToInbound(ctx context.Context) {
	s.yieldMu.Lock()
	defer s.yieldMu.Unlock()
	s.o.Store.WaitNoPendingWrites(ctx, inboundYield)
}

// errLate marks recipients sendChunk gave back unsent because their claim was too old: this
// process was busy, the provider did not refuse anything.
const errLate = "not handed over within the claim's time bound; queued again"

// sendTimeout bounds one request to the provider.
const sendTimeout = 30 * time.Second

func (s *Service) sendOne(ctx context.Context, snd channels.Sender, a alertstore.Alert, r alertstore.Recipient) alertstore.SendResult {
	res := s.sendOneOn(ctx, snd, a, r)
	if !a.UsesAppIO() {
		// One channel: nothing to tell apart, and nothing more to write per chunk.
		res.Channel = ""
	}
	return res
}

// sendOneOn sends to one recipient: through App IO first when the alert names it and the
// recipient has a fiscal code, else (or when App IO cannot reach them) by SMS.
func (s *Service) sendOneOn(ctx context.Context, snd channels.Sender, a alertstore.Alert, r alertstore.Recipient) alertstore.SendResult {
	ctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	why := "no phone number is known"
	if a.UsesAppIO() && r.FiscalCode != "" {
		res, fallback := s.sendAppIO(ctx, a, r)
		if !fallback {
			return res
		}
		why = res.Error
	}
	if !a.UsesSMS() || r.Phone == "" {
		ch := alertstore.ChannelSMS
		if a.UsesAppIO() && r.FiscalCode != "" {
			ch = alertstore.ChannelAppIO
		}
		return alertstore.SendResult{Seq: r.Seq, Outcome: alertstore.OutcomeFailed, Channel: ch, Error: "unreachable: " + why}
	}
	res, err := snd.Send(ctx, channels.OutboundMessage{Channel: channels.SMS, To: r.Phone, Body: textFor(a, r.Lang), StatusCallback: s.statusCallbackFor(alertstore.RecipientRef{AlertID: a.ID, Seq: r.Seq})})
	if err == nil {
		if res.ExternalID == "" {
			return alertstore.SendResult{Seq: r.Seq, Outcome: alertstore.OutcomeUncertain, Channel: alertstore.ChannelSMS, Error: "the provider returned no message id"}
		}
		return alertstore.SendResult{Seq: r.Seq, Outcome: alertstore.OutcomeSent, Channel: alertstore.ChannelSMS, SID: res.ExternalID}
	}
	out := classify(r, err)
	out.Channel = alertstore.ChannelSMS
	return out
}

// Twilio's refusals that matter here.
const (
	codeInvalidNumber = 21211
	codeUnsubscribed  = 21610
)

// classify turns a send error into an outcome. A refusal Twilio answered (a *SendError with
// its error code) is certain: permanent ones fail, temporary ones (429, 5xx) are retried. A
// connection that was never made is certain too. Anything else (a timeout, a connection broken
// after the request was written, an answer without Twilio's code) may have reached the
// provider: the recipient stays "sending" for the sweep to ask the provider, never resent blindly.
func classify(r alertstore.Recipient, err error) alertstore.SendResult {
	var se *channels.SendError
	if errors.As(err, &se) {
		code := ""
		if se.Code != 0 {
			code = strconv.Itoa(se.Code)
		}
		switch {
		case se.Permanent:
			return alertstore.SendResult{Seq: r.Seq, Outcome: alertstore.OutcomeFailed, ErrorCode: code, Error: se.Message,
				OptOut: se.Code == codeUnsubscribed, Phone: r.Phone}
		case se.Code != 0 || neverConnected(se):
			return alertstore.SendResult{Seq: r.Seq, Outcome: alertstore.OutcomeRetry, ErrorCode: code, Error: se.Message}
		}
		return alertstore.SendResult{Seq: r.Seq, Outcome: alertstore.OutcomeUncertain, Error: se.Message}
	}
	return alertstore.SendResult{Seq: r.Seq, Outcome: alertstore.OutcomeUncertain, Error: err.Error()}
}

// neverConnected recognizes a request that could not have been written: the connection was
// never made (refused, unreachable, unknown host), as the sender's error chain says.
func neverConnected(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}

// textFor is the text a recipient gets, by their language.
func textFor(a alertstore.Alert, lang string) string {
	if lang == "en" && a.TextEN != "" {
		return a.TextEN
	}
	return a.TextIT
}

// liveness is who counts as working now: a recent heartbeat, and progress within the lease.
func (s *Service) liveness() alertstore.Liveness {
	now := s.now()
	return alertstore.Liveness{StaleBefore: now.Add(-s.o.StaleAfter), LeaseBefore: now.Add(-s.o.LeaseFor)}
}
