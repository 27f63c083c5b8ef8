package channels

import "testing"

func TestNormalizePhone(t *testing.T) {
	cases := map[string]string{
		"0557654321":        "+390557654321",
		"+39 347 123 4567":  "+393471234567",
		"3471234567":        "+393471234567",
		"0039055055":        "+39055055",
		"tel:+390552768000": "+390552768000",
		"+44 20 7946 0958":  "+442079460958",
	}
	for in, want := range cases {
		got, err := NormalizePhone(in)
		if err != nil || got != want {
			t.Errorf("NormalizePhone(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "abc", "anonymous", "+", "12"} {
		if got, err := NormalizePhone(bad); err == nil {
			t.Errorf("NormalizePhone(%q) = %q, want error", bad, got)
		}
	}
}

func TestIsMobile(t *testing.T) {
	if !IsMobile("+393471234567") {
		t.Error("+393471234567 is an Italian mobile")
	}
	if IsMobile("+390552768000") {
		t.Error("+390552768000 is a Florence landline")
	}
}

func TestNormalizeEmail(t *testing.T) {
	got, err := NormalizeEmail("Mario Rossi <Mario.Rossi@Example.IT>")
	if err != nil || got != "mario.rossi@example.it" {
		t.Fatalf("got %q, %v", got, err)
	}
	if _, err := NormalizeEmail("nobody"); err == nil {
		t.Fatal("want error for address without @")
	}
}
