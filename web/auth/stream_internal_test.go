package auth

import (
	"testing"

	"github.com/sportello/sportello/store"
)

// Seeing undecided contacts (a comune served by a shared number) is part of the scope.
func TestSameEntitlementComparesUndecidedContacts(t *testing.T) {
	opened := store.User{ID: "u1", Role: store.RoleOperator, Comuni: []string{"firenze"}, SeesUndecided: true}
	now := opened
	now.SeesUndecided = false
	if sameEntitlement(opened, now) {
		t.Fatal("losing the undecided contacts kept the entitlement")
	}
	if !sameEntitlement(opened, opened) {
		t.Fatal("an unchanged user lost the entitlement")
	}
}
