package mailparse

import (
	"bytes"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message/charset"
	"golang.org/x/text/encoding/charmap"
)

// decodeResult is a transfer-decoded body and what went wrong while decoding it. The decoders
// never fail: they keep every byte they could make sense of.
type decodeResult struct {
	data []byte
	// truncated: the encoded data stopped in the middle of a unit (a base64 quantum).
	truncated bool
	// invalid counts bytes that are not part of the encoding (skipped or kept literally).
	invalid int
	// overLimit: decoding stopped at the size limit.
	overLimit bool
	// unknownEncoding holds a Content-Transfer-Encoding we do not know (data is then raw).
	unknownEncoding string
}

// decodeTransfer undoes a Content-Transfer-Encoding, stopping after limit decoded bytes.
func decodeTransfer(encoding string, raw []byte, limit int64) decodeResult {
	var res decodeResult
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "base64":
		res = decodeBase64(raw, limit)
	case "quoted-printable":
		res = decodeQuotedPrintable(raw, limit)
	case "", "7bit", "8bit", "binary", "7-bit", "8-bit":
		// Capacity-limited: these bytes share the input's array with the parts after them.
		res.data = raw[:len(raw):len(raw)]
	default:
		res.data = raw[:len(raw):len(raw)]
		res.unknownEncoding = encoding
	}
	if int64(len(res.data)) > limit {
		res.data = res.data[:limit:limit]
		res.overLimit = true
	}
	return res
}

var base64Values = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xFF
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := 0; i < len(alphabet); i++ {
		t[alphabet[i]] = byte(i)
	}
	// Some mailers use the URL-safe alphabet; the two sets do not overlap, so accept both.
	t['-'] = 62
	t['_'] = 63
	return t
}()

// decodeBase64 is a lenient base64 decoder: whitespace is ignored, padding may appear in the
// middle (mailers that encode line by line), foreign bytes are skipped and counted, and a
// trailing partial quantum is decoded as far as it goes and flagged as truncated.
func decodeBase64(raw []byte, limit int64) decodeResult {
	out := make([]byte, 0, min(int64(len(raw))/4*3+3, limit+3))
	var res decodeResult
	var acc uint32
	n := 0
	flush := func() {
		switch n {
		case 1:
			res.truncated = true
		case 2:
			out = append(out, byte(acc>>4))
		case 3:
			out = append(out, byte(acc>>10), byte(acc>>2))
		}
		acc, n = 0, 0
	}
	for _, c := range raw {
		if int64(len(out)) >= limit {
			res.overLimit = true
			break
		}
		v := base64Values[c]
		switch {
		case v != 0xFF:
			acc = acc<<6 | uint32(v)
			n++
			if n == 4 {
				out = append(out, byte(acc>>16), byte(acc>>8), byte(acc))
				acc, n = 0, 0
			}
		case c == '=':
			flush()
		case c == ' ', c == '\t', c == '\r', c == '\n', c == '\f', c == '\v':
		default:
			res.invalid++
		}
	}
	if n > 0 && !res.overLimit {
		// Data that ends without its padding was cut short.
		res.truncated = true
		flush()
	}
	res.data = out
	return res
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// decodeQuotedPrintable is a lenient quoted-printable decoder: an "=" that does not start a
// valid escape is kept literally (as most mail clients do) and counted.
func decodeQuotedPrintable(raw []byte, limit int64) decodeResult {
	var res decodeResult
	out := make([]byte, 0, min(int64(len(raw)), limit+1))
	for len(raw) > 0 {
		if int64(len(out)) >= limit {
			res.overLimit = true
			break
		}
		var line []byte
		nl := false
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			line, raw, nl = raw[:i], raw[i+1:], true
		} else {
			line, raw = raw, nil
		}
		line = bytes.TrimRight(line, " \t\r")
		soft := false
		if len(line) > 0 && line[len(line)-1] == '=' {
			soft = true
			line = line[:len(line)-1]
		}
		for i := 0; i < len(line); i++ {
			c := line[i]
			if c != '=' {
				out = append(out, c)
				continue
			}
			if i+2 < len(line) {
				hi, ok1 := unhex(line[i+1])
				lo, ok2 := unhex(line[i+2])
				if ok1 && ok2 {
					out = append(out, hi<<4|lo)
					i += 2
					continue
				}
			}
			res.invalid++
			out = append(out, '=')
		}
		if nl && !soft {
			out = append(out, '\r', '\n')
		}
	}
	res.data = out
	return res
}

