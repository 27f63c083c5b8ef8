package alerts

import (
	"testing"

	"github.com/sportello/sportello/channels"
)

func TestNormalizeNumberAgreesWithChannels(t *testing.T) {
	for _, raw := range []string{"+393471234567", "3471234567", "0039 347 123 4567", "0552768000", "+390552768000", "tel:+393401112233",
		"garbage", "", "+44 7911 123456", "+1 202 555 0100", "347-123-4567", "+39 055 05 50"} {
		checkNormalize(t, raw)
	}
}

func checkNormalize(t *testing.T, raw string) {
	e164, mobile, err := normalizeNumber(raw)
	want, werr := channels.NormalizePhone(raw)
	if (err == nil) != (werr == nil) || e164 != want {
		t.Fatalf("normalizeNumber(%q) = %q %v; NormalizePhone = %q %v", raw, e164, err, want, werr)
	}
	if err == nil && mobile != channels.IsMobile(want) {
		t.Fatalf("normalizeNumber(%q) mobile = %v, IsMobile = %v", raw, mobile, !mobile)
	}
}

func FuzzNormalizeNumber(f *testing.F) {
	for _, s := range []string{"+393471234567", "0552768000", "00393401234567", "sip:+39055@pbx", "abc"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) { checkNormalize(t, raw) })
}
