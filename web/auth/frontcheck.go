package auth

import (
	"context"
	"sync"
	"time"
)

// maxSpentBuckets bounds the memory a flood of distinct usernames or addresses can take in
// the front check.
const maxSpentBuckets = 100_000

// spentBuckets remembers, per shared bucket, until when the database last said it is spent,
// so a flood of guesses over a spent limit is refused without touching the database. It only
// ever repeats the database's own refusal until the moment the database named: the shared
// count decides every guess it lets through. A unit given back on another replica within that
// moment (a guess voided there) is seen here once it passes, at most one unit's time later.
type spentBuckets struct {
	mu    sync.Mutex
	now   func() time.Time
	until map[string]time.Time
}

func newSpentBuckets(now func() time.Time) *spentBuckets {
	return &spentBuckets{now: now, until: map[string]time.Time{}}
}

// check returns how long until the first of buckets known to be spent takes a unit again.
func (s *spentBuckets) check(buckets []string) (wait time.Duration, spent bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for _, b := range buckets {
		until, ok := s.until[b]
		if !ok {
			continue
		}
		if !until.After(now) {
			delete(s.until, b)
			continue
		}
		return until.Sub(now), true
	}
	return 0, false
}

// remember notes that the database refused bucket, which takes a unit again after wait.
func (s *spentBuckets) remember(bucket string, wait time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if len(s.until) >= maxSpentBuckets {
		for b, until := range s.until {
			if !until.After(now) {
				delete(s.until, b)
			}
		}
		if len(s.until) >= maxSpentBuckets {
			// Forgetting costs a database round per bucket, never a guess: the database
			// still refuses them.
			clear(s.until)
		}
	}
	s.until[bucket] = now.Add(wait)
}

// forget drops what is known of bucket (it was filled again).
func (s *spentBuckets) forget(bucket string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.until, bucket)
}

// keyedLocks lets one holder per key at a time: one guess per client address goes to the
// database at once in this process, so a burst of them learns from the first refusal instead
// of all reaching the database before it comes back.
type keyedLocks struct {
	mu    sync.Mutex
	locks map[string]*keyLock
}

type keyLock struct {
	held    chan struct{} // a token while someone holds the key
	waiters int           // holders and waiters: the lock is dropped at zero
}

func newKeyedLocks() *keyedLocks { return &keyedLocks{locks: map[string]*keyLock{}} }

// lock waits for key, or for ctx to end; unlock releases it.
func (k *keyedLocks) lock(ctx context.Context, key string) (unlock func(), err error) {
	k.mu.Lock()
	l := k.locks[key]
	if l == nil {
		l = &keyLock{held: make(chan struct{}, 1)}
		k.locks[key] = l
	}
	l.waiters++
	k.mu.Unlock()
	select {
	case l.held <- struct{}{}:
		return func() {
			<-l.held
			k.release(key, l)
		}, nil
	case <-ctx.Done():
		k.release(key, l)
		return nil, ctx.Err()
	}
}

func (k *keyedLocks) release(key string, l *keyLock) {
	k.mu.Lock()
	defer k.mu.Unlock()
	l.waiters--
	if l.waiters == 0 {
		delete(k.locks, key)
	}
}
