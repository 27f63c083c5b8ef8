package adminpages

import "testing"

// TestTextsSpeakBothLanguages: every text exists in Italian and English, and every code the
// admin service refuses with has words in both.
func TestTextsSpeakBothLanguages(t *testing.T) {
	it, en := texts["it"], texts["en"]
	for k := range it {
		if en[k] == "" {
			t.Errorf("%s has no English", k)
		}
	}
	for k := range en {
		if it[k] == "" {
			t.Errorf("%s has no Italian", k)
		}
	}
	for _, code := range []string{"invalid_username", "invalid_role", "unknown_comune", "unknown_category", "invalid_name",
		"invalid_capacity", "invalid_phone", "password_too_short", "password_too_common", "password_unchanged",
		"wrong_password", "user_exists", "forbidden", "busy", "invalid_lang", "invalid_presence"} {
		if it["err_"+code] == "" {
			t.Errorf("no words for the code %s", code)
		}
	}
}
