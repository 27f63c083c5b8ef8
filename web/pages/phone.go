package pages

import (
	"html/template"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// NationalPhone writes an E.164 number the way its country writes it (for Italy +393471234567
// is "347 123 4567" and +390557654321 "055 765 4321"; a foreign number keeps its +prefix);
// anything that is not a phone number (an email address) comes back unchanged.
func NationalPhone(s string) string {
	if !strings.HasPrefix(s, "+") {
		return s
	}
	n, err := phonenumbers.Parse(s, "IT")
	if err != nil || !phonenumbers.IsPossibleNumber(n) {
		return s
	}
	if phonenumbers.GetRegionCodeForNumber(n) == "IT" {
		return phonenumbers.Format(n, phonenumbers.NATIONAL)
	}
	return phonenumbers.Format(n, phonenumbers.INTERNATIONAL)
}

// phoneLink shows a number as people write it, with the E.164 form on hover and in a tel: link;
// anything else is shown as it is.
func phoneLink(s string) template.HTML {
	national := NationalPhone(s)
	if national == s && !strings.HasPrefix(s, "+") {
		return template.HTML(template.HTMLEscapeString(s))
	}
	e := template.HTMLEscapeString(s)
	return template.HTML(`<a class="tel" href="tel:` + e + `" title="` + e + `">` + template.HTMLEscapeString(national) + `</a>`)
}

// IsMobile reports whether an E.164 number is a mobile (so it can receive an SMS).
func IsMobile(e164 string) bool {
	n, err := phonenumbers.Parse(e164, "IT")
	if err != nil {
		return false
	}
	switch phonenumbers.GetNumberType(n) {
	case phonenumbers.MOBILE, phonenumbers.FIXED_LINE_OR_MOBILE:
		return true
	}
	return false
}

// translateNote shows a note the desk stored on a message (in fixed English words, which stay
// the record) in the page's language.
func translateNote(t map[string]string, note string) string {
	switch {
	case note == "closed-hours automatic answer":
		return t["note_closed_hours"]
	case strings.HasPrefix(note, "forward to "):
		return t["note_forward_to"] + " " + strings.TrimPrefix(note, "forward to ")
	}
	return note
}
