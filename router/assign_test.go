package router

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

func op(username string, capacity, open int, lastMinutes int) Operator {
	o := Operator{ID: "id-" + username, Username: username, Presence: PresenceAvailable, Capacity: capacity, Open: open}
	if lastMinutes >= 0 {
		o.LastAssignedAt = t0.Add(time.Duration(lastMinutes) * time.Minute)
	}
	return o
}

func TestPickSkillsCapacityPresence(t *testing.T) {
	contact := Waiting{ContactID: "c1", Comune: "firenze", Category: "contravvenzioni"}
	for _, tc := range []struct {
		name string
		op   func(*Operator)
		want bool
	}{
		{"free and skilled for anything", func(o *Operator) {}, true},
		{"away", func(o *Operator) { o.Presence = PresenceAway }, false},
		{"offline", func(o *Operator) { o.Presence = PresenceOffline }, false},
		{"unknown presence", func(o *Operator) { o.Presence = "" }, false},
		{"full", func(o *Operator) { o.Open = 3 }, false},
		{"over capacity", func(o *Operator) { o.Open = 5 }, false},
		{"no capacity", func(o *Operator) { o.Capacity, o.Open = 0, 0 }, false},
		{"the comune", func(o *Operator) { o.Comuni = []string{"empoli", "firenze"} }, true},
		{"another comune", func(o *Operator) { o.Comuni = []string{"empoli"} }, false},
		{"the category", func(o *Operator) { o.Categories = []string{"contravvenzioni"} }, true},
		{"another category", func(o *Operator) { o.Categories = []string{"permessi-ztl"} }, false},
		{"both skills", func(o *Operator) { o.Comuni, o.Categories = []string{"firenze"}, []string{"contravvenzioni"} }, true},
		{"one skill of two", func(o *Operator) { o.Comuni, o.Categories = []string{"firenze"}, []string{"altro"} }, false},
	} {
		o := op("anna", 3, 2, 5)
		tc.op(&o)
		got, ok := Pick([]Operator{o}, contact)
		if ok != tc.want || (ok && got.Username != "anna") {
			t.Errorf("%s: Pick = %q, %v; want %v", tc.name, got.Username, ok, tc.want)
		}
	}

	limited := op("bruno", 3, 0, -1)
	limited.Comuni = []string{"firenze"}
	if _, ok := Pick([]Operator{limited}, Waiting{Category: "altro"}); ok {
		t.Error("an operator limited to a comune got a contact of unknown comune")
	}
	if got, ok := Pick([]Operator{limited, op("carla", 1, 0, 100)}, Waiting{Category: "altro"}); !ok || got.Username != "carla" {
		t.Errorf("unknown comune: %q, %v; want the unlimited operator", got.Username, ok)
	}
	// An operator of a comune the shared numbers serve takes the undecided contacts too, by the
	// same turn as everyone (bruno has never been given one), but not a decided one elsewhere.
	limited.TakesUndecided = true
	if got, ok := Pick([]Operator{limited, op("carla", 1, 0, 100)}, Waiting{Category: "altro"}); !ok || got.Username != "bruno" {
		t.Errorf("unknown comune: %q, %v; want the operator of a shared comune", got.Username, ok)
	}
	if _, ok := Pick([]Operator{limited}, Waiting{Comune: "empoli", Category: "altro"}); ok {
		t.Error("an operator who takes undecided contacts got another comune's")
	}
}

func TestPickFairness(t *testing.T) {
	ops := []Operator{
		op("dario", 5, 0, 30),
		op("elena", 5, 4, 10), // waited longest: the load does not matter, only who waited
		op("fabio", 5, 0, 20),
		op("gina", 5, 5, -1), // never assigned, but full
		op("zeno", 5, 0, 10),
	}
	got, _ := Pick(ops, Waiting{})
	if got.Username != "elena" {
		t.Fatalf("Pick = %q, want elena (oldest last assignment, username before zeno)", got.Username)
	}
	ops[1].Presence = PresenceAway
	if got, _ := Pick(ops, Waiting{}); got.Username != "zeno" {
		t.Fatalf("Pick = %q, want zeno", got.Username)
	}
	ops = append(ops, op("hugo", 1, 0, -1))
	if got, _ := Pick(ops, Waiting{}); got.Username != "hugo" {
		t.Fatalf("Pick = %q, want hugo, never assigned", got.Username)
	}
}

