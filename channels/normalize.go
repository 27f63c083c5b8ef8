package channels

import (
	"errors"
	"net/mail"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// DefaultRegion is the region numbers without a country code belong to.
const DefaultRegion = "IT"

// ErrInvalidNumber is returned for text that is not a phone number.
var ErrInvalidNumber = errors.New("not a valid phone number")

// NormalizePhone turns a number as typed or as a provider sends it into E.164.
// "0557654321" becomes "+390557654321"; "+39 347 123 4567" becomes "+393471234567".
func NormalizePhone(raw string) (string, error) {
	e164, _, err := normalizePhone(raw)
	return e164, err
}

// NormalizeMobile is NormalizePhone and IsMobile of its result, with the number parsed once
// rather than twice: an import of a million subscribers spent a fifth of its time parsing
// each number a second time to ask its type.
func NormalizeMobile(raw string) (e164 string, mobile bool, err error) {
	e164, n, err := normalizePhone(raw)
	if err != nil {
		return "", false, err
	}
	return e164, isMobile(n), nil
}

// normalizePhone returns the E.164 form of raw and that form, parsed.
func normalizePhone(raw string) (string, *phonenumbers.PhoneNumber, error) {
	s := strings.TrimSpace(raw)
	s = strings.TrimPrefix(s, "tel:")
	s = strings.TrimPrefix(s, "sip:")
	if i := strings.IndexByte(s, '@'); i >= 0 { // sip:+39055@pbx
		s = s[:i]
	}
	if strings.HasPrefix(s, "00") {
		s = "+" + s[2:]
	}
	if s == "" || len(s) > 40 {
		return "", nil, ErrInvalidNumber
	}
	// Letters would be read as a vanity number (A=2...): no citizen writes theirs that way.
	if strings.IndexFunc(s, func(r rune) bool { return (r < '0' || r > '9') && !strings.ContainsRune("+ ()-./", r) }) >= 0 {
		return "", nil, ErrInvalidNumber
	}
	e164, n, err := formatE164(s)
	if err != nil {
		return "", nil, err
	}
	// A number whose E.164 form reads back differently (odd national prefixes) is not one we
	// can use as an identity. Input already in that form (what Twilio sends) is a fixed point.
	if e164 != s {
		again, n2, err := formatE164(e164)
		if err != nil || again != e164 {
			return "", nil, ErrInvalidNumber
		}
		n = n2
	}
	return e164, n, nil
}

func formatE164(s string) (string, *phonenumbers.PhoneNumber, error) {
	n, err := phonenumbers.Parse(s, DefaultRegion)
	if err != nil || !phonenumbers.IsPossibleNumber(n) {
		return "", nil, ErrInvalidNumber
	}
	return phonenumbers.Format(n, phonenumbers.E164), n, nil
}

// NormalizePhoneOrRaw normalizes a number when it can, and otherwise keeps the raw text
// (anonymous callers, short codes, "client:alice"), so nothing is lost.
func NormalizePhoneOrRaw(raw string) string {
	if s := strings.TrimSpace(raw); isItalianE164Shape(s) {
		return s
	}
	return normalizePhoneOrRawParsed(raw)
}

// isItalianE164Shape reports whether s is "+39" and digits only: what Twilio sends for an
// Italian citizen. NormalizePhoneOrRaw maps every such text to itself, valid or not (Italy has
// no national prefix to strip, and a number phonenumbers refuses is kept raw), so it need not
// be parsed: the parse is regular-expression work, the largest cost of a new sender's SMS on
// the request path. FuzzNormalizePhoneOrRaw holds the shortcut to the full parse.
func isItalianE164Shape(s string) bool {
	if len(s) < 4 || len(s) > 40 || s[:3] != "+39" {
		return false
	}
	for i := 3; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// normalizePhoneOrRawParsed is NormalizePhoneOrRaw without the shortcut: what it does for any
// other text, and the oracle of its fuzz test.
func normalizePhoneOrRawParsed(raw string) string {
	if n, err := NormalizePhone(raw); err == nil {
		return n
	}
	return strings.TrimSpace(raw)
}

// IsMobile reports whether an E.164 number is a mobile number (alerts go only to those).
func IsMobile(e164 string) bool {
	n, err := phonenumbers.Parse(e164, DefaultRegion)
	if err != nil {
		return false
	}
	return isMobile(n)
}

// RegionOf is the region (ISO 3166 alpha-2, such as "IT") an E.164 number belongs to, or "".
func RegionOf(e164 string) string {
	n, err := phonenumbers.Parse(e164, DefaultRegion)
	if err != nil {
		return ""
	}
	return phonenumbers.GetRegionCodeForNumber(n)
}

// IsCostly reports whether dialling an E.164 number costs the caller more than an ordinary
// call: premium-rate and shared-cost numbers. A caller id is the caller's to forge, so a
// "call me back" must not become a paid call to the forger's line.
func IsCostly(e164 string) bool {
	n, err := phonenumbers.Parse(e164, DefaultRegion)
	if err != nil {
		return false
	}
	t := phonenumbers.GetNumberType(n)
	return t == phonenumbers.PREMIUM_RATE || t == phonenumbers.SHARED_COST
}

func isMobile(n *phonenumbers.PhoneNumber) bool {
	t := phonenumbers.GetNumberType(n)
	return t == phonenumbers.MOBILE || t == phonenumbers.FIXED_LINE_OR_MOBILE
}

// NormalizeEmail lower-cases an address and strips any display name.
func NormalizeEmail(raw string) (string, error) {
	s := strings.TrimSpace(raw)
	if a, err := mail.ParseAddress(s); err == nil {
		s = a.Address
	}
	s = strings.ToLower(strings.Trim(s, "<> "))
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return "", errors.New("not a valid email address")
	}
	return s, nil
}

// NormalizeAddress normalizes an address for the channel it belongs to.
func NormalizeAddress(k Kind, raw string) (string, error) {
	if k == Email || k == PEC {
		return NormalizeEmail(raw)
	}
	return NormalizePhone(raw)
}
