package auth

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"time"
)

// ErrBusy is a password check refused because too many run or wait already: the caller
// answers 429 and the client tries again a moment later.
var ErrBusy = errors.New("auth: too many password checks at once")

// GateOptions bound the password checks of one process.
type GateOptions struct {
	// Concurrent is how many argon2id checks run at once. Each takes argonMemory (64 MiB), so
	// this is what bounds the memory a login flood can take, not the CPU count.
	Concurrent int
	// MaxWait is how long a check waits for a free slot before ErrBusy.
	MaxWait time.Duration
	// PerClient is how many checks one client address may have running or waiting at once;
	// the rest are refused at once, so one address cannot fill the queue before everyone else.
	PerClient int
}

// Defaults: two checks at once are 128 MiB of hashing, about 0.1 s each here; a client waiting
// up to 3 s behind a flood still gets in, and four per address leave room for an office of
// colleagues behind one NAT logging in at eight o'clock.
const (
	DefaultGateConcurrent = 2
	DefaultGateMaxWait    = 3 * time.Second
	DefaultGatePerClient  = 4
)

// PasswordGate runs password checks through a fixed number of slots. The slots are the only
// way to CheckPassword on a request path: memory stays at Concurrent hashes however many
// logins arrive, with known or unknown usernames alike.
type PasswordGate struct {
	slots     chan struct{}
	maxWait   time.Duration
	perClient int

	mu       sync.Mutex
	inFlight map[string]int
}

// NewPasswordGate makes a gate; zero options take the defaults.
func NewPasswordGate(o GateOptions) *PasswordGate {
	if o.Concurrent <= 0 {
		o.Concurrent = DefaultGateConcurrent
	}
	if o.MaxWait <= 0 {
		o.MaxWait = DefaultGateMaxWait
	}
	if o.PerClient <= 0 {
		o.PerClient = DefaultGatePerClient
	}
	return &PasswordGate{slots: make(chan struct{}, o.Concurrent), maxWait: o.MaxWait, perClient: o.PerClient,
		inFlight: map[string]int{}}
}

// Check compares password with encoded once a slot is free. It returns ErrBusy when client
// already has PerClient checks under way or no slot frees up within MaxWait.
func (g *PasswordGate) Check(ctx context.Context, client, encoded, password string) (bool, error) {
	if !g.enter(client) {
		return false, ErrBusy
	}
	defer g.leave(client)
	timer := time.NewTimer(g.maxWait)
	defer timer.Stop()
	select {
	case g.slots <- struct{}{}:
	case <-timer.C:
		return false, ErrBusy
	case <-ctx.Done():
		return false, ctx.Err()
	}
	defer func() { <-g.slots }()
	ok := CheckPassword(encoded, password)
	// The check's 64 MiB are garbage now. Left to the pacer, the heap may grow to twice what
	// was live at the last collection before it runs again: with two checks live that is
	// several hashes' worth more (a flood measured 410 MiB peak). Collecting here, before the
	// slot is free, lets the next check reuse these pages instead. The big blocks hold no
	// pointers, so this costs a few milliseconds per login.
	runtime.GC()
	return ok, nil
}

func (g *PasswordGate) enter(client string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.inFlight[client] >= g.perClient {
		return false
	}
	g.inFlight[client]++
	return true
}

func (g *PasswordGate) leave(client string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.inFlight[client]--; g.inFlight[client] <= 0 {
		delete(g.inFlight, client)
	}
}
