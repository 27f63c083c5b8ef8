package alerts

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/sportello/sportello/jobs"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/alertstore"
)

// PrepareArgs is one River job: write a started alert's audience, a chunk at a time.
type PrepareArgs struct {
	AlertID string `json:"alert_id"`
}

// Kind names the job.
func (PrepareArgs) Kind() string { return "alert_prepare" }

// InsertOpts: the alerts queue, and as many attempts as a fan-out job, since an outage of the
// database only delays an alert.
func (PrepareArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: jobs.QueueAlerts, MaxAttempts: 1000}
}

// PrepareWorker works prepare jobs.
type PrepareWorker struct {
	river.WorkerDefaults[PrepareArgs]
	S *Service
}

// Timeout: a million subscribers take as long as people's writes let them.
func (w *PrepareWorker) Timeout(*river.Job[PrepareArgs]) time.Duration { return -1 }

// NextRetry backs off to at most a minute, like a fan-out job.
func (w *PrepareWorker) NextRetry(job *river.Job[PrepareArgs]) time.Time {
	return retryAfterAttempt(job.Attempt)
}

// Work writes the alert's recipients until all are written, making way for people's writes
// between two chunks as the fan-out does between two sends.
func (w *PrepareWorker) Work(ctx context.Context, job *river.Job[PrepareArgs]) error {
	return w.S.prepare(ctx, job.Args.AlertID)
}

func (s *Service) prepare(ctx context.Context, alertID string) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.stopping:
			// Not a failure: the job runs again, here or on another replica, from the cursor.
			return river.JobSnooze(time.Second)
		default:
		}
		done, err := s.fas.PrepareAlert(ctx, alertID, s.startOptions())
		if err != nil || done {
			return err
		}
		s.o.Store.BulkAtWork()
		s.governor.wait(time.Now().Add(maxGap))
	}
}

// startOptions are how this service starts an alert. Without a job client (tests of the
// service alone) a start writes the whole audience itself.
func (s *Service) startOptions() alertstore.StartOptions {
	o := alertstore.StartOptions{BatchSize: s.o.Config.Alerts.BatchSize, Enqueue: s.enqueueBatches, Owner: s.o.SenderID}
	if s.o.Jobs != nil && s.o.Jobs() != nil {
		o.Prepare = s.enqueuePrepare
	}
	return o
}

// enqueuePrepare is the alertstore.PrepareEnqueuer that inserts the alert's prepare job.
func (s *Service) enqueuePrepare(ctx context.Context, tx *store.Tx, alertID string) error {
	_, err := s.o.Jobs().InsertTx(ctx, tx.SQL(), PrepareArgs{AlertID: alertID}, nil)
	return err
}

// prepareStuckAfter is how long a live process's preparation may go without a chunk before
// another job is started for it: far longer than a chunk takes, even behind a busy writer. A
// dead process's preparation is resumed sooner, once its heartbeat is stale.
const prepareStuckAfter = time.Minute

// resumePreparations gives a new job to alerts whose preparation stopped: its process died,
// or is stuck.
func (s *Service) resumePreparations(ctx context.Context) {
	ids, err := s.fas.UnpreparedAlerts(ctx, s.liveness(), s.now().Add(-prepareStuckAfter), 50)
	if err != nil {
		s.o.Logger.Warn("listing alerts still being prepared failed", "err", err)
		return
	}
	for _, id := range ids {
		if err := s.fas.EnqueuePrepare(ctx, id, s.o.SenderID, s.enqueuePrepare); err != nil {
			s.o.Logger.Error("resuming an alert's preparation failed", "alert", id, "err", err)
			continue
		}
		s.o.Logger.Warn("an alert's preparation had stopped; resumed", "alert", id)
	}
}
