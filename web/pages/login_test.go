package pages_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/labstack/echo/v4"
	"golang.org/x/crypto/argon2"

	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
	"github.com/sportello/sportello/web/auth"
	"github.com/sportello/sportello/web/pages"
)

// cheapHash is an argon2id hash in the stored format with tiny parameters (CheckPassword reads
// them from the hash), so many logins run fast.
func cheapHash(pw string) string {
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	key := argon2.IDKey([]byte(pw), salt, 1, 64, 1, 32)
	return fmt.Sprintf("$argon2id$v=19$m=64,t=1,p=1$%s$%s", base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

const rightPassword = "the-right-password-1"

// loginServer serves the login with o (its Store set here) for a user "victim".
func loginServer(t *testing.T, o pages.Options) *echo.Echo {
	t.Helper()
	o.Store = storetest.Open(t, store.SQLite)
	if _, err := o.Store.CreateUser(context.Background(), store.User{Username: "victim", Role: store.RoleOperator,
		PasswordHash: cheapHash(rightPassword)}); err != nil {
		t.Fatal(err)
	}
	p, err := pages.New(o)
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	e.IPExtractor = echo.ExtractIPDirect()
	p.Register(e)
	return e
}

// postLogin sends one login from addr and returns the answer.
func postLogin(e *echo.Echo, addr, username, password string) *httptest.ResponseRecorder {
	csrf := strings.Repeat("a", 40)
	form := url.Values{"username": {username}, "password": {password}, "csrf": {csrf}}
	req := httptest.NewRequest("POST", "/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: auth.CSRFCookie, Value: csrf})
	req.RemoteAddr = addr
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}

func wantLockedOut(t *testing.T, rec *httptest.ResponseRecorder, what string) {
	t.Helper()
	if rec.Code != http.StatusTooManyRequests {
		t.Fatalf("%s: %d, want 429", what, rec.Code)
	}
	if secs, err := strconv.Atoi(rec.Header().Get("Retry-After")); err != nil || secs <= 0 {
		t.Fatalf("%s: Retry-After %q", what, rec.Header().Get("Retry-After"))
	}
}

// The audit's race: the lockout was checked before the password check and counted after it,
// so requests sent together all passed it. Each guess is now counted before its check.
func TestParallelLoginGuessesFromOneAddressStopAtTheLimit(t *testing.T) {
	e := loginServer(t, pages.Options{})
	var mu sync.Mutex
	answers := map[int]int{}
	for wave := 0; wave < 4; wave++ {
		var wg sync.WaitGroup
		for i := 0; i < 4; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rec := postLogin(e, "203.0.113.9:1234", "victim", "wrong-guess-xyz")
				mu.Lock()
				answers[rec.Code]++
				mu.Unlock()
			}()
		}
		wg.Wait()
	}
	if answers[http.StatusUnauthorized] != auth.DefaultAttemptsPerAddressUser ||
		answers[http.StatusTooManyRequests] != 16-auth.DefaultAttemptsPerAddressUser {
		t.Fatalf("answers to 16 guesses from one address: %v; want %d password checks (401), the rest 429",
			answers, auth.DefaultAttemptsPerAddressUser)
	}
	wantLockedOut(t, postLogin(e, "203.0.113.9:1234", "victim", rightPassword), "the right password once locked out")
}

// An IPv6 client holds a whole /64: rotating addresses inside it gets no more guesses.
func TestLoginLockoutCountsAnIPv6Slash64AsOneAddress(t *testing.T) {
	e := loginServer(t, pages.Options{})
	for i := 0; i < auth.DefaultAttemptsPerAddressUser; i++ {
		if rec := postLogin(e, fmt.Sprintf("[2001:db8:5:5::%x]:1234", i+1), "victim", "wrong-guess-xyz"); rec.Code != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d", i, rec.Code)
		}
	}
	wantLockedOut(t, postLogin(e, "[2001:db8:5:5:abcd::1]:1234", "victim", "wrong-guess-xyz"), "a new address in the same /64")
	if rec := postLogin(e, "[2001:db8:5:6::1]:1234", "victim", rightPassword); rec.Code != http.StatusSeeOther {
		t.Fatalf("the right password from another /64: %d", rec.Code)
	}
}

// Many addresses together get the per-user limit's guesses at one account, not more.
func TestLoginLockoutHoldsPerUserAcrossAddresses(t *testing.T) {
	e := loginServer(t, pages.Options{LoginFailuresPerUser: 3})
	for i := 0; i < 3; i++ {
		if rec := postLogin(e, fmt.Sprintf("198.51.100.%d:1234", i+1), "victim", "wrong-guess-xyz"); rec.Code != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d", i, rec.Code)
		}
	}
	wantLockedOut(t, postLogin(e, "198.51.100.200:1234", "victim", "wrong-guess-xyz"), "a fourth address")
	if rec := postLogin(e, "198.51.100.200:1234", "someone-else", "wrong-guess-xyz"); rec.Code != http.StatusUnauthorized {
		t.Fatalf("another username from the same address: %d", rec.Code)
	}
}

// A right password forgives its address's failures at the user: the owner who mistyped four
// times and then logged in may mistype four times again. (The per-user count, shared with
// other addresses, keeps the typos: two rounds stay under its ten.)
func TestRightPasswordForgivesTheAddressesFailures(t *testing.T) {
	e := loginServer(t, pages.Options{})
	for round := 0; round < 2; round++ {
		for i := 0; i < auth.DefaultAttemptsPerAddressUser-1; i++ {
			if rec := postLogin(e, "192.0.2.10:1234", "victim", "typo"); rec.Code != http.StatusUnauthorized {
				t.Fatalf("round %d, typo %d: %d", round, i, rec.Code)
			}
		}
		if rec := postLogin(e, "192.0.2.10:1234", "victim", rightPassword); rec.Code != http.StatusSeeOther {
			t.Fatalf("round %d, the right password: %d", round, rec.Code)
		}
	}
}
