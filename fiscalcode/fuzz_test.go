package fiscalcode

import "testing"

// FuzzNormalize: whatever the input, Normalize never panics, and what it accepts is canonical
// in form (16 upper-case characters whose check matches), accepted again unchanged, and keeps
// its canonical (digits) form valid.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"RSSMRA85T10A562S", "rssmra85t10a562s", "RSSMRAURTMLARSNX", "BNCLRA80A41F205G", "", "0000000000000000", "RSSMRA85T10A562T", " R S S "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		cf, err := Normalize(raw)
		if err != nil {
			return
		}
		if len(cf) != Length || CheckChar(cf[:15]) != cf[15] {
			t.Fatalf("Normalize(%q) = %q: not a well-formed code", raw, cf)
		}
		again, err := Normalize(cf)
		if err != nil || again != cf {
			t.Fatalf("Normalize is not idempotent on %q: %q, %v", cf, again, err)
		}
		canon, err := Canonical(cf)
		if err != nil {
			t.Fatalf("Canonical refused the valid %q: %v", cf, err)
		}
		if Female(canon) != Female(cf) {
			t.Fatalf("Canonical changed the sex of %q: %q", cf, canon)
		}
	})
}
