package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/sportello/sportello/store"
)

// TestUserCommandsAreAudited: the command line's changes to users are in the audit log, with
// "cli" as the actor.
func TestUserCommandsAreAudited(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/sportello.yaml"
	if err := os.WriteFile(path, []byte(fmt.Sprintf("data_dir: %q\ncomuni: [{id: firenze, name: Firenze}]\n", dir)), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, args := range [][]string{
		{"user", "add", "--username", "anna", "--role", "operator", "--comune", "firenze", "--phone", "055 123456"},
		{"user", "phone", "--username", "anna", "--phone", ""},
		{"user", "disable", "--username", "anna"},
		{"user", "enable", "--username", "anna"},
		{"token", "revoke", "--username", "anna"},
	} {
		e, _, stderr := testEnv()
		e.stdin = strings.NewReader("una-password-lunga\n")
		if err := dispatch(ctx, e, append(args, "--config", path)); err != nil {
			t.Fatalf("%v: %v %s", args, err, stderr)
		}
	}
	s, closeFn, err := openStore(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer closeFn()
	log, _, err := s.AuditLog(ctx, store.AuditFilter{Actor: CLIActor})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range log {
		if e.Target != "anna" {
			t.Errorf("entry about %q: %+v", e.Target, e)
		}
		got = append([]string{e.Action}, got...)
	}
	want := "user_create user_update user_disable user_enable token_revoke"
	if strings.Join(got, " ") != want {
		t.Errorf("audit actions %v, want %s", got, want)
	}
	if !strings.Contains(log[len(log)-1].Detail, `phone="+39055123456"`) {
		t.Errorf("the creation's detail: %q", log[len(log)-1].Detail)
	}
}
