package alerts

import (
	"strings"

	"github.com/nyaruka/phonenumbers"

	"github.com/sportello/sportello/channels"
)

// normalizeNumber is channels.NormalizePhone and channels.IsMobile in one parse: an import
// spends most of its time parsing numbers. A test holds it to the two it replaces.
func normalizeNumber(raw string) (e164 string, mobile bool, err error) {
	s := strings.TrimSpace(raw)
	s = strings.TrimPrefix(s, "tel:")
	s = strings.TrimPrefix(s, "sip:")
	if i := strings.IndexByte(s, '@'); i >= 0 {
		s = s[:i]
	}
	if strings.HasPrefix(s, "00") {
		s = "+" + s[2:]
	}
	if s == "" || len(s) > 40 {
		return "", false, channels.ErrInvalidNumber
	}
	n, err := phonenumbers.Parse(s, channels.DefaultRegion)
	if err != nil || !phonenumbers.IsPossibleNumber(n) {
		return "", false, channels.ErrInvalidNumber
	}
	t := phonenumbers.GetNumberType(n)
	return phonenumbers.Format(n, phonenumbers.E164), t == phonenumbers.MOBILE || t == phonenumbers.FIXED_LINE_OR_MOBILE, nil
}
