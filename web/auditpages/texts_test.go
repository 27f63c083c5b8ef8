package auditpages

import (
	"testing"
)

// Both languages have the same keys, and every action the filter offers has a name in each.
func TestTextsComplete(t *testing.T) {
	it, en := texts["it"], texts["en"]
	for k := range it {
		if en[k] == "" {
			t.Errorf("%q has no English text", k)
		}
	}
	for k := range en {
		if it[k] == "" {
			t.Errorf("%q has no Italian text", k)
		}
	}
	for _, a := range actions {
		if it["action_"+a] == "" {
			t.Errorf("action %q has no name", a)
		}
	}
}
