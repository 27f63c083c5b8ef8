package alerts

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"
	"time"

	"github.com/sportello/sportello/store/alertstore"
)

// Run is the service's background loop for one process, until ctx ends: it keeps this
// process's heartbeat, starts scheduled alerts when due, expires alerts, and settles what
// crashed processes left behind. Every replica runs it; the store's conditional updates make
// each step happen once. When ctx ends, fan-out jobs of this process stop claiming work and
// hand their batches back.
func (s *Service) Run(ctx context.Context) error {
	defer s.stopOnce.Do(func() { close(s.stopping) })
	if err := s.fas.Heartbeat(ctx, s.o.SenderID); err != nil {
		return err
	}
	// The heartbeat has its own ticker: a slow sweep (a provider that does not answer, a busy
	// database) must not make this process look dead to the others.
	beating := make(chan struct{})
	go func() {
		defer close(beating)
		s.beat(ctx)
	}()
	defer func() { <-beating }()
	var lastSettle, lastPurge, lastStallCheck, lastAppIO time.Time
	stallCheckEvery := min(s.o.StallAfter/4, 5*time.Second)
	settleWait := s.o.SettleAfter / 2
	tick := time.NewTicker(s.o.SweepEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		s.sweepOnce(ctx)
		if time.Since(lastSettle) >= settleWait {
			lastSettle = time.Now()
			more, err := s.settleOrphans(ctx)
			switch {
			case err == nil && more:
				// A full pass, and the provider answers: the rest of a crash's orphans are
				// settled at the next tick rather than a pause later.
				settleWait = 0
			case err == nil:
				settleWait = s.o.SettleAfter / 2
			case ctx.Err() != nil:
			default:
				// One pass per sweep; while the provider or the database fails, the passes
				// space out (up to maxSettleBackoff) instead of asking again at once.
				settleWait = min(max(2*settleWait, time.Second), maxSettleBackoff)
				s.o.Logger.Warn("settling interrupted sends failed; retrying later", "retry_in", settleWait, "err", err)
			}
		}
		if s.o.AppIO != nil && time.Since(lastAppIO) >= s.pollAppIOEvery() {
			lastAppIO = time.Now()
			if err := s.PollAppIO(ctx); err != nil && ctx.Err() == nil {
				s.o.Logger.Warn("asking App IO about delivered messages failed; retrying later", "err", err)
			}
		}
		if time.Since(lastStallCheck) >= stallCheckEvery {
			lastStallCheck = time.Now()
			s.checkStalls(ctx)
		}
		if time.Since(lastPurge) >= time.Hour {
			lastPurge = time.Now()
			if err := s.fas.PurgeEarlyStatus(ctx, 24*time.Hour); err != nil {
				s.o.Logger.Warn("purging early status callbacks failed", "err", err)
			}
			if err := s.fas.RemoveSender(ctx, "", 24*time.Hour); err != nil {
				s.o.Logger.Warn("forgetting dead senders failed", "err", err)
			}
		}
	}
}

// checkStalls marks alerts that stopped progressing, and says so in the log once per change
// across the deployment.
func (s *Service) checkStalls(ctx context.Context) {
	changes, err := s.fas.CheckStalls(ctx, s.now().Add(-s.o.StallAfter), s.liveness())
	if err != nil {
		if ctx.Err() == nil {
			s.o.Logger.Warn("looking for stalled alerts failed", "err", err)
		}
		return
	}
	for _, c := range changes {
		if c.Stalled {
			s.o.Logger.Error("alert stalled: no progress", "alert", c.AlertID, "comune", c.Comune, "since", c.Since, "reason", c.Reason)
		} else {
			s.o.Logger.Info("alert progressing again", "alert", c.AlertID, "comune", c.Comune)
		}
		s.publishProgress(ctx, c.AlertID, c.Comune, true)
	}
	if s.o.Stalled != nil {
		if n, err := s.fas.CountStalled(ctx); err == nil {
			s.o.Stalled.Set(float64(n))
		}
	}
}

// maxSettleBackoff bounds how long settling waits after a failed pass.
const maxSettleBackoff = time.Minute

