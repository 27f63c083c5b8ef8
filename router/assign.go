package router

import (
	"cmp"
	"slices"
	"time"
)

// Operator presence values, as operators set them in the inbox.
const (
	PresenceAvailable = "available"
	PresenceAway      = "away"
	PresenceOffline   = "offline"
)

// Operator is what the assignment decision knows of an operator.
type Operator struct {
	ID       string
	Username string
	// Presence: only PresenceAvailable operators get contacts.
	Presence string
	// Capacity is how many open contacts the operator handles at once; Open how many they have.
	Capacity, Open int
	// Comuni and Categories are the operator's skills; empty means any.
	Comuni, Categories []string
	// LastAssignedAt is when the operator last got a contact; zero if never.
	LastAssignedAt time.Time
	// OnCall: the operator has a call that has not ended. One person talks to one caller,
	// whatever their capacity for written contacts.
	OnCall bool
	// TakesUndecided: an operator limited to comuni, one of which the shared numbers serve,
	// also takes contacts whose comune is still to be decided (and sees them in the inbox).
	TakesUndecided bool
}

// Waiting is a contact waiting for an operator.
type Waiting struct {
	ContactID string
	Comune    string
	Category  string
	Queue     string
	// Priority: higher is served first (the queue's priority, raised by Escalation when overdue).
	Priority   int
	ReceivedAt time.Time
	// Voice: the contact is a call, which an operator already on a call cannot take.
	Voice bool
}

// Assignment gives one waiting contact to one operator.
type Assignment struct {
	ContactID  string
	Queue      string
	OperatorID string
	Username   string
}

// CanTake reports whether o may get c now: available, below capacity, and skilled for the
// contact's comune and category. A contact whose comune is unknown goes to an operator without
// a limit to comuni, or to one who TakesUndecided (a shared number's call, before anyone decided
// its comune); an operator limited to other comuni does not get it. A call never goes to an
// operator already on one.
func (o *Operator) CanTake(c *Waiting) bool {
	if c.Voice && o.OnCall {
		return false
	}
	comune := skilled(o.Comuni, c.Comune) || (c.Comune == "" && o.TakesUndecided)
	return o.Presence == PresenceAvailable && o.Open < o.Capacity && comune && skilled(o.Categories, c.Category)
}

func skilled(skills []string, v string) bool {
	return len(skills) == 0 || (v != "" && slices.Contains(skills, v))
}

// Pick chooses who gets c: among the operators who can take it, the one who has waited longest
// since their last assignment (never assigned counts as longest), ties by username. False when
// nobody can take it now.
func Pick(ops []Operator, c Waiting) (Operator, bool) {
	i := pick(ops, &c)
	if i < 0 {
		return Operator{}, false
	}
	return ops[i], true
}

func pick(ops []Operator, c *Waiting) int {
	best := -1
	for i := range ops {
		o := &ops[i]
		if !o.CanTake(c) {
			continue
		}
		if best < 0 || waitedLonger(o, &ops[best]) {
			best = i
		}
	}
	return best
}

func waitedLonger(a, b *Operator) bool {
	if !a.LastAssignedAt.Equal(b.LastAssignedAt) {
		return a.LastAssignedAt.Before(b.LastAssignedAt)
	}
	if a.Username != b.Username {
		return a.Username < b.Username
	}
	return a.ID < b.ID
}

// Drain is DrainAt at the current time.
func Drain(ops []Operator, waiting []Waiting) []Assignment {
	return DrainAt(ops, waiting, time.Now())
}

// DrainAt hands out as much of the backlog as the operators' capacity allows, as when an
// operator becomes available: the highest priority first, then the longest waiting, each to
// the operator Pick would choose. It updates ops in place as it goes (Open, and LastAssignedAt
// to now, a microsecond later for each further assignment so the round-robin order survives
// storing times in microseconds); waiting is left as it is. It is greedy in that order: a
// contact is never passed over for a later one to fit more assignments in.
func DrainAt(ops []Operator, waiting []Waiting, now time.Time) []Assignment {
	free := 0
	stamp := now
	for i := range ops {
		if ops[i].Presence == PresenceAvailable && ops[i].Open < ops[i].Capacity {
			free += ops[i].Capacity - ops[i].Open
		}
		if ops[i].LastAssignedAt.After(stamp) {
			stamp = ops[i].LastAssignedAt.Add(time.Microsecond)
		}
	}
	if free == 0 || len(waiting) == 0 {
		return nil
	}
	order := make([]int, len(waiting))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		wa, wb := &waiting[a], &waiting[b]
		if c := cmp.Compare(wb.Priority, wa.Priority); c != 0 {
			return c
		}
		if c := wa.ReceivedAt.Compare(wb.ReceivedAt); c != 0 {
			return c
		}
		return cmp.Compare(wa.ContactID, wb.ContactID)
	})
	var out []Assignment
	for _, wi := range order {
		w := &waiting[wi]
		oi := pick(ops, w)
		if oi < 0 {
			continue
		}
		o := &ops[oi]
		o.Open++
		o.OnCall = o.OnCall || w.Voice
		o.LastAssignedAt = stamp
		stamp = stamp.Add(time.Microsecond)
		out = append(out, Assignment{ContactID: w.ContactID, Queue: w.Queue, OperatorID: o.ID, Username: o.Username})
		if free--; free == 0 {
			break
		}
	}
	return out
}