func TestDrainOrderAndCapacity(t *testing.T) {
	ops := []Operator{op("anna", 2, 1, 0), op("bruno", 1, 0, 5), op("carla", 3, 0, 10)}
	ops[2].Presence = PresenceOffline
	waiting := []Waiting{
		{ContactID: "old-low", Priority: 0, ReceivedAt: t0.Add(-60 * time.Minute)},
		{ContactID: "new-high", Priority: 2, ReceivedAt: t0.Add(-1 * time.Minute)},
		{ContactID: "old-high", Priority: 2, ReceivedAt: t0.Add(-5 * time.Minute)},
		{ContactID: "escalated", Priority: 12, ReceivedAt: t0},
	}
	before := slices.Clone(waiting)
	now := t0.Add(time.Hour)
	got := DrainAt(ops, waiting, now)
	// Two free places (anna 1, bruno 1; carla is offline): the two highest priorities.
	want := []Assignment{
		{ContactID: "escalated", OperatorID: "id-anna", Username: "anna"},
		{ContactID: "old-high", OperatorID: "id-bruno", Username: "bruno"},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Drain = %+v, want %+v", got, want)
	}
	if ops[0].Open != 2 || ops[1].Open != 1 || ops[2].Open != 0 {
		t.Errorf("open counts not updated: %+v", ops)
	}
	if !ops[0].LastAssignedAt.Equal(now) || !ops[1].LastAssignedAt.Equal(now.Add(time.Microsecond)) {
		t.Errorf("assignment times: %v, %v", ops[0].LastAssignedAt, ops[1].LastAssignedAt)
	}
	if !slices.Equal(waiting, before) {
		t.Error("Drain reordered the caller's waiting list")
	}
	if more := DrainAt(ops, waiting, now); more != nil {
		t.Errorf("nothing free, yet Drain assigned %+v", more)
	}
}

func TestDrainRoundRobinAndSkills(t *testing.T) {
	ops := []Operator{op("anna", 10, 0, -1), op("bruno", 10, 0, -1), op("carla", 10, 0, -1)}
	ops[2].Categories = []string{"contravvenzioni"}
	var waiting []Waiting
	for i := range 7 {
		waiting = append(waiting, Waiting{ContactID: fmt.Sprintf("c%d", i), Category: "altro", ReceivedAt: t0.Add(time.Duration(i) * time.Second)})
	}
	waiting = append(waiting, Waiting{ContactID: "multa", Category: "contravvenzioni", ReceivedAt: t0.Add(time.Hour)})
	got := DrainAt(ops, waiting, t0)
	var order []string
	for _, a := range got {
		order = append(order, a.Username+":"+a.ContactID)
	}
	// anna and bruno alternate on "altro"; carla only takes the fine, and gets it although bruno
	// or anna could take it too: she has waited longest.
	want := []string{"anna:c0", "bruno:c1", "anna:c2", "bruno:c3", "anna:c4", "bruno:c5", "anna:c6", "carla:multa"}
	if !slices.Equal(order, want) {
		t.Fatalf("Drain order = %v\nwant %v", order, want)
	}
}

// loadSet is 100 operators and 1,000 waiting contacts with mixed skills, load and presence.
func loadSet() ([]Operator, []Waiting) {
	rng := rand.New(rand.NewPCG(1, 2))
	comuni := []string{"firenze", "sesto-fiorentino", "bagno-a-ripoli", "empoli"}
	cats := []string{"blocco-traffico", "contravvenzioni", "servizi-generici", "permessi-ztl", "incentivi-veicoli", "reclami-suggerimenti", "altro"}
	presence := []string{PresenceAvailable, PresenceAvailable, PresenceAvailable, PresenceAvailable, PresenceAvailable, PresenceAvailable, PresenceAvailable, PresenceAvailable, PresenceAway, PresenceOffline}
	ops := make([]Operator, 100)
	for i := range ops {
		capacity := 1 + rng.IntN(5)
		o := Operator{
			ID: fmt.Sprintf("op%03d", i), Username: fmt.Sprintf("operatore%03d", i),
			Presence: presence[rng.IntN(len(presence))], Capacity: capacity, Open: rng.IntN(capacity + 1),
		}
		if rng.IntN(10) < 3 {
			o.Comuni = []string{comuni[rng.IntN(len(comuni))], comuni[rng.IntN(len(comuni))]}
		}
		if rng.IntN(10) < 3 {
			o.Categories = []string{cats[rng.IntN(len(cats))], cats[rng.IntN(len(cats))], cats[rng.IntN(len(cats))]}
		}
		if rng.IntN(10) > 0 {
			o.LastAssignedAt = t0.Add(-time.Duration(rng.IntN(7200)) * time.Second)
		}
		ops[i] = o
	}
	waiting := make([]Waiting, 1000)
	for i := range waiting {
		w := Waiting{
			ContactID: fmt.Sprintf("contact%04d", i), Category: cats[rng.IntN(len(cats))],
			Priority: rng.IntN(3), ReceivedAt: t0.Add(-time.Duration(rng.IntN(7200)) * time.Second),
		}
		if rng.IntN(20) > 0 {
			w.Comune = comuni[rng.IntN(len(comuni))]
		}
		if rng.IntN(10) == 0 {
			w.Priority += DefaultEscalationStep
		}
		waiting[i] = w
	}
	return ops, waiting
}

