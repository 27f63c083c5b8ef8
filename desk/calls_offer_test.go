package desk_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

// offerConnector records the operators queued calls are offered to; while failures is above
// zero each offer fails, as Twilio refusing it (or with failWith's error).
type offerConnector struct {
	recordingConnector
	mu       sync.Mutex
	attempts []string // everyone an offer was tried to
	offers   []string // the offers the provider took
	names    []string // their names
	failures int
	failWith error
}

// errRefused is an offer Twilio answered no to: a definite failure.
var errRefused = errors.New("twilio: call update (HTTP 500): Internal Server Error")

func (c *offerConnector) Offer(_ context.Context, _, _, username, _, offer string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.attempts = append(c.attempts, username)
	if c.failures > 0 {
		c.failures--
		if c.failWith != nil {
			return c.failWith
		}
		return errRefused
	}
	c.offers = append(c.offers, username)
	c.names = append(c.names, offer)
	return nil
}

// lastName is the name of the latest offer the provider took.
func (c *offerConnector) lastName() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.names) == 0 {
		return ""
	}
	return c.names[len(c.names)-1]
}

func (c *offerConnector) failNext(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.failures = n
}

func (c *offerConnector) tried() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.attempts)
}

func (c *offerConnector) taken() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.offers)
}

func newCallFixture(t *testing.T, s *store.Store) (*fixture, *offerConnector) {
	f := newFixture(t, s)
	calls := &offerConnector{}
	f.d.SetCallConnector(calls)
	return f, calls
}

// callSid makes a Twilio-shaped CallSid: the desk dials only Twilio calls.
func callSid() string {
	seqMu.Lock()
	defer seqMu.Unlock()
	seq++
	return fmt.Sprintf("CA%032d", seq)
}

// availableOperator creates an operator who is available.
func (f *fixture) availableOperator(username string) store.User {
	f.t.Helper()
	u := f.user(username, store.RoleOperator)
	if err := f.d.SetPresence(context.Background(), u, "available"); err != nil {
		f.t.Fatal(err)
	}
	return u
}

// ringingCall is a call from the citizen's number still in the menu; the router may assign it.
func (f *fixture) ringingCall(sid, from string) string {
	f.t.Helper()
	r, err := f.in.Receive(context.Background(), channels.InboundMessage{Channel: channels.Phone, ExternalID: sid, From: from,
		To: "+390552768000", Call: &channels.Call{Status: "ringing"}, ReceivedAt: f.clock.Now()})
	if err != nil {
		f.t.Fatal(err)
	}
	return r.ContactID
}

// queueCall: the caller left the menu for the queue (the voice webhook's CallQueued).
func (f *fixture) queueCall(sid, contactID string) {
	f.t.Helper()
	ctx := context.Background()
	if _, err := f.in.UpdateCall(ctx, channels.Phone, sid, channels.CallEvent{Status: "queued"}); err != nil {
		f.t.Fatal(err)
	}
	f.d.CallQueued(ctx, contactID)
}

// answerCall: the operator picked up.
func (f *fixture) answerCall(sid, operator string) {
	f.t.Helper()
	now := f.clock.Now()
	if _, err := f.in.UpdateCall(context.Background(), channels.Phone, sid, channels.CallEvent{Status: "in-progress",
		AnsweredAt: &now, Operator: operator}); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) liveCall(contactID string) store.LiveCall {
	f.t.Helper()
	lc, err := f.s.LiveCallOf(context.Background(), contactID)
	if err != nil {
		f.t.Fatal(err)
	}
	return lc
}

// assertUnassignAudited fails unless the system took the contact back from operator for a
// reason that mentions why.
func (f *fixture) assertUnassignAudited(contactID, operator, why string) {
	f.t.Helper()
	log, _, err := f.s.AuditLog(context.Background(), store.AuditFilter{ContactID: contactID})
	if err != nil {
		f.t.Fatal(err)
	}
	for _, e := range log {
		if e.Action == store.AuditUnassign && e.Target == operator && strings.Contains(e.Detail, why) {
			return
		}
	}
	f.t.Fatalf("no audited unassign from %s mentioning %q: %+v", operator, why, log)
}

