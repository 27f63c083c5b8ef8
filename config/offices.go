package config

import (
	"fmt"
	"net/mail"
)

// bareAddress reports whether s is one plain mail address ("pm@comune.fi.it"): no display name,
// no angle brackets, nothing around it. These addresses are compared with the addresses of
// mail that arrives (a comune's inbox, an office answering a forward) and written as a
// recipient: "Polizia Municipale <pm@comune.fi.it>" would match nothing.
func bareAddress(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Name == "" && a.Address == s
}

// validateOffices checks the offices a comune forwards and transfers to: each is named once,
// its email (if any) is a bare address and its phone (if any) a number a call can be
// transferred to.
func validateOffices(key string, offices []Office, bad func(string, string, ...any)) {
	ids := map[string]bool{}
	for j, o := range offices {
		okey := fmt.Sprintf("%s.offices[%d]", key, j)
		switch {
		case o.ID == "":
			bad(okey+".id", "is required")
		case ids[o.ID]:
			bad(okey+".id", "duplicate office %q", o.ID)
		}
		ids[o.ID] = true
		if o.Email != "" && !bareAddress(o.Email) {
			bad(okey+".email", "%q is not a plain email address (write pm@comune.fi.it, without a name or angle brackets)", o.Email)
		}
		if o.Phone != "" {
			if _, err := normalizePhone(o.Phone); err != nil {
				bad(okey+".phone", "%q is not a phone number", o.Phone)
			}
		}
	}
}
