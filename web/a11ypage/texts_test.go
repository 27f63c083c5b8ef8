package a11ypage

import "testing"

// Both languages say every part of the statement.
func TestTextsComplete(t *testing.T) {
	it, en := texts["it"], texts["en"]
	if len(it) != len(en) {
		t.Errorf("%d Italian texts, %d English", len(it), len(en))
	}
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
}