// An operator disabled while the caller is in the menu (the ringing call was assigned to them)
// is not dialled once the caller queues: the call goes to the next available operator.
func TestQueuedCallIsNotDialledToAnOperatorDisabledInTheMenu(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f, calls := newCallFixture(t, s)
		f.availableOperator("anna")
		f.availableOperator("bruno")
		sid := callSid()
		id := f.ringingCall(sid, "+393471234567")
		if lc := f.liveCall(id); lc.Assignee != "anna" {
			t.Fatalf("precondition: the ringing call is anna's, not %q", lc.Assignee)
		}
		if _, err := s.DisableUser(context.Background(), "anna"); err != nil {
			t.Fatal(err)
		}
		f.queueCall(sid, id)
		if got := calls.tried(); !slices.Equal(got, []string{"bruno"}) {
			t.Fatalf("the queued call was dialled to %v; want only bruno (anna is disabled)", got)
		}
		if lc := f.liveCall(id); lc.Assignee != "bruno" || lc.Status != "offered" {
			t.Fatalf("call %s, held by %q; want offered to bruno", lc.Status, lc.Assignee)
		}
	})
}

// The operator a ringing call was assigned to is checked again when the caller queues: one who
// went away, or is talking to another caller, is not dialled; the call is taken back (audited)
// and offered to the next operator.
func TestQueuedCallSkipsAnOperatorWhoIsNoLongerFree(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		t.Run("away", func(t *testing.T) {
			f, calls := newCallFixture(t, s)
			anna := f.availableOperator("anna")
			sid := callSid()
			id := f.ringingCall(sid, "+393471000001")
			if lc := f.liveCall(id); lc.Assignee != "anna" {
				t.Fatalf("precondition: the ringing call is anna's, not %q", lc.Assignee)
			}
			if err := f.d.SetPresence(ctx, anna, "away"); err != nil { // away keeps what she holds
				t.Fatal(err)
			}
			f.availableOperator("bruno")
			f.queueCall(sid, id)
			if got := calls.tried(); !slices.Equal(got, []string{"bruno"}) {
				t.Fatalf("offers %v; want only bruno (anna is away)", got)
			}
			if lc := f.liveCall(id); lc.Assignee != "bruno" {
				t.Fatalf("the call is held by %q; want bruno", lc.Assignee)
			}
			f.assertUnassignAudited(id, "anna", "anna is away")
		})
		t.Run("on another call", func(t *testing.T) {
			f, calls := newCallFixture(t, s)
			f.availableOperator("carla")
			sup := f.user("sup", store.RoleSupervisor)
			first := callSid()
			firstID := f.ringingCall(first, "+393471000002")
			f.queueCall(first, firstID)
			f.answerCall(first, "carla")
			second := callSid()
			secondID := f.ringingCall(second, "+393471000003")
			// A supervisor gives carla the second call while its caller is in the menu (a call in
			// the menu is not dialled, so the assignment is not refused).
			if err := f.d.Assign(ctx, sup, secondID, "carla"); err != nil {
				t.Fatal(err)
			}
			f.availableOperator("dario")
			f.queueCall(second, secondID)
			if got := calls.tried(); !slices.Equal(got, []string{"carla", "dario"}) {
				t.Fatalf("offers %v; want the first call to carla, the second to dario", got)
			}
			if lc := f.liveCall(secondID); lc.Assignee != "dario" || lc.Status != "offered" {
				t.Fatalf("second call %s, held by %q; want offered to dario", lc.Status, lc.Assignee)
			}
			f.assertUnassignAudited(secondID, "carla", "carla is on another call")
		})
	})
}

