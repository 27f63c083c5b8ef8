package gateway

import (
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/sportello/sportello/config"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/alertstore"
)

// purgeTokensArgs is the hourly job that deletes expired and revoked session tokens, and the
// rate-limit buckets that limit nothing any more.
type purgeTokensArgs struct{}

func (purgeTokensArgs) Kind() string { return "purge_tokens" }

type purgeTokensWorker struct {
	river.WorkerDefaults[purgeTokensArgs]
	s *store.Store
}

func (w *purgeTokensWorker) Work(ctx context.Context, _ *river.Job[purgeTokensArgs]) error {
	if _, err := w.s.PurgeTokens(ctx, 24*time.Hour); err != nil {
		return err
	}
	_, err := alertstore.New(w.s).PurgeSpentRates(ctx)
	return err
}

// retentionArgs is the daily job that applies the retention: periods. River's leader inserts
// periodic jobs, so one replica runs it; the uniqueness by day keeps two leaders (a leader
// change, replicas starting together) from running it twice at once. A restart after the day's
// run finished may run it again: it is idempotent.
type retentionArgs struct{}

func (retentionArgs) Kind() string { return "retention" }

type retentionWorker struct {
	river.WorkerDefaults[retentionArgs]
	s   *store.Store
	r   config.Retention
	log *slog.Logger
}

// Timeout: a first run over years of contacts takes a while (it works in small transactions).
func (w *retentionWorker) Timeout(*river.Job[retentionArgs]) time.Duration { return 2 * time.Hour }

func (w *retentionWorker) Work(ctx context.Context, _ *river.Job[retentionArgs]) error {
	c, err := w.s.ApplyRetention(ctx, store.Retention{Contacts: w.r.Contacts, Attachments: w.r.Attachments,
		Recordings: w.r.Recordings, Audit: w.r.Audit})
	if err != nil {
		return err
	}
	if c != (store.ErasureCounts{}) {
		w.log.Info("retention applied", "erased", c.String(), "files_scrubbed", c.FilesScrubbed)
	}
	return nil
}

// purgeRecordingsArgs is the job that deletes at the provider the call recordings erasures and
// retention unlinked (see desk.PurgeRecordings), every purgeRecordingsEvery: an erasure tries
// at once, so this retries its failures and takes what the daily retention queued.
type purgeRecordingsArgs struct{}

func (purgeRecordingsArgs) Kind() string { return "purge_recordings" }

const purgeRecordingsEvery = 15 * time.Minute

type purgeRecordingsWorker struct {
	river.WorkerDefaults[purgeRecordingsArgs]
	purge func(context.Context) (int, error)
	log   *slog.Logger
}

func (w *purgeRecordingsWorker) Work(ctx context.Context, _ *river.Job[purgeRecordingsArgs]) error {
	n, err := w.purge(ctx)
	if n > 0 {
		w.log.Info("call recordings deleted at the provider", "deleted", n)
	}
	if err != nil {
		// Each failure stays queued for the next run: retrying this job sooner would only
		// hammer a provider that is failing.
		w.log.Warn("call recordings not deleted at the provider; tried again later", "err", err)
	}
	return nil
}

func housekeepingJobs(r config.Retention) []*river.PeriodicJob {
	list := []*river.PeriodicJob{
		river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
			func() (river.JobArgs, *river.InsertOpts) { return purgeTokensArgs{}, nil },
			&river.PeriodicJobOpts{RunOnStart: true}),
		river.NewPeriodicJob(river.PeriodicInterval(purgeRecordingsEvery),
			func() (river.JobArgs, *river.InsertOpts) {
				return purgeRecordingsArgs{}, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: purgeRecordingsEvery}}
			},
			&river.PeriodicJobOpts{RunOnStart: true}),
	}
	if r.Enabled() {
		list = append(list, river.NewPeriodicJob(river.PeriodicInterval(24*time.Hour),
			func() (river.JobArgs, *river.InsertOpts) {
				return retentionArgs{}, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: 24 * time.Hour}}
			},
			&river.PeriodicJobOpts{RunOnStart: true}))
	}
	return list
}
