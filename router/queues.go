package router

import (
	"slices"
	"time"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/config"
)

// Queues picks the queue a contact waits in. Build it with NewQueues; it is safe for concurrent
// use.
type Queues struct {
	queues   []config.Queue
	fallback int // the Default queue, else the last; -1 without queues
}

// NewQueues keeps the queues in their configured order.
func NewQueues(qs []config.Queue) *Queues {
	q := &Queues{queues: slices.Clone(qs), fallback: len(qs) - 1}
	for i, x := range qs {
		if x.Default {
			q.fallback = i
			break
		}
	}
	return q
}

// Match is the first queue whose non-empty lists of comuni, categories and channels all hold
// the contact's; else the Default queue; else the last one. An unknown comune or category ("")
// matches only queues that do not list any. With no queues at all it is the zero Queue.
func (q *Queues) Match(comune, category string, ch channels.Kind) config.Queue {
	for _, x := range q.queues {
		if listed(x.Comuni, comune) && listed(x.Categories, category) && listed(x.Channels, string(ch)) {
			return x
		}
	}
	if q.fallback < 0 {
		return config.Queue{}
	}
	return q.queues[q.fallback]
}

// ByID finds a queue by its id.
func (q *Queues) ByID(id string) (config.Queue, bool) {
	for _, x := range q.queues {
		if x.ID == id {
			return x, true
		}
	}
	return config.Queue{}, false
}

// All is every queue in configured order (a copy).
func (q *Queues) All() []config.Queue { return slices.Clone(q.queues) }

func listed(list []string, v string) bool {
	return len(list) == 0 || (v != "" && slices.Contains(list, v))
}

// SLADue is when a contact received at receivedAt must have been taken up by an operator
// under q's SLA; the zero time when q has none.
func SLADue(q config.Queue, receivedAt time.Time) time.Time {
	if q.SLAMinutes <= 0 || receivedAt.IsZero() {
		return time.Time{}
	}
	return receivedAt.Add(time.Duration(q.SLAMinutes) * time.Minute)
}
