package auth

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/sportello/sportello/clientaddr"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/alertstore"
)

// AttemptLimits bound the guesses at passwords, in the login and wherever a user's current
// password is asked again; zero fields take the defaults. Every limit is a bucket shared
// through the database (alertstore's rate_limits), so it means the same behind one replica or
// ten and outlives a restart: a full bucket takes its limit at once, then one more guess each
// window divided by the limit.
type AttemptLimits struct {
	// PerAddressUser guesses at one username from one client address per Window.
	PerAddressUser int
	// PerAddress guesses from one client address per Window, whatever usernames it tries, so
	// a flood of usernames stops too.
	PerAddress int
	// PerUser guesses at one username from anywhere per UserWindow: many addresses together
	// do not get more.
	PerUser    int
	UserWindow time.Duration
	Window     time.Duration
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
// The counts live in the database, shared by every replica; buckets are named by hashes, so
// rate_limits (kept out of erasure and export) holds no address and no username. In front of
// them, each process remembers which buckets the database called spent, and lets one guess per
// address at a time reach the database: a flood over a spent limit is refused without a write.
type PasswordAttempts struct {
	s              *store.Store
	perAddressUser alertstore.Rate
	perAddress     alertstore.Rate
	perUser        alertstore.Rate
	spent          *spentBuckets
	oneAtATime     *keyedLocks
}

// NewPasswordAttempts makes the counts, kept in s.
func NewPasswordAttempts(s *store.Store, l AttemptLimits) *PasswordAttempts {
	l = l.withDefaults()
	return &PasswordAttempts{
		s:              s,
		perAddressUser: alertstore.Rate{Limit: l.PerAddressUser, Per: l.Window},
		perAddress:     alertstore.Rate{Limit: l.PerAddress, Per: l.Window},
		perUser:        alertstore.Rate{Limit: l.PerUser, Per: l.UserWindow},
		spent:          newSpentBuckets(s.Now),
		oneAtATime:     newKeyedLocks(),
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
	return l
}

// count is one bucket a guess takes a unit of.
type count struct {
	bucket string
	rate   alertstore.Rate
}

// Attempt is one reserved guess. A wrong password needs nothing more: the guess stays counted.
type Attempt struct {
	from *PasswordAttempts
	// counts are the guess's buckets: the address and username's first (a right password
	// forgives it), the address's, and the username's when one was given.
	counts  []count
	settled bool // given back already: twice would give back a guess someone else made
}

// Reserve counts a guess at username's password from client (an IP address) before the check.
// It returns a *TooManyAttemptsError, counting nothing, when a limit is already spent.
func (a *PasswordAttempts) Reserve(ctx context.Context, client, username string) (*Attempt, error) {
	address := clientaddr.LimitKey(client)
	username = strings.ToLower(username)
	t := &Attempt{from: a, counts: []count{
		{addressUserBucket(address, username), a.perAddressUser},
		{addressBucket(address), a.perAddress},
	}}
	if username != "" {
		t.counts = append(t.counts, count{userBucket(username), a.perUser})
	}
	buckets := make([]string, len(t.counts))
	for i, c := range t.counts {
		buckets[i] = c.bucket
	}
	if wait, spent := a.spent.check(buckets); spent {
		return nil, &TooManyAttemptsError{RetryAfter: wait}
	}
	unlock, err := a.oneAtATime.lock(ctx, t.counts[1].bucket)
	if err != nil {
		return nil, err
	}
	defer unlock()
	// The guess ahead of this one may have just heard that the address is spent.
	if wait, spent := a.spent.check(buckets); spent {
		return nil, &TooManyAttemptsError{RetryAfter: wait}
	}
	refusedBucket, refused, err := a.take(ctx, t.counts)
	if err != nil {
		return nil, err
	}
	if refused != nil {
		a.spent.remember(refusedBucket, refused.RetryAfter)
		return nil, &TooManyAttemptsError{RetryAfter: refused.RetryAfter}
	}
	return t, nil
}

// take takes a unit of every count in one transaction, or of none: the first spent bucket and
// the database's refusal come back instead. A refusal gives back in the same transaction what
// was taken before it, rather than failing the write, which would roll back and rerun the
// group commit it shares with others' writes.
func (a *PasswordAttempts) take(ctx context.Context, counts []count) (string, *alertstore.RateLimitedError, error) {
	var refusedBucket string
	var refused *alertstore.RateLimitedError
	err := a.s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		refusedBucket, refused = "", nil // a group commit may run this again
		for i, c := range counts {
			err := alertstore.TakeRateTx(ctx, tx, c.bucket, 1, c.rate)
			if errors.As(err, &refused) {
				refusedBucket = c.bucket
				for _, taken := range counts[:i] {
					if err := alertstore.ReturnRateTx(ctx, tx, taken.bucket, 1, taken.rate); err != nil {
						return err
					}
				}
				return nil
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	return refusedBucket, refused, err
}

// Buckets are named by hashes: whatever an attacker types as a username takes a fixed, small
// row, and no address or username is kept in rate_limits, which erasure and export pass by.
func addressUserBucket(address, lowerUsername string) string {
	return "password:address-user:" + store.HashToken(address+"|"+lowerUsername)
}

func addressBucket(address string) string {
	return "password:address:" + store.HashToken(address)
}

func userBucket(lowerUsername string) string {
	return "password:user:" + store.HashToken(lowerUsername)
}

// Succeeded is a right password: the address's failures at this user are forgiven and the
// guess is given back to the other counts (another address's failures still stand).
func (t *Attempt) Succeeded(ctx context.Context) error {
	return t.giveBack(ctx, true)
}

// Void gives the guess back to every count: no password was judged (the gate was busy, or
// something failed before the check).
func (t *Attempt) Void(ctx context.Context) error {
	return t.giveBack(ctx, false)
}

func (t *Attempt) giveBack(ctx context.Context, forgive bool) error {
	if t.settled {
		return nil
	}
	t.settled = true
	if forgive {
		t.from.spent.forget(t.counts[0].bucket)
	}
	return t.from.s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		for i, c := range t.counts {
			var err error
			if i == 0 && forgive {
				err = alertstore.ResetRateTx(ctx, tx, c.bucket)
			} else {
				err = alertstore.ReturnRateTx(ctx, tx, c.bucket, 1, c.rate)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}
