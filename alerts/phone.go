package alerts

import "github.com/sportello/sportello/channels"

// normalizeNumber reads a number as channels does and says whether it is a mobile.
func normalizeNumber(raw string) (e164 string, mobile bool, err error) {
	e164, err = channels.NormalizePhone(raw)
	if err != nil {
		return "", false, err
	}
	return e164, channels.IsMobile(e164), nil
}
