package desk

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/riverqueue/river"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/events"
	"github.com/sportello/sportello/jobs"
	"github.com/sportello/sportello/store"
)

// SendArgs is the durable job that delivers one stored outbound message (a reply, an automatic
// answer, a forward to an office).
type SendArgs struct {
	MessageID string `json:"message_id"`
	// Forward attaches every attachment of the contact (a forward to an office).
	Forward bool `json:"forward,omitempty"`
	// AutoReply marks an answer no person wrote (a closed-hours notice): the email carries
	// Auto-Submitted (channels.OutboundMessage.AutoReply). Kept in the durable job, so a
	// retry days later still sends it marked.
	AutoReply bool `json:"auto_reply,omitempty"`
}

// Kind is the River job kind.
func (SendArgs) Kind() string { return "desk_send" }

// InsertOpts puts replies on the outbound queue, apart from alert fan-outs.
func (SendArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: jobs.QueueOutbound} }

// maxRetryDelay caps the backoff between attempts: a long outage is retried every ten minutes.
const maxRetryDelay = 10 * time.Minute

type sendWorker struct {
	river.WorkerDefaults[SendArgs]
	d *Desk
}

// NextRetry backs off exponentially from one second, with jitter, up to maxRetryDelay: River's
// default (attempt^4 seconds) waits too long after a short outage.
func (w *sendWorker) NextRetry(job *river.Job[SendArgs]) time.Time {
	delay := time.Second << min(job.Attempt-1, 20)
	if delay > maxRetryDelay || delay <= 0 {
		delay = maxRetryDelay
	}
	delay += time.Duration(rand.Int64N(int64(delay)/4 + 1))
	return time.Now().Add(delay)
}

func (w *sendWorker) Timeout(*river.Job[SendArgs]) time.Duration { return 2 * time.Minute }

func (w *sendWorker) Work(ctx context.Context, job *river.Job[SendArgs]) error {
	return w.d.deliver(ctx, job.Args, attempt{
		retry: job.Attempt > 1, last: job.Attempt >= job.MaxAttempts, since: job.CreatedAt})
}

// attempt says which try of a send job this is.
type attempt struct {
	// retry is set when an earlier attempt ran: it may have reached the provider even though
	// its outcome was not recorded (a crash, a shutdown that cancelled it, a timeout).
	retry bool
	last  bool
	// since is when the job was created: no earlier message can be this one.
	since time.Time
}

// RegisterWorkers adds the desk's job workers.
func (d *Desk) RegisterWorkers(ws *river.Workers) {
	river.AddWorker(ws, &sendWorker{d: d})
}

// deliver sends one outbound message through its channel's sender and records the outcome: a
// permanent refusal marks it failed (no retry); a temporary one is shown and retried.
func (d *Desk) deliver(ctx context.Context, a SendArgs, at attempt) error {
	lastAttempt := at.last
	m, err := d.o.Store.OutboundMessage(ctx, a.MessageID)
	if errors.Is(err, store.ErrNotFound) {
		return river.JobCancel(fmt.Errorf("outbound message %s does not exist", a.MessageID))
	}
	if err != nil {
		return err
	}
	if m.Status != store.OutQueued {
		// Sent by an earlier attempt whose completion was not recorded. It may have stopped
		// between recording the send and taking a status callback that came first.
		d.applyHeldDelivery(ctx, m.Channel, m.ExternalID, m.ID)
		return nil
	}
	if at.retry && m.Channel == channels.SMS && d.o.Lookup != nil {
		sid, err := d.settle(ctx, m, at.since)
		if err != nil {
			// The provider cannot tell now: try again later; never resend on a guess.
			return d.sendFailed(ctx, m, fmt.Errorf("asking the provider whether an interrupted send got through: %w", err), lastAttempt)
		}
		if sid != "" {
			if err := d.o.Store.MarkOutbound(context.WithoutCancel(ctx), m.ID, sid, store.OutSent, ""); err != nil {
				return err
			}
			d.count(string(m.Channel), "settled")
			d.o.Logger.Info("an interrupted send had reached the provider: not sent again", "message", m.ID, "sid", sid)
			// Its status callback came while we did not know the sid, and was held.
			d.applyHeldDelivery(ctx, m.Channel, sid, m.ID)
			d.publish(ctx, events.ContactUpdated, m.ContactID, nil)
			return nil
		}
	}
	sender := d.o.Senders[m.Channel]
	if sender == nil {
		return d.sendFailed(ctx, m, errNoSender, lastAttempt)
	}
	out := channels.OutboundMessage{Channel: m.Channel, To: m.To, From: m.From, Subject: m.Subject, Body: m.Body,
		MessageID: m.MessageID, InReplyTo: m.InReplyTo, References: m.References, AutoReply: a.AutoReply}
	if m.Channel == channels.SMS {
		out.StatusCallback = d.o.Config.PublicURL + "/webhooks/twilio/status?" + channels.ReplyStatusQuery
	}
	if a.Forward {
		atts, err := d.o.Store.ContactAttachments(ctx, m.ContactID)
		if err != nil {
			return err
		}
		for _, at := range atts {
			if at.Data != nil {
				out.Attachments = append(out.Attachments, at.Attachment)
			}
		}
	}
	res, err := sender.Send(ctx, out)
	if err != nil {
		return d.sendFailed(ctx, m, err, lastAttempt)
	}
	status := store.OutSent
	if res.Status == store.OutDelivered || res.Status == store.OutOutbox {
		status = res.Status
	}
	if err := d.o.Store.MarkOutbound(context.WithoutCancel(ctx), m.ID, res.ExternalID, status, ""); err != nil {
		return err
	}
	d.count(string(m.Channel), "sent")
	// A status callback may have come before we knew the provider's id (to any replica).
	d.applyHeldDelivery(ctx, m.Channel, res.ExternalID, m.ID)
	d.publish(ctx, events.ContactUpdated, m.ContactID, nil)
	return nil
}