// beat keeps this process's heartbeat until ctx ends; a failure is logged once until a beat
// succeeds again.
func (s *Service) beat(ctx context.Context) {
	tick := time.NewTicker(s.o.HeartbeatEvery)
	defer tick.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		err := s.fas.Heartbeat(ctx, s.o.SenderID)
		switch {
		case err != nil && !failing && ctx.Err() == nil:
			failing = true
			s.o.Logger.Warn("alerts heartbeat failed", "err", err)
		case err == nil && failing:
			failing = false
			s.o.Logger.Info("alerts heartbeat recovered")
		}
	}
}

// sweepOnce starts due alerts, resumes preparations whose process died, and expires old alerts.
func (s *Service) sweepOnce(ctx context.Context) {
	due, err := s.fas.DueAlerts(ctx, 50)
	if err != nil {
		s.o.Logger.Warn("listing due alerts failed", "err", err)
	}
	for _, id := range due {
		started, err := s.fas.StartDueAlert(ctx, id, s.startOptions())
		if err != nil {
			s.o.Logger.Error("starting a scheduled alert failed", "alert", id, "err", err)
			continue
		}
		if started {
			s.o.Logger.Info("scheduled alert started", "alert", id)
			s.publishProgress(ctx, id, "", true)
		}
	}
	s.resumePreparations(ctx)
	expired, err := s.fas.ExpiredAlerts(ctx, 50)
	if err != nil {
		s.o.Logger.Warn("listing expired alerts failed", "err", err)
	}
	for _, id := range expired {
		a, err := s.fas.EndAlert(ctx, "", id, alertstore.AlertExpired)
		if err != nil {
			s.o.Logger.Error("expiring an alert failed", "alert", id, "err", err)
			continue
		}
		s.o.Logger.Info("alert expired; what was not sent is cancelled", "alert", id)
		s.publishProgress(ctx, id, a.Comune, true)
	}
}

// SettleOrphans resolves recipients a dead process left "sending" (or that a timeout left
// unanswered): the provider is asked whether it holds the message; if so the recipient is
// sent, if not it is queued again. Without a Lookup they are recorded failed, never resent
// blindly. Batches a dead process was working get a new job, and delivery callbacks held for
// a send it recorded, but did not apply before it stopped, are applied.
//
// It makes one pass over at most settleLimit orphans and stops at the first lookup the
// provider does not answer: the next pass (Run spaces them out) tries again. Looping here
// while the provider is down would ask it the same questions as fast as it refuses them.
// After a full pass that met no error, Run makes the next one at its next tick.
func (s *Service) SettleOrphans(ctx context.Context) error {
	_, err := s.settleOrphans(ctx)
	return err
}

// settleOrphans is SettleOrphans that also says whether its pass was full (more orphans may
// be waiting).
func (s *Service) settleOrphans(ctx context.Context) (more bool, err error) {
	stale := s.liveness()
	more, orphansErr := s.settlePass(ctx, stale)
	batches, err := s.fas.AbandonedBatches(ctx, stale, 100)
	if err != nil {
		return more, errors.Join(orphansErr, err)
	}
	for _, b := range batches {
		s.o.Logger.Info("taking over an alert batch whose worker stopped or made no progress", "alert", b.AlertID, "batch", b.Batch)
		if err := s.fas.ReopenAbandonedBatch(ctx, b.AlertID, b.Batch, stale, s.enqueueBatches); err != nil {
			return more, errors.Join(orphansErr, err)
		}
	}
	// A pending batch is normally waiting for its job (available, retryable, snoozed) or being
	// claimed by it within milliseconds; without a job for as long as a process takes to count
	// as dead, its job was lost. A second job would be harmless: claims are exclusive.
	strandedBefore := stale.StaleBefore
	stranded, err := s.fas.StrandedBatches(ctx, strandedBefore, 100)
	if err != nil {
		return more, errors.Join(orphansErr, err)
	}
	for _, b := range stranded {
		ok, err := s.fas.RequeueStrandedBatch(ctx, b.AlertID, b.Batch, strandedBefore, s.enqueueBatches)
		if err != nil {
			return more, errors.Join(orphansErr, err)
		}
		if ok {
			s.o.Logger.Info("an alert batch waited without a job: enqueued again", "alert", b.AlertID, "batch", b.Batch)
		}
	}
	applied, err := s.fas.ApplyHeldStatuses(ctx)
	if err != nil {
		return more, errors.Join(orphansErr, err)
	}
	if applied > 0 {
		s.o.Logger.Info("applied delivery callbacks held for sends already recorded", "count", applied)
	}
	return more, orphansErr
}

