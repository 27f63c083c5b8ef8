package pages

import "testing"

func TestPlainName(t *testing.T) {
	cases := map[string]string{
		"Mario Rossi":                     "Mario Rossi",
		"\u202eissoR oiraM":               "issoR oiraM",
		"+39\u200b347\u2066123\u20694567": "+393471234567",
		"a\ufeffb\u00adc\u200ed\u200fe":   "abcde",
		"x\x00y\x1bz\u2028":               "xyz",
		"👩\u200d💻 می\u200cخواهم":          "👩\u200d💻 می\u200cخواهم", // joiners stay
		"محمد":                            "محمد",
	}
	for in, want := range cases {
		if got := PlainName(in); got != want {
			t.Errorf("PlainName(%q) = %q, want %q", in, got, want)
		}
	}
}