// A call whose operator was deleted while the caller was in the menu is not left "offered" to
// nobody: it waits in the queue, unassigned, and the next operator who becomes available gets it.
func TestCallOfOperatorDeletedInTheMenuWaitsForTheNext(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f, calls := newCallFixture(t, s)
		f.availableOperator("anna")
		sid := callSid()
		id := f.ringingCall(sid, "+393471234567")
		if err := s.DeleteUser(context.Background(), "anna"); err != nil {
			t.Fatal(err)
		}
		f.queueCall(sid, id)
		if lc := f.liveCall(id); lc.Status != "queued" || lc.Assignee != "" || len(calls.tried()) > 0 {
			t.Fatalf("call %s, held by %q, offers %v; want queued, nobody's, not dialled", lc.Status, lc.Assignee, calls.tried())
		}
		f.availableOperator("bruno")
		if lc := f.liveCall(id); lc.Status != "offered" || lc.Assignee != "bruno" || !slices.Equal(calls.taken(), []string{"bruno"}) {
			t.Fatalf("call %s, held by %q, offers %v; want offered to bruno", lc.Status, lc.Assignee, calls.taken())
		}
	})
}

// An offer the provider refuses sends the queued call to the next operator rather than leaving
// it assigned to someone whose phone never rang.
func TestFailedOfferGoesToTheNextOperator(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f, calls := newCallFixture(t, s)
		f.availableOperator("anna")
		f.availableOperator("bruno")
		sid := callSid()
		id := f.ringingCall(sid, "+393471234567")
		calls.failNext(1)
		f.queueCall(sid, id)
		if got := calls.tried(); !slices.Equal(got, []string{"anna", "bruno"}) {
			t.Fatalf("offers tried %v; want anna (failed), then bruno", got)
		}
		if lc := f.liveCall(id); lc.Status != "offered" || lc.Assignee != "bruno" {
			t.Fatalf("call %s, held by %q; want offered to bruno", lc.Status, lc.Assignee)
		}
		f.assertUnassignAudited(id, "anna", "could not be offered")
	})
}

// While the provider keeps refusing offers, a queued call is tried on a few operators in a row
// (maxOfferAttempts, 3), not on every one at once; it waits in the queue, unassigned, and the
// periodic drain offers it again once the provider answers.
func TestOffersThatKeepFailingStopAndWaitForTheDrain(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f, calls := newCallFixture(t, s)
		for _, name := range []string{"anna", "bruno", "carla", "dario", "elena"} {
			f.availableOperator(name)
		}
		sid := callSid()
		id := f.ringingCall(sid, "+393471234567")
		calls.failNext(1000)
		f.queueCall(sid, id)
		if got := calls.tried(); len(got) != 3 {
			t.Fatalf("offers tried %v; want 3 operators in a row", got)
		}
		if lc := f.liveCall(id); lc.Status != "queued" || lc.Assignee != "" {
			t.Fatalf("call %s, held by %q; want queued and nobody's", lc.Status, lc.Assignee)
		}
		calls.failNext(0)
		if _, err := f.d.Drain(context.Background(), ""); err != nil {
			t.Fatal(err)
		}
		if lc := f.liveCall(id); lc.Status != "offered" || lc.Assignee == "" || len(calls.taken()) != 1 {
			t.Fatalf("after the drain: call %s, held by %q, offers %v; want offered once", lc.Status, lc.Assignee, calls.taken())
		}
	})
}

// heldCall is a call from the citizen's number that op answered and put on hold.
func (f *fixture) heldCall(op store.User, from string) string {
	f.t.Helper()
	sid := callSid()
	id := f.ringingCall(sid, from)
	f.queueCall(sid, id)
	f.answerCall(sid, op.Username)
	if err := f.d.Hold(context.Background(), op, id, true); err != nil {
		f.t.Fatal(err)
	}
	return id
}

// Resuming a held call when the provider fails: the operator is told (502 provider_error), the
// call stays on hold and theirs, and resuming again offers it.
func TestResumeFailureKeepsTheCallOnHoldForARetry(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f, calls := newCallFixture(t, s)
		anna := f.availableOperator("anna")
		id := f.heldCall(anna, "+393471234567")
		calls.failNext(1)
		if st, code := deskCode(t, f.d.Hold(ctx, anna, id, false)); st != 502 || code != "provider_error" {
			t.Fatalf("a resume the provider refused answered %d %s; want 502 provider_error", st, code)
		}
		if lc := f.liveCall(id); lc.Status != "on-hold" || lc.Assignee != "anna" {
			t.Fatalf("after the failed resume: call %s, held by %q; want on-hold, anna's", lc.Status, lc.Assignee)
		}
		if err := f.d.Hold(ctx, anna, id, false); err != nil {
			t.Fatalf("resuming again: %v", err)
		}
		if lc := f.liveCall(id); lc.Status != "offered" || !slices.Equal(calls.taken(), []string{"anna", "anna"}) {
			t.Fatalf("after the retry: call %s, offers %v; want offered to anna again", lc.Status, calls.taken())
		}
	})
}

