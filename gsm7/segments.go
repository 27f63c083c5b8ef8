// Package gsm7 knows the GSM 03.38 alphabet SMS are sent in: how many segments a text costs and
// in which encoding, and the rewrite that keeps an Italian text in GSM-7.
package gsm7

// SMS character encodings, as SegmentCount names them.
const (
	EncodingGSM7 = "GSM-7"
	EncodingUCS2 = "UCS-2"
)

// basicAlphabet is the GSM 03.38 default alphabet, escape code excluded. Lower-case à è é ì ò ù are
// in it, as is capital É; capital È, À, Ì, Ò, Ù are not.
const basicAlphabet = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
	"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"

// extensionTable are sent as the escape code plus one more septet: each counts twice.
const extensionTable = "\f^{}\\[~]|€"

var septets = func() map[rune]int {
	m := make(map[rune]int, len(basicAlphabet)+len(extensionTable))
	for _, r := range basicAlphabet {
		m[r] = 1
	}
	for _, r := range extensionTable {
		m[r] = 2
	}
	return m
}()

// SegmentCount returns how many SMS segments body is sent as, and in which encoding. A body made
// only of GSM-7 characters (extension characters such as € and [ count as two) fits 160 septets
// in one segment and 153 per segment when split; anything else is sent as UCS-2: 70 UTF-16 code
// units in one segment, 67 per segment when split (an emoji takes two). A character is never cut
// between two segments, so a split message can need one segment more than length/153. An empty
// body is 0 segments.
func SegmentCount(body string) (segments int, encoding string) {
	if body == "" {
		return 0, EncodingGSM7
	}
	widths := make([]int, 0, len(body))
	encoding = EncodingGSM7
	for _, r := range body {
		w, ok := septets[r]
		if !ok {
			encoding = EncodingUCS2
			break
		}
		widths = append(widths, w)
	}
	single, split := 160, 153
	if encoding == EncodingUCS2 {
		single, split = 70, 67
		widths = widths[:0]
		for _, r := range body {
			if r > 0xFFFF {
				widths = append(widths, 2) // a UTF-16 surrogate pair
			} else {
				widths = append(widths, 1)
			}
		}
	}
	total := 0
	for _, w := range widths {
		total += w
	}
	if total <= single {
		return 1, encoding
	}
	segments, room := 1, split
	for _, w := range widths {
		if w > room {
			segments++
			room = split
		}
		room -= w
	}
	return segments, encoding
}
