package twilioemu

import "unicode/utf8"

// The emulator counts segments on its own instead of importing the adapter's counter, so a test
// can hold one against the other: two implementations that agree are evidence, one is not.

// gsmBasic is the GSM 03.38 default alphabet (without the escape code).
const gsmBasic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
	"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"

// gsmExtension holds the characters sent as escape + code: two septets each.
const gsmExtension = "^{}\\[~]|€\f"

var gsmSeptets = func() map[rune]int {
	m := make(map[rune]int, 140)
	for _, r := range gsmBasic {
		m[r] = 1
	}
	for _, r := range gsmExtension {
		m[r] = 2
	}
	return m
}()

// Encoding names as the emulator reports them.
const (
	EncodingGSM7 = "GSM-7"
	EncodingUCS2 = "UCS-2"
)

// segments returns how many SMS segments body takes and in which encoding. A character is never
// split across two segments (an escaped GSM character or a UTF-16 surrogate pair moves whole to
// the next one), which is why a long text can take one segment more than length/153.
func segments(body string) (int, string) {
	if body == "" {
		return 0, EncodingGSM7
	}
	units := make([]int, 0, len(body))
	gsm := true
	for _, r := range body {
		n, ok := gsmSeptets[r]
		if !ok {
			gsm = false
			break
		}
		units = append(units, n)
	}
	single, multi, enc := 160, 153, EncodingGSM7
	if !gsm {
		single, multi, enc = 70, 67, EncodingUCS2
		units = units[:0]
		for _, r := range body {
			if r == utf8.RuneError || r < 0x10000 {
				units = append(units, 1)
			} else {
				units = append(units, 2)
			}
		}
	}
	total := 0
	for _, u := range units {
		total += u
	}
	if total <= single {
		return 1, enc
	}
	count, used := 1, 0
	for _, u := range units {
		if used+u > multi {
			count++
			used = 0
		}
		used += u
	}
	return count, enc
}