// applyHeldDelivery applies a status callback held because it came before its message's
// provider id was recorded. A failure leaves it held: the SLA sweep applies it
// (ApplyHeldDeliveries).
func (d *Desk) applyHeldDelivery(ctx context.Context, ch channels.Kind, externalID, messageID string) {
	if externalID == "" {
		return
	}
	if err := d.takeEarlyDelivery(context.WithoutCancel(ctx), ch, externalID); err != nil {
		d.o.Logger.Warn("applying an early delivery status failed", "message", messageID, "err", err)
	}
}

// settle asks the provider whether it holds message m, sent by an earlier attempt whose
// outcome was lost: it returns the provider's id of a message to the same number with the same
// text, created since the job was, that no other message of ours claims; "" when none.
func (d *Desk) settle(ctx context.Context, m channels.Message, since time.Time) (string, error) {
	sids, err := d.o.Lookup.FindSent(ctx, m.To, m.Body, since)
	if err != nil || len(sids) == 0 {
		return "", err
	}
	known, err := d.o.Store.KnownExternalIDs(ctx, m.Channel, sids)
	if err != nil {
		return "", err
	}
	for _, sid := range sids {
		if !known[sid] {
			return sid, nil
		}
	}
	return "", nil
}

func (d *Desk) sendFailed(ctx context.Context, m channels.Message, err error, lastAttempt bool) error {
	var se *channels.SendError
	permanent := errors.As(err, &se) && se.Permanent
	ctx = context.WithoutCancel(ctx)
	if permanent || lastAttempt {
		if merr := d.o.Store.MarkOutbound(ctx, m.ID, "", store.OutFailed, err.Error()); merr != nil {
			return errors.Join(err, merr)
		}
		d.count(string(m.Channel), "failed")
		d.o.Logger.Warn("an outbound message failed for good", "message", m.ID, "channel", m.Channel, "err", err)
		d.publish(ctx, events.ContactUpdated, m.ContactID, nil)
		return nil
	}
	d.count(string(m.Channel), "retry")
	if nerr := d.o.Store.NoteOutboundError(ctx, m.ID, "retrying: "+err.Error()); nerr != nil {
		d.o.Logger.Warn("recording a send error failed", "message", m.ID, "err", nerr)
	}
	return err
}

// insertSend enqueues the job that sends a stored outbound message, inside the transaction
// that stored it.
func insertSend(ctx context.Context, jc *jobs.Client, tx *store.Tx, a SendArgs, maxAttempts int) error {
	_, err := jc.InsertTx(ctx, tx.SQL(), a, &river.InsertOpts{Queue: jobs.QueueOutbound, MaxAttempts: maxAttempts})
	return err
}
