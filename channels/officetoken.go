package channels

import (
	"crypto/rand"
	"slices"
	"strings"
)

// An office token marks the subject of our mail to an office ("[#K7Q2ZPAB]"): the office's
// answer joins the citizen's thread by it when the office's mailer dropped In-Reply-To and
// References (webmail, a shared mailbox, a ticket system that sends a fresh mail). Like the
// Message-ID of that mail it reaches the office alone, and it admits only mail from the very
// address it was issued to (the store's threading).
const (
	// OfficeTokenLength symbols of officeTokenAlphabet: 31^8, about 39.6 bits.
	OfficeTokenLength = 8
	// No 0/O, 1/I/L: an office that copies the token by hand does not mistake one for the
	// other, and no two tokens differ by case alone, so case is ignored when one is read.
	officeTokenAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
	officeTokenOpen     = "[#"
	officeTokenClose    = "]"
	// maxOfficeTokens bounds the tokens read from one subject: a subject stuffed with
	// hundreds of them would otherwise cost as many lookups.
	maxOfficeTokens = 8
)

// NewOfficeToken draws a token from crypto/rand (which never fails: it stops the program on
// a system without randomness). Rejection sampling keeps every symbol equally likely.
func NewOfficeToken() string {
	const limit = 256 - 256%len(officeTokenAlphabet) // 248: bytes at or above it would favour the first symbols
	out := make([]byte, 0, OfficeTokenLength)
	var buf [2 * OfficeTokenLength]byte
	for len(out) < OfficeTokenLength {
		_, _ = rand.Read(buf[:])
		for _, b := range buf {
			if int(b) < limit && len(out) < OfficeTokenLength {
				out = append(out, officeTokenAlphabet[int(b)%len(officeTokenAlphabet)])
			}
		}
	}
	return string(out)
}

// OfficeTokenTag is the token as the subject carries it.
func OfficeTokenTag(token string) string { return officeTokenOpen + token + officeTokenClose }

// WithOfficeToken ends a subject with the token's tag, after taking out any tag it held
// already (a subject quoting another office's mail must not hand that office's token on).
func WithOfficeToken(subject, token string) string {
	subject = strings.TrimSpace(WithoutOfficeTokenTags(subject))
	if subject == "" {
		return OfficeTokenTag(token)
	}
	return subject + " " + OfficeTokenTag(token)
}

// OfficeTokensIn reads the tokens tagged in a subject, upper case, each once, in the order
// they appear, at most maxOfficeTokens of them.
func OfficeTokensIn(subject string) []string {
	var tokens []string
	for _, span := range officeTokenTags(subject) {
		tok := strings.ToUpper(subject[span[0]+len(officeTokenOpen) : span[1]-len(officeTokenClose)])
		if !slices.Contains(tokens, tok) {
			tokens = append(tokens, tok)
			if len(tokens) == maxOfficeTokens {
				break
			}
		}
	}
	return tokens
}

// WithoutOfficeTokenTags takes every token-shaped tag out of a text, with the space before it.
func WithoutOfficeTokenTags(text string) string {
	return withoutTags(text, isOfficeToken)
}

// WithoutOfficeTokens takes the given tokens out of a text, in any case: what the citizen is
// shown of a thread (their export) must not hand them a token of ours, and an office's answer
// may quote our subject anywhere in its text. A tag goes with the space before it; a bare
// token becomes "[…]", which no token can run across, so two halves left around it never
// join into one. Other text stays as it was.
func WithoutOfficeTokens(text string, tokens []string) string {
	if len(tokens) == 0 || text == "" {
		return text
	}
	text = withoutTags(text, func(tok string) bool {
		return slices.ContainsFunc(tokens, func(t string) bool { return asciiEqualFold(t, tok) })
	})
	for _, tok := range tokens {
		text = replaceFold(text, tok, "[…]")
	}
	return text
}

// withoutTags copies text without the "[#", OfficeTokenLength bytes, "]" tags whose inside
// isTag accepts (and the space before each). It checks for a tag each time a "]" is copied,
// so a tag that two halves around a removed one would form is removed too, in one pass.
func withoutTags(text string, isTag func(string) bool) string {
	const tagLen = len(officeTokenOpen) + OfficeTokenLength + len(officeTokenClose)
	if !strings.Contains(text, officeTokenOpen) {
		return text
	}
	out := make([]byte, 0, len(text))
	for i := 0; i < len(text); i++ {
		out = append(out, text[i])
		if text[i] != officeTokenClose[0] || len(out) < tagLen {
			continue
		}
		tag := out[len(out)-tagLen:]
		if string(tag[:len(officeTokenOpen)]) != officeTokenOpen || !isTag(string(tag[len(officeTokenOpen):tagLen-len(officeTokenClose)])) {
			continue
		}
		out = out[:len(out)-tagLen]
		if n := len(out); n > 0 && out[n-1] == ' ' {
			out = out[:n-1]
		}
	}
	return string(out)
}

// officeTokenTags finds the byte spans of the token-shaped tags in s: "[#", OfficeTokenLength
// symbols of the alphabet in either case, "]".
func officeTokenTags(s string) [][2]int {
	const tagLen = len(officeTokenOpen) + OfficeTokenLength + len(officeTokenClose)
	var spans [][2]int
	for i := 0; i+tagLen <= len(s); {
		j := strings.Index(s[i:], officeTokenOpen)
		if j < 0 {
			break
		}
		start := i + j
		end := start + tagLen
		if end > len(s) {
			break
		}
		if s[end-1] == officeTokenClose[0] && isOfficeToken(s[start+len(officeTokenOpen):end-len(officeTokenClose)]) {
			spans = append(spans, [2]int{start, end})
			i = end
			continue
		}
		i = start + 1
	}
	return spans
}

func isOfficeToken(s string) bool {
	if len(s) != OfficeTokenLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(officeTokenAlphabet, upperASCII(s[i])) < 0 {
			return false
		}
	}
	return true
}

// replaceFold replaces every occurrence of old (ASCII, matched without case) in s.
func replaceFold(s, old, repl string) string {
	if old == "" {
		return s
	}
	var b strings.Builder
	last := 0
	for i := 0; i+len(old) <= len(s); {
		if asciiEqualFold(s[i:i+len(old)], old) {
			b.WriteString(s[last:i])
			b.WriteString(repl)
			i += len(old)
			last = i
			continue
		}
		i++
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// asciiEqualFold compares without case for ASCII letters only: strings.EqualFold would also
// match the Kelvin sign to a K, and a token is ASCII.
func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if upperASCII(a[i]) != upperASCII(b[i]) {
			return false
		}
	}
	return true
}

func upperASCII(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - ('a' - 'A')
	}
	return c
}