func TestDrainLoadSetRespectsEveryRule(t *testing.T) {
	ops, waiting := loadSet()
	orig := slices.Clone(ops)
	free := 0
	for _, o := range ops {
		if o.Presence == PresenceAvailable && o.Open < o.Capacity {
			free += o.Capacity - o.Open
		}
	}
	got := DrainAt(ops, waiting, t0)
	if len(got) == 0 || len(got) > free {
		t.Fatalf("%d assignments for %d free places", len(got), free)
	}
	byID := map[string]*Operator{}
	for i := range orig {
		byID[orig[i].ID] = &orig[i]
	}
	contacts := map[string]Waiting{}
	for _, w := range waiting {
		contacts[w.ContactID] = w
	}
	seen := map[string]bool{}
	for _, a := range got {
		o, w := byID[a.OperatorID], contacts[a.ContactID]
		if seen[a.ContactID] {
			t.Fatalf("%s assigned twice", a.ContactID)
		}
		seen[a.ContactID] = true
		if !o.CanTake(&w) {
			t.Fatalf("%s got %+v, which they cannot take (%+v)", o.Username, w, o)
		}
		o.Open++
	}
	for i := range ops {
		if ops[i].Open != byID[ops[i].ID].Open {
			t.Fatalf("%s: Drain says open %d, its assignments %d", ops[i].Username, ops[i].Open, byID[ops[i].ID].Open)
		}
	}
	// Served in order: priority, then age.
	for i := 1; i < len(got); i++ {
		a, b := contacts[got[i-1].ContactID], contacts[got[i].ContactID]
		if a.Priority < b.Priority || (a.Priority == b.Priority && a.ReceivedAt.After(b.ReceivedAt)) {
			t.Fatalf("%+v served before %+v", a, b)
		}
	}
	// Nothing assignable is left: whoever could take a leftover contact now could have earlier.
	for _, w := range waiting {
		if seen[w.ContactID] {
			continue
		}
		if o, ok := Pick(ops, w); ok {
			t.Fatalf("%+v left waiting though %s can take it", w, o.Username)
		}
	}
	t.Logf("load set: %d free places, %d assigned", free, len(got))
}

// TestPickLatencyP99 times 10,000 Pick decisions over the load set. The bound is generous on
// purpose (a shared 2-core machine, -race): the measured number is in the log.
func TestPickLatencyP99(t *testing.T) {
	ops, waiting := loadSet()
	const n = 10000
	lat := make([]time.Duration, n)
	for i := range n {
		start := time.Now()
		Pick(ops, waiting[i%len(waiting)])
		lat[i] = time.Since(start)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	p50, p99, maxLat := lat[n/2], lat[n*99/100], lat[n-1]
	t.Logf("Pick over 100 operators: p50 %v, p99 %v, max %v (n=%d)", p50, p99, maxLat, n)
	if p99 > 10*time.Millisecond {
		t.Fatalf("p99 %v > 10ms", p99)
	}
}

func BenchmarkPick(b *testing.B) {
	ops, waiting := loadSet()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		Pick(ops, waiting[i%len(waiting)])
	}
}

// BenchmarkDrain drains the 1,000-contact backlog over 100 operators; each round starts from a
// fresh copy of the operators (copying 100 of them is part of the time, and negligible).
func BenchmarkDrain(b *testing.B) {
	ops, waiting := loadSet()
	work := make([]Operator, len(ops))
	b.ReportAllocs()
	var assigned int
	for b.Loop() {
		copy(work, ops)
		assigned = len(DrainAt(work, waiting, t0))
	}
	b.ReportMetric(float64(assigned), "assigned/op")
}

// One person talks to one caller: an operator with room for several contacts gets a second
// call only after the first ends, though written contacts still reach them meanwhile.
func TestOneCallAtATime(t *testing.T) {
	ops := []Operator{op("anna", 3, 0, 0)}
	waiting := []Waiting{
		{ContactID: "call-1", Voice: true, ReceivedAt: t0.Add(-3 * time.Minute)},
		{ContactID: "call-2", Voice: true, ReceivedAt: t0.Add(-2 * time.Minute)},
		{ContactID: "sms-1", ReceivedAt: t0.Add(-1 * time.Minute)},
	}
	got := DrainAt(ops, waiting, t0)
	want := []Assignment{{ContactID: "call-1", OperatorID: "id-anna", Username: "anna"}, {ContactID: "sms-1", OperatorID: "id-anna", Username: "anna"}}
	if !slices.Equal(got, want) {
		t.Fatalf("Drain = %+v, want %+v", got, want)
	}
	if !ops[0].OnCall {
		t.Fatal("taking a call did not mark the operator on a call")
	}
	if _, ok := Pick(ops, waiting[1]); ok {
		t.Fatal("Pick gave a second call to an operator on a call")
	}
	ops[0].OnCall = false // the first call ended
	if o, ok := Pick(ops, waiting[1]); !ok || o.Username != "anna" {
		t.Fatalf("after the call ended: %+v %v", o, ok)
	}
}
