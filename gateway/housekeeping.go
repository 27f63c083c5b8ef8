package gateway

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/sportello/sportello/store"
)

// purgeTokensArgs is the hourly job that deletes expired and revoked session tokens.
type purgeTokensArgs struct{}

func (purgeTokensArgs) Kind() string { return "purge_tokens" }

type purgeTokensWorker struct {
	river.WorkerDefaults[purgeTokensArgs]
	s *store.Store
}

func (w *purgeTokensWorker) Work(ctx context.Context, _ *river.Job[purgeTokensArgs]) error {
	_, err := w.s.PurgeTokens(ctx, 24*time.Hour)
	return err
}

func housekeepingJobs() []*river.PeriodicJob {
	return []*river.PeriodicJob{
		river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
			func() (river.JobArgs, *river.InsertOpts) { return purgeTokensArgs{}, nil },
			&river.PeriodicJobOpts{RunOnStart: true}),
	}
}