// settleLimit bounds one settling pass.
const settleLimit = 500

// settleLanes is how many interrupted sends one pass settles at once. Each asks the provider
// (a round trip) before its write, and a process killed mid-fan-out leaves every recipient its
// batches had claimed and not yet recorded: about 2,000 after a kill -9 of a fan-out of 20,000,
// which one at a time took 30-40 s to settle (integration's TestAlertsKillNineMidFanout).
const settleLanes = 8

// settlePass settles up to settleLimit orphans, settleLanes at a time, and says whether it
// found as many as that. A number's orphans share a lane and are settled in turn: two
// interrupted sends to one number (two alerts with the same text) must not both take the one
// message the provider has. The first lookup the provider does not answer ends the pass.
func (s *Service) settlePass(ctx context.Context, stale alertstore.Liveness) (full bool, err error) {
	orphans, err := s.fas.Orphans(ctx, stale, s.now().Add(-s.o.SettleAfter), settleLimit)
	if err != nil || len(orphans) == 0 {
		return false, err
	}
	full = len(orphans) == settleLimit
	alerts := map[string]alertstore.Alert{}
	for _, r := range orphans {
		if _, ok := alerts[r.AlertID]; ok {
			continue
		}
		a, err := s.fas.GetAlert(ctx, "", r.AlertID)
		if err != nil {
			return full, err
		}
		alerts[r.AlertID] = a
	}
	lanes := make([][]alertstore.Recipient, settleLanes)
	for _, r := range orphans {
		h := fnv.New32a()
		_, _ = h.Write([]byte(r.Phone)) // a hash.Hash's Write never fails
		i := h.Sum32() % settleLanes
		lanes[i] = append(lanes[i], r)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	for _, lane := range lanes {
		if len(lane) == 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, r := range lane {
				if ctx.Err() != nil {
					return
				}
				if err := s.settle(ctx, r, alerts[r.AlertID], stale); err != nil {
					cancel(err) // the first cause is kept: the others only follow it
					return
				}
			}
		}()
	}
	wg.Wait()
	return full, context.Cause(ctx)
}

func (s *Service) settle(ctx context.Context, r alertstore.Recipient, a alertstore.Alert, stale alertstore.Liveness) error {
	if r.FiscalCode != "" && s.o.AppIO != nil && a.UsesAppIO() {
		// It may have gone through App IO, which cannot be asked by content: never resent.
		s.o.Logger.Warn("an interrupted App IO send cannot be checked: recorded failed, not resent", "alert", r.AlertID, "seq", r.Seq)
		return s.fas.FailOrphan(ctx, r, "interrupted; App IO cannot be asked whether it got it, so it was not resent")
	}
	if s.o.Lookup == nil {
		s.o.Logger.Warn("an interrupted send cannot be checked with the provider: recorded failed, not resent", "alert", r.AlertID, "seq", r.Seq)
		return s.fas.FailOrphan(ctx, r, "interrupted; unknown whether the provider got it, so it was not resent")
	}
	sids, err := s.o.Lookup.FindSent(ctx, r.Phone, textFor(a, r.Lang), r.ClaimedAt)
	if err != nil {
		// The provider cannot answer now: the pass ends and a later one asks again; never guess.
		return fmt.Errorf("alerts: asking the provider about an interrupted send (alert %s, seq %d): %w", r.AlertID, r.Seq, err)
	}
	known, err := s.fas.KnownSIDs(ctx, r.Phone, sids)
	if err != nil {
		return err
	}
	sid := ""
	for _, c := range sids {
		if !known[c] {
			sid = c
			break
		}
	}
	if sid != "" {
		s.o.Logger.Info("an interrupted send had reached the provider", "alert", r.AlertID, "seq", r.Seq, "sid", sid)
	} else {
		s.o.Logger.Info("an interrupted send had not reached the provider: queued again", "alert", r.AlertID, "seq", r.Seq)
	}
	if err := s.fas.ResolveOrphan(ctx, r, sid, stale, s.enqueueBatches); err != nil {
		return err
	}
	s.publishProgress(ctx, r.AlertID, a.Comune, false)
	return nil
}
