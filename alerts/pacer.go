package alerts

import (
	"context"
	"time"
)

// pacerKey names the deployment-wide SMS schedule in the store.
const pacerKey = "sms"

// interval is the time between two sends at the configured rate.
func (s *Service) interval() time.Duration {
	rate := s.o.Config.Twilio.MaxMessagesPerSecond
	if rate <= 0 {
		rate = 50
	}
	return time.Second / time.Duration(rate)
}

// chunkSize is how many recipients one reservation and claim covers: about a tenth of a
// second of sending, so a reservation never holds the schedule long and a crash strands few.
func (s *Service) chunkSize() int {
	rate := s.o.Config.Twilio.MaxMessagesPerSecond
	n := rate / 10
	if n < 1 {
		n = 1
	}
	if n > 200 {
		n = 200
	}
	if b := s.o.Config.Alerts.BatchSize; n > b {
		n = b
	}
	return n
}

// reserve takes n send slots of the deployment-wide schedule, waiting while the schedule is
// booked beyond the horizon, and returns when the first slot starts and the spacing.
func (s *Service) reserve(ctx context.Context, n int) (time.Time, time.Duration, error) {
	return s.reserveRenewing(ctx, n, func(context.Context) error { return nil })
}

// reserveRenewing is reserve for a batch's worker: waiting for the schedule is progress of
// the alert, so renew keeps the batch's lease meanwhile.
func (s *Service) reserveRenewing(ctx context.Context, n int, renew func(context.Context) error) (time.Time, time.Duration, error) {
	iv := s.interval()
	for {
		start, wait, err := s.fas.ReserveSendSlots(ctx, pacerKey, n, iv, s.o.PaceHorizon)
		if err != nil {
			return time.Time{}, 0, err
		}
		if wait == 0 {
			return start, iv, nil
		}
		if err := renew(ctx); err != nil {
			return time.Time{}, 0, err
		}
		if err := sleep(ctx, wait); err != nil {
			return time.Time{}, 0, err
		}
	}
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
