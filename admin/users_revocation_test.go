package admin_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/sportello/sportello/admin"
	"github.com/sportello/sportello/config"
	"github.com/sportello/sportello/events"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

// revocationRecorder is the event publisher, keeping whose streams were told to re-check.
type revocationRecorder struct{ revoked []string }

func (r *revocationRecorder) Publish(_ context.Context, e events.Event) error {
	if e.Type == events.UserRevoked {
		r.revoked = append(r.revoked, e.UserID)
	}
	return nil
}

func newServiceRecordingRevocations(t *testing.T) (*admin.Service, *store.Store, *revocationRecorder) {
	t.Helper()
	cfg, err := config.Parse([]byte(fmt.Sprintf(`
data_dir: %q
comuni:
  - {id: firenze, name: Firenze}
  - {id: empoli, name: Empoli}
`, t.TempDir())))
	if err != nil {
		t.Fatal(err)
	}
	s := storetest.Open(t, store.SQLite)
	rec := &revocationRecorder{}
	svc, err := admin.New(admin.Options{Store: s, Config: cfg, Events: rec})
	if err != nil {
		t.Fatal(err)
	}
	return svc, s, rec
}

// Changing what a user may see (role, comuni, categories) tells their open streams to
// re-check at once, so they end now rather than at the next periodic re-check.
func TestUpdateUserAnnouncesRoleAndScopeChanges(t *testing.T) {
	firenze, supervisor, none := []string{"firenze"}, store.RoleSupervisor, []string{}
	for name, p := range map[string]admin.Patch{
		"comuni":     {Comuni: &firenze},
		"role":       {Role: &supervisor},
		"categories": {Categories: &none},
	} {
		svc, s, rec := newServiceRecordingRevocations(t)
		root := mk(t, s, "root", store.RoleAdmin)
		op := mk(t, s, "op", store.RoleOperator, "firenze", "empoli")
		if _, err := svc.UpdateUser(context.Background(), root, "op", p); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(rec.revoked) != 1 || rec.revoked[0] != op.ID {
			t.Fatalf("%s change announced %v, want the user's revocation", name, rec.revoked)
		}
	}
}

// A change that leaves what the user sees alone announces nothing: their streams go on.
func TestUpdateUserAnnouncesNothingForNameOrCapacity(t *testing.T) {
	svc, s, rec := newServiceRecordingRevocations(t)
	root := mk(t, s, "root", store.RoleAdmin)
	mk(t, s, "op", store.RoleOperator, "firenze")
	name, capacity := "Operatrice", 7
	if _, err := svc.UpdateUser(context.Background(), root, "op", admin.Patch{Name: &name, Capacity: &capacity}); err != nil {
		t.Fatal(err)
	}
	if len(rec.revoked) != 0 {
		t.Fatalf("a name and capacity change announced %v", rec.revoked)
	}
}
