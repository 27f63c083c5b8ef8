package alertstore_test

import (
	"context"
	"strings"
	"testing"

	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/alertstore"
	"github.com/sportello/sportello/store/storetest"
)

// A citizen's consent history spans their numbers, newest first; a comune-scoped reader sees
// their comuni's records and only the STOPs made since their comune first touched the number.
func TestConsentHistory(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		s := alertstore.New(st)
		ctx := context.Background()
		sub(t, s, "firenze", "+393470000001", "traffico")
		stop(t, s, "+393470000001")
		if _, _, err := s.RequestSubscription(ctx, "empoli", "+393470000002", nil, "it", alertstore.ConsentActor{Via: alertstore.ViaAPI, Actor: "key"},
			func(context.Context, *store.Tx) error { return nil }); err != nil {
			t.Fatal(err)
		}
		sub(t, s, "firenze", "+393479999999") // someone else
		phones := []string{"+393470000001", "+393470000002"}
		got := func(comuni []string) string {
			cs, err := s.ConsentHistory(ctx, phones, comuni)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, c := range cs {
				out = append(out, c.Comune+":"+c.Action+":"+strings.Join(c.Topics, "+"))
			}
			return strings.Join(out, " ")
		}
		if g := got(nil); g != "empoli:request: :stop: firenze:subscribe:traffico" {
			t.Fatalf("everything: %q", g)
		}
		if g := got([]string{"firenze"}); g != ":stop: firenze:subscribe:traffico" {
			t.Fatalf("firenze: %q", g)
		}
		if g := got([]string{"empoli"}); g != "empoli:request:" {
			t.Fatalf("empoli sees %q", g)
		}
		if g := got([]string{}); g != "" {
			t.Fatalf("an empty scope sees %q", g)
		}
		if cs, err := s.ConsentHistory(ctx, nil, nil); err != nil || len(cs) != 0 {
			t.Fatalf("no numbers: %v %v", cs, err)
		}
	})
}
