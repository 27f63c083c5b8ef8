package admin_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"testing"

	"golang.org/x/crypto/argon2"

	"github.com/sportello/sportello/admin"
	"github.com/sportello/sportello/config"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
	"github.com/sportello/sportello/web/auth"
)

// cheapHash is an argon2id hash in the stored format with tiny parameters (CheckPassword reads
// them from the hash), so many checks run fast.
func cheapHash(pw string) string {
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	key := argon2.IDKey([]byte(pw), salt, 1, 64, 1, 32)
	return fmt.Sprintf("$argon2id$v=19$m=64,t=1,p=1$%s$%s", base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

const rightPassword = "Correct-Horse-9"

// newAccount makes a service whose password checks count in attempts, and a user whose
// password is rightPassword.
func newAccount(t *testing.T, attempts func(*store.Store) *auth.PasswordAttempts) (*admin.Service, *store.Store, store.User) {
	t.Helper()
	cfg, err := config.Parse([]byte(fmt.Sprintf("data_dir: %q\ncomuni:\n  - {id: firenze, name: Firenze}\n", t.TempDir())))
	if err != nil {
		t.Fatal(err)
	}
	s := storetest.Open(t, store.SQLite)
	o := admin.Options{Store: s, Config: cfg}
	if attempts != nil {
		o.Attempts = attempts(s)
	}
	svc, err := admin.New(o)
	if err != nil {
		t.Fatal(err)
	}
	u, err := s.CreateUser(context.Background(), store.User{Username: "victim", Role: store.RoleOperator,
		PasswordHash: cheapHash(rightPassword), Comuni: []string{"firenze"}})
	if err != nil {
		t.Fatal(err)
	}
	return svc, s, u
}

func refusalOf(t *testing.T, err error) *admin.Error {
	t.Helper()
	var ae *admin.Error
	if !errors.As(err, &ae) {
		t.Fatalf("want a refusal, got %v", err)
	}
	return ae
}

// The audit's oracle: the same guess sent as current and new answered wrong_password when
// wrong and password_unchanged when right. Now both answer password_unchanged, before any
// check, and count nothing.
func TestSameCurrentAndNewAnswerAlikeWhetherTheGuessIsRightOrWrong(t *testing.T) {
	svc, _, u := newAccount(t, nil)
	ctx := context.Background()
	for i := 0; i < 50; i++ {
		guess := fmt.Sprintf("guess-%03d-xyz", i)
		if ae := refusalOf(t, svc.ChangePassword(ctx, u, "203.0.113.7", "", guess, guess)); ae.Code != "password_unchanged" {
			t.Fatalf("wrong guess %d sent twice: %s", i, ae.Code)
		}
	}
	if ae := refusalOf(t, svc.ChangePassword(ctx, u, "203.0.113.7", "", rightPassword, rightPassword)); ae.Code != "password_unchanged" {
		t.Fatalf("the right password sent twice: %s", ae.Code)
	}
	// Nothing was checked, so nothing was counted: the owner still changes their password.
	if err := svc.ChangePassword(ctx, u, "203.0.113.7", "", rightPassword, "Tramvia-Peretola-7"); err != nil {
		t.Fatalf("after answers that checked nothing: %v", err)
	}
}

// A new password the policy refuses is refused before the current one is checked, whether the
// current one is right or not, and is no guess.
func TestPolicyIsAnsweredBeforeTheCurrentPasswordIsChecked(t *testing.T) {
	svc, _, u := newAccount(t, nil)
	ctx := context.Background()
	for i := 0; i < 20; i++ {
		current := fmt.Sprintf("guess-%03d-xyz", i)
		if i == 19 {
			current = rightPassword
		}
		if ae := refusalOf(t, svc.ChangePassword(ctx, u, "203.0.113.7", "", current, "corta")); ae.Code != "password_too_short" {
			t.Fatalf("current %q with a short new one: %s", current, ae.Code)
		}
	}
	if err := svc.ChangePassword(ctx, u, "203.0.113.7", "", rightPassword, "Tramvia-Peretola-7"); err != nil {
		t.Fatalf("policy refusals were counted as guesses: %v", err)
	}
}

// Wrong current passwords count like the login's failures: five per address and user, then
// 429 with a Retry-After, and the right password is refused too, so the answer tells nothing.
func TestWrongCurrentPasswordsAreLimitedAndThenEvenTheRightOneIsRefused(t *testing.T) {
	svc, _, u := newAccount(t, nil)
	ctx := context.Background()
	for i := 0; i < auth.DefaultAttemptsPerAddressUser; i++ {
		ae := refusalOf(t, svc.ChangePassword(ctx, u, "203.0.113.7", "", fmt.Sprintf("guess-%03d-xyz", i), "Tramvia-Peretola-7"))
		if ae.Code != "wrong_password" {
			t.Fatalf("wrong guess %d: %s", i, ae.Code)
		}
	}
	ae := refusalOf(t, svc.ChangePassword(ctx, u, "203.0.113.7", "", rightPassword, "Tramvia-Peretola-7"))
	if ae.Kind != admin.Busy || ae.Code != "too_many_attempts" || ae.RetryAfter <= 0 {
		t.Fatalf("the right password after %d wrong ones: %+v, want too_many_attempts with a RetryAfter",
			auth.DefaultAttemptsPerAddressUser, ae)
	}
}

// Rotating addresses does not help: the per-user count holds across them, IPv6 counts by /64.
func TestWrongCurrentPasswordsCountPerUserAcrossAddresses(t *testing.T) {
	svc, _, u := newAccount(t, nil)
	ctx := context.Background()
	wrong := 0
	for i := 0; i < 3*auth.DefaultAttemptsPerUser; i++ {
		client := fmt.Sprintf("2001:db8:%x::1", i+1)
		err := svc.ChangePassword(ctx, u, client, "", fmt.Sprintf("guess-%03d-xyz", i), "Tramvia-Peretola-7")
		if refusalOf(t, err).Code == "wrong_password" {
			wrong++
		}
	}
	if wrong != auth.DefaultAttemptsPerUser {
		t.Fatalf("%d guesses judged from %d addresses; the per-user limit is %d", wrong, 3*auth.DefaultAttemptsPerUser, auth.DefaultAttemptsPerUser)
	}
}

// The login's failures and the password change's share one count (the gateway gives the
// service the pages' attempts): neither is a way around the other.
func TestLoginFailuresLimitThePasswordChangeFromTheSameAddress(t *testing.T) {
	var shared *auth.PasswordAttempts
	svc, _, u := newAccount(t, func(s *store.Store) *auth.PasswordAttempts {
		shared = auth.NewPasswordAttempts(s, auth.AttemptLimits{})
		return shared
	})
	ctx := context.Background()
	for i := 0; i < auth.DefaultAttemptsPerAddressUser; i++ { // five failed logins, as the login counts them
		if _, err := shared.Reserve(ctx, "203.0.113.7", "victim"); err != nil {
			t.Fatal(err)
		}
	}
	ae := refusalOf(t, svc.ChangePassword(ctx, u, "203.0.113.7", "", rightPassword, "Tramvia-Peretola-7"))
	if ae.Code != "too_many_attempts" {
		t.Fatalf("after five failed logins: %s", ae.Code)
	}
}

// Each wrong current password leaves an audit entry: a guesser holding someone's token leaves
// a trace the admins can read.
func TestWrongCurrentPasswordsAreAudited(t *testing.T) {
	svc, s, u := newAccount(t, nil)
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		_ = svc.ChangePassword(ctx, u, "203.0.113.7", "", fmt.Sprintf("guess-%03d-xyz", i), "Tramvia-Peretola-7")
	}
	log, _, err := s.AuditLog(ctx, store.AuditFilter{Action: store.AuditPasswordChangeFailed})
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 3 {
		t.Fatalf("%d audit entries for 3 wrong current passwords", len(log))
	}
	for _, e := range log {
		if e.Actor != "victim" || e.Target != "victim" || e.Detail != "wrong current password from 203.0.113.7" {
			t.Errorf("entry %+v", e)
		}
	}
}
