package auth

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/sportello/sportello/clientaddr"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/alertstore"
)

// AttemptLimits bound the guesses at passwords, in the login and wherever a user's current
// password is asked again; zero fields take the defaults.
type AttemptLimits struct {
	// PerAddressUser guesses at one username from one client address per Window.
	PerAddressUser int
	// PerAddress guesses from one client address per Window, whatever usernames it tries, so
	// a flood of usernames stops too.
	PerAddress int
	// PerUser guesses at one username from anywhere per UserWindow, counted in the database so
	// that every replica shares it: many addresses together do not get more.
	PerUser    int
	UserWindow time.Duration
	Window     time.Duration
	// Now is the clock of the per-address counts (tests); the per-user count uses the store's.
	Now func() time.Time
}

// Defaults: five guesses per address and user as the login always allowed; thirty per address
// leave room for an office behind one NAT. A hundred an hour per user (NIST SP 800-63B's bound
// on an account's failed attempts) stop a botnet's spread guesses, yet locking an operator out
// of a citizen line takes a hundred guesses, not ten: a limit per user is also a way to deny
// that user service.
const (
	DefaultAttemptsPerAddressUser = 5
	DefaultAttemptsPerAddress     = 30
	DefaultAttemptsPerUser        = 100
	DefaultAttemptWindow          = 5 * time.Minute
	DefaultUserAttemptWindow      = time.Hour
)

// TooManyAttemptsError is a guess refused before any password check because a limit is spent.
type TooManyAttemptsError struct {
	// RetryAfter is when the spent limit takes one more guess.
	RetryAfter time.Duration
}

func (e *TooManyAttemptsError) Error() string {
	return "auth: too many password attempts; retry in " + e.RetryAfter.Round(time.Second).String()
}

// PasswordAttempts counts guesses at passwords. A guess is counted before its check (Reserve)
// and given back when it turns out right or never ran, so requests sent together cannot all
// pass a limit one short of spent. Client addresses count by clientaddr.LimitKey (an IPv6
// client by its /64).
//
// The per-address counts live in this process; the per-user count lives in the database
// (a rate_limits bucket), shared by every replica.
type PasswordAttempts struct {
	perAddressUser *slidingWindow
	perAddress     *slidingWindow
	buckets        *alertstore.Store
	perUser        alertstore.Rate
}

// NewPasswordAttempts makes the counts; the per-user one is kept in s.
func NewPasswordAttempts(s *store.Store, l AttemptLimits) *PasswordAttempts {
	l = l.withDefaults()
	return &PasswordAttempts{
		perAddressUser: newSlidingWindow(l.PerAddressUser, l.Window, l.Now),
		perAddress:     newSlidingWindow(l.PerAddress, l.Window, l.Now),
		buckets:        alertstore.New(s),
		perUser:        alertstore.Rate{Limit: l.PerUser, Per: l.UserWindow},
	}
}

func (l AttemptLimits) withDefaults() AttemptLimits {
	if l.PerAddressUser <= 0 {
		l.PerAddressUser = DefaultAttemptsPerAddressUser
	}
	if l.PerAddress <= 0 {
		l.PerAddress = DefaultAttemptsPerAddress
	}
	if l.PerUser <= 0 {
		l.PerUser = DefaultAttemptsPerUser
	}
	if l.Window <= 0 {
		l.Window = DefaultAttemptWindow
	}
	if l.UserWindow <= 0 {
		l.UserWindow = DefaultUserAttemptWindow
	}
	if l.Now == nil {
		l.Now = time.Now
	}
	return l
}

// Attempt is one reserved guess. A wrong password needs nothing more: the guess stays counted.
type Attempt struct {
	from          *PasswordAttempts
	addressUser   string
	address       string
	userBucket    string // "" when no username was given: nothing to count across replicas
	addressUserAt time.Time
	addressAt     time.Time
}

