package store

import (
	"context"
	"slices"
	"testing"
)

// A batch locks citizens in id order, the order merges take theirs in; writes naming none come
// last (a new citizen's id comes after every older one's), and equals keep their arrival order.
func TestBatchRunsInCitizenOrder(t *testing.T) {
	write := func(citizen string) *writeReq {
		return &writeReq{ctx: withLockOrder(context.Background(), citizen)}
	}
	b1, none, a1, c, a2 := write("0190-b"), write(""), write("0190-a"), write("0190-c"), write("0190-a")
	batch := []*writeReq{b1, none, a1, c, a2}
	sortByLockOrder(batch)
	if want := []*writeReq{a1, a2, b1, c, none}; !slices.Equal(batch, want) {
		t.Errorf("batch order %v, want %v", orders(batch), orders(want))
	}
	if joinsInLockOrder(a1, "0190-b") || !joinsInLockOrder(c, "0190-b") || !joinsInLockOrder(none, "0190-b") {
		t.Error("a write arriving late joins a batch only at or past the citizen it locked last")
	}
}

func orders(batch []*writeReq) []string {
	out := make([]string, len(batch))
	for i, r := range batch {
		out[i] = r.lockOrder()
	}
	return out
}