// Resuming a held call whose request to the provider got no answer (timed out, or the
// connection broke after sending): Twilio may be ringing the operator, so the resume stands,
// offered to them, and is not put back on hold (a second resume would ring them twice).
func TestResumeWithAnUnknownOutcomeStandsOffered(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f, calls := newCallFixture(t, s)
		anna := f.availableOperator("anna")
		id := f.heldCall(anna, "+393471234568")
		calls.failWith = fmt.Errorf("twilio: %w: %w", channels.ErrOutcomeUnknown, context.DeadlineExceeded)
		calls.failNext(1)
		if err := f.d.Hold(ctx, anna, id, false); err != nil {
			t.Fatalf("a resume with an unknown outcome answered %v; want it to stand", err)
		}
		if lc := f.liveCall(id); lc.Status != "offered" || lc.Assignee != "anna" {
			t.Fatalf("after the resume: call %s, held by %q; want offered to anna", lc.Status, lc.Assignee)
		}
		if tried := calls.tried(); !slices.Equal(tried, []string{"anna", "anna"}) {
			t.Fatalf("offers tried %v; want anna's first answer and her resume, nobody else", tried)
		}
	})
}

// A supervisor (or an operator claiming) may give a queued call only to an operator who can
// answer it now: available and on no other call (409 otherwise, nothing dialled). Other
// contacts are assigned as before, whatever the operator's presence.
func TestAssigningAQueuedCallNeedsAFreeOperator(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f, calls := newCallFixture(t, s)
		sup := f.user("sup", store.RoleSupervisor)
		f.user("bruno", store.RoleOperator) // never signed in: offline
		anna := f.availableOperator("anna")
		first := callSid()
		firstID := f.ringingCall(first, "+393471000002")
		f.queueCall(first, firstID)
		f.answerCall(first, "anna")
		// carla's skills do not cover the call, so the router leaves it to the supervisor.
		carla, err := s.CreateUser(ctx, store.User{Username: "carla", Role: store.RoleOperator, PasswordHash: "x",
			Categories: []string{"tributi"}})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.d.SetPresence(ctx, carla, "available"); err != nil {
			t.Fatal(err)
		}
		second := callSid()
		secondID := f.ringingCall(second, "+393471000003")
		f.queueCall(second, secondID)
		if lc := f.liveCall(secondID); lc.Status != "queued" || lc.Assignee != "" {
			t.Fatalf("precondition: the second call waits unassigned, not %s held by %q", lc.Status, lc.Assignee)
		}
		refused := map[string]error{
			"offline bruno":     f.d.Assign(ctx, sup, secondID, "bruno"),
			"anna on a call":    f.d.Assign(ctx, sup, secondID, "anna"),
			"anna claiming too": f.d.Claim(ctx, anna, secondID),
		}
		for who, err := range refused {
			if st, code := deskCode(t, err); st != 409 || code != "conflict" {
				t.Fatalf("assigning the queued call to %s: %d %s; want 409 conflict", who, st, code)
			}
		}
		if got := calls.tried(); !slices.Equal(got, []string{"anna"}) {
			t.Fatalf("offers %v; want only anna's first call", got)
		}
		if err := f.d.Assign(ctx, sup, secondID, "carla"); err != nil {
			t.Fatal(err)
		}
		if lc := f.liveCall(secondID); lc.Status != "offered" || lc.Assignee != "carla" {
			t.Fatalf("call %s, held by %q; want offered to carla", lc.Status, lc.Assignee)
		}
		sms := f.text("+393479999999", "+390552768000", "multa")
		if err := f.d.Assign(ctx, sup, sms.ContactID, "bruno"); err != nil {
			t.Fatalf("an SMS to offline bruno: %v; want assigned as before", err)
		}
	})
}
