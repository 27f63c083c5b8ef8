package pages_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
	"github.com/sportello/sportello/web/auth"
	"github.com/sportello/sportello/web/pages"
)

// sharedDatabase is one database holding the user "victim", that several web servers
// ("replicas") each open their own store on.
type sharedDatabase struct{ *storetest.Shared }

func newSharedDatabase(t *testing.T, d store.Dialect) sharedDatabase {
	t.Helper()
	db := sharedDatabase{storetest.NewShared(t, d)}
	if _, err := db.Open(t).CreateUser(context.Background(), store.User{Username: "victim", Role: store.RoleOperator,
		PasswordHash: cheapHash(rightPassword)}); err != nil {
		t.Fatal(err)
	}
	return db
}

// server starts one replica's web login on the database.
func (db sharedDatabase) server(t *testing.T) *echo.Echo {
	t.Helper()
	p, err := pages.New(pages.Options{Store: db.Open(t)})
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	e.IPExtractor = echo.ExtractIPDirect()
	p.Register(e)
	return e
}

// Five failed logins from one address spread over two replicas spend its budget at the user:
// the sixth is refused on either.
func TestLoginAddressLimitHoldsAcrossReplicas(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			db := newSharedDatabase(t, d)
			replicas := []*echo.Echo{db.server(t), db.server(t)}
			for i := 0; i < auth.DefaultAttemptsPerAddressUser; i++ {
				if rec := postLogin(replicas[i%2], "203.0.113.9:1234", "victim", "wrong-guess-xyz"); rec.Code != http.StatusUnauthorized {
					t.Fatalf("guess %d on replica %d: %d", i, i%2, rec.Code)
				}
			}
			for i, e := range replicas {
				wantLockedOut(t, postLogin(e, "203.0.113.9:1234", "victim", "wrong-guess-xyz"), fmt.Sprintf("the sixth guess on replica %d", i))
			}
			if rec := postLogin(replicas[1], "203.0.113.10:1234", "victim", rightPassword); rec.Code != http.StatusSeeOther {
				t.Fatalf("the right password from another address: %d", rec.Code)
			}
		})
	}
}

// A restart (a new process on the same database) does not give a spent address new guesses.
func TestLoginAddressLimitSurvivesARestart(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			db := newSharedDatabase(t, d)
			before := db.server(t)
			for i := 0; i < auth.DefaultAttemptsPerAddressUser; i++ {
				if rec := postLogin(before, "203.0.113.9:1234", "victim", "wrong-guess-xyz"); rec.Code != http.StatusUnauthorized {
					t.Fatalf("guess %d: %d", i, rec.Code)
				}
			}
			wantLockedOut(t, postLogin(db.server(t), "203.0.113.9:1234", "victim", rightPassword), "the right password after a restart")
		})
	}
}

// An IPv6 client rotating through its /64 over two replicas gets five guesses, not more.
func TestLoginAddressLimitCountsAnIPv6Slash64AcrossReplicas(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			db := newSharedDatabase(t, d)
			replicas := []*echo.Echo{db.server(t), db.server(t)}
			for i := 0; i < auth.DefaultAttemptsPerAddressUser; i++ {
				if rec := postLogin(replicas[i%2], fmt.Sprintf("[2001:db8:5:5::%x]:1234", i+1), "victim", "wrong-guess-xyz"); rec.Code != http.StatusUnauthorized {
					t.Fatalf("guess %d: %d", i, rec.Code)
				}
			}
			for i, e := range replicas {
				wantLockedOut(t, postLogin(e, "[2001:db8:5:5:abcd::1]:1234", "victim", "wrong-guess-xyz"),
					fmt.Sprintf("a new address in the same /64 on replica %d", i))
			}
			if rec := postLogin(replicas[0], "[2001:db8:5:6::1]:1234", "victim", rightPassword); rec.Code != http.StatusSeeOther {
				t.Fatalf("the right password from another /64: %d", rec.Code)
			}
		})
	}
}

// Guesses sent together to both replicas get five password checks between them, not more.
// Waves of four per replica stay within the gate's four checks per address, so every answer
// is a check (401) or the limit (429), never the gate's busy.
func TestParallelLoginGuessesOverReplicasStopAtTheLimit(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			db := newSharedDatabase(t, d)
			replicas := []*echo.Echo{db.server(t), db.server(t)}
			var mu sync.Mutex
			answers := map[int]int{}
			const waves, perReplica = 3, 4
			for wave := 0; wave < waves; wave++ {
				var wg sync.WaitGroup
				for i := 0; i < perReplica*len(replicas); i++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						rec := postLogin(replicas[i%len(replicas)], "203.0.113.9:1234", "victim", "wrong-guess-xyz")
						mu.Lock()
						answers[rec.Code]++
						mu.Unlock()
					}()
				}
				wg.Wait()
			}
			total := waves * perReplica * len(replicas)
			if answers[http.StatusUnauthorized] != auth.DefaultAttemptsPerAddressUser ||
				answers[http.StatusTooManyRequests] != total-auth.DefaultAttemptsPerAddressUser {
				t.Fatalf("answers to %d guesses over two replicas: %v; want %d password checks (401), the rest 429",
					total, answers, auth.DefaultAttemptsPerAddressUser)
			}
		})
	}
}