// textResult is a body part turned into UTF-8.
type textResult struct {
	text string
	// note says how the charset was guessed when the declared one was unknown or wrong.
	note string
}

// decodeCharset turns text in the declared charset into valid UTF-8. ISO-8859-1 and US-ASCII
// are read as Windows-1252, as browsers do, because mail labelled Latin-1 routinely carries
// Windows-1252 bytes (the euro sign, curly quotes). When the label is unknown or wrong the
// text is still returned: valid UTF-8 as is, anything else as Windows-1252.
func decodeCharset(label string, data []byte) textResult {
	l := strings.ToLower(strings.Trim(strings.TrimSpace(label), `"'`))
	switch l {
	case "iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "latin-1", "l1", "windows-1252", "cp1252":
		if utf8.Valid(data) && !isASCII(data) {
			// Mislabelled UTF-8: Latin-1 text is practically never valid UTF-8 by chance.
			return textResult{text: stripBOM(string(data))}
		}
		return textResult{text: windows1252(data)}
	case "", "utf-8", "utf8", "us-ascii", "ascii", "x-user-defined", "unknown-8bit", "unknown",
		"x-unknown", "default":
		if utf8.Valid(data) {
			return textResult{text: stripBOM(string(data))}
		}
		res := textResult{text: mixedUTF8(data)}
		if l == "utf-8" || l == "utf8" {
			res.note = "dichiarato UTF-8 ma non lo è del tutto: i byte non validi letti come Windows-1252"
		}
		return res
	}
	r, err := charset.Reader(l, bytes.NewReader(data))
	if err != nil {
		return textResult{text: mixedUTF8(data), note: "set di caratteri sconosciuto " + quote(label) + ": letto come UTF-8"}
	}
	out, err := io.ReadAll(r)
	if err != nil {
		return textResult{text: mixedUTF8(data), note: "testo non valido nel set di caratteri " + quote(label) + ": letto come UTF-8"}
	}
	return textResult{text: strings.ToValidUTF8(stripBOM(string(out)), "\uFFFD")}
}

// mixedUTF8 reads text that is mostly UTF-8 with stray 8-bit bytes (a Latin-1 quote inside a
// UTF-8 reply, a Windows-1252 signature): valid sequences stay, every other byte is read as
// Windows-1252.
func mixedUTF8(data []byte) string {
	var b strings.Builder
	b.Grow(len(data) + len(data)/4)
	for len(data) > 0 {
		r, size := utf8.DecodeRune(data)
		if r == utf8.RuneError && size <= 1 {
			b.WriteString(windows1252(data[:1]))
			data = data[1:]
			continue
		}
		b.WriteRune(r)
		data = data[size:]
	}
	return stripBOM(b.String())
}

func isASCII(data []byte) bool {
	for _, c := range data {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

func windows1252(data []byte) string {
	out, err := charmap.Windows1252.NewDecoder().Bytes(data)
	if err != nil {
		// Windows-1252 maps every byte, so this cannot happen; stay safe anyway.
		return strings.ToValidUTF8(string(data), "\uFFFD")
	}
	return string(out)
}

func stripBOM(s string) string { return strings.TrimPrefix(s, "\uFEFF") }

// quote shows a value from the message inside a note, bounded so a hostile header cannot
// make notes huge.
func quote(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	// Notes are stored and shown: a control character (a NUL PostgreSQL cannot store) is shown
	// as the replacement character, so the operator still sees that something was there.
	if hasControlChar(s) {
		s = strings.Map(func(r rune) rune {
			if isControlChar(r) {
				return utf8.RuneError
			}
			return r
		}, s)
	}
	if len(s) > 80 {
		cut := 80
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return `"` + s + `"`
}