// Reserve counts a guess at username's password from client (an IP address) before the check.
// It returns a *TooManyAttemptsError, counting nothing, when a limit is already spent.
func (a *PasswordAttempts) Reserve(ctx context.Context, client, username string) (*Attempt, error) {
	address := clientaddr.LimitKey(client)
	username = strings.ToLower(username)
	t := &Attempt{from: a, addressUser: address + "|" + username, address: address}
	var wait time.Duration
	var ok bool
	if t.addressUserAt, wait, ok = a.perAddressUser.take(t.addressUser); !ok {
		return nil, &TooManyAttemptsError{RetryAfter: wait}
	}
	if t.addressAt, wait, ok = a.perAddress.take(address); !ok {
		a.perAddressUser.giveBack(t.addressUser, t.addressUserAt)
		return nil, &TooManyAttemptsError{RetryAfter: wait}
	}
	if username == "" {
		return t, nil
	}
	bucket := userBucket(username)
	if err := a.buckets.TakeRate(ctx, bucket, 1, a.perUser); err != nil {
		a.perAddressUser.giveBack(t.addressUser, t.addressUserAt)
		a.perAddress.giveBack(address, t.addressAt)
		var spent *alertstore.RateLimitedError
		if errors.As(err, &spent) {
			return nil, &TooManyAttemptsError{RetryAfter: spent.RetryAfter}
		}
		return nil, err
	}
	t.userBucket = bucket
	return t, nil
}

// userBucket names a username's shared count: hashed, so whatever an attacker types as a
// username takes a fixed, small row.
func userBucket(lowerUsername string) string {
	return "password:user:" + store.HashToken(lowerUsername)
}

// Succeeded is a right password: the address's failures at this user are forgiven and the
// guess is given back to the other counts (another address's failures still stand).
func (t *Attempt) Succeeded(ctx context.Context) error {
	t.from.perAddressUser.forget(t.addressUser)
	t.from.perAddress.giveBack(t.address, t.addressAt)
	return t.giveBackShared(ctx)
}

// Void gives the guess back to every count: no password was judged (the gate was busy, or
// something failed before the check).
func (t *Attempt) Void(ctx context.Context) error {
	t.from.perAddressUser.giveBack(t.addressUser, t.addressUserAt)
	t.from.perAddress.giveBack(t.address, t.addressAt)
	return t.giveBackShared(ctx)
}

func (t *Attempt) giveBackShared(ctx context.Context) error {
	if t.userBucket == "" {
		return nil
	}
	bucket := t.userBucket
	t.userBucket = "" // twice would give back a guess someone else made
	return t.from.buckets.ReturnRate(ctx, bucket, 1, t.from.perUser)
}

// slidingWindow counts hits per key in the last window, at most max.
type slidingWindow struct {
	mu     sync.Mutex
	max    int
	window time.Duration
	now    func() time.Time
	hits   map[string][]time.Time
}

// maxWindowKeys bounds the memory a flood of distinct usernames or addresses can take.
const maxWindowKeys = 100_000

func newSlidingWindow(max int, window time.Duration, now func() time.Time) *slidingWindow {
	return &slidingWindow{max: max, window: window, now: now, hits: map[string][]time.Time{}}
}

// take counts one hit for key and returns its time, or, when key already has max hits in the
// window, counts nothing and says how long until the oldest leaves it. Checking and counting
// under one lock is what keeps parallel requests from all passing.
func (w *slidingWindow) take(key string) (at time.Time, wait time.Duration, ok bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	recent := w.recent(key)
	if len(recent) >= w.max {
		return time.Time{}, recent[0].Add(w.window).Sub(w.now()), false
	}
	if len(w.hits) >= maxWindowKeys {
		w.sweep()
	}
	at = w.now()
	w.hits[key] = append(recent, at)
	return at, 0, true
}

// giveBack removes the hit take counted at at (nothing if it has left the window already).
func (w *slidingWindow) giveBack(key string, at time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	list := w.hits[key]
	for i := len(list) - 1; i >= 0; i-- {
		if list[i].Equal(at) {
			list = append(list[:i:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(w.hits, key)
		return
	}
	w.hits[key] = list
}

// forget drops every hit of key.
func (w *slidingWindow) forget(key string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.hits, key)
}

// recent drops key's hits older than the window. Callers hold mu.
func (w *slidingWindow) recent(key string) []time.Time {
	cut := w.now().Add(-w.window)
	list := w.hits[key]
	i := 0
	for i < len(list) && !list[i].After(cut) {
		i++
	}
	list = list[i:]
	if len(list) == 0 {
		delete(w.hits, key)
		return nil
	}
	w.hits[key] = list
	return list
}

// sweep forgets every expired key; if the map is still full, it forgets everything rather than
// grow without bound (a flood resets its own counts, but cannot exhaust memory). Callers hold mu.
func (w *slidingWindow) sweep() {
	for k := range w.hits {
		w.recent(k)
	}
	if len(w.hits) >= maxWindowKeys {
		clear(w.hits)
	}
}
