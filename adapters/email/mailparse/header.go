package mailparse

import (
	"bytes"
	"mime"
	"net/textproto"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/charset"
	"github.com/emersion/go-message/mail"
)

const (
	// maxHeaderBytes bounds one entity's header section; fields past it are dropped.
	maxHeaderBytes = 1 << 20
	// maxHeaderFields bounds the number of fields kept from one header section.
	maxHeaderFields = 5000
	// maxIDLength bounds a Message-ID we are willing to use as an external id.
	maxIDLength = 512
	// maxReferences keeps the most recent ids of a very long References chain.
	maxReferences = 100
)

type field struct {
	key   string // canonical form
	value string // unfolded, still encoded
}

// entityHeader is the header section of a message or part, read leniently.
type entityHeader struct {
	fields []field
	// problem says what was wrong with the header section, "" when nothing was.
	problem string
}

// get returns the first value of a field ("" when absent).
func (h *entityHeader) get(key string) string {
	key = textproto.CanonicalMIMEHeaderKey(key)
	for _, f := range h.fields {
		if f.key == key {
			return f.value
		}
	}
	return ""
}

func (h *entityHeader) has(key string) bool {
	key = textproto.CanonicalMIMEHeaderKey(key)
	for _, f := range h.fields {
		if f.key == key {
			return true
		}
	}
	return false
}

// mailHeader exposes the fields to go-message's mail helpers. go-message's Get answers the most
// recently added value, so fields are added last to first to make it answer the first one.
func (h *entityHeader) mailHeader() mail.Header {
	var mh message.Header
	for i := len(h.fields) - 1; i >= 0; i-- {
		mh.Add(h.fields[i].key, h.fields[i].value)
	}
	return mail.Header{Header: mh}
}

func validKeyByte(c byte) bool { return c >= 33 && c <= 126 && c != ':' }

// readHeader splits an entity into its header fields and its body. It never fails: a line
// that is not a field ends the header (the mail had no blank line), fields past the size bound
// are dropped, and the problem is recorded. ok is false when the entity does not start with a
// header field at all (the caller decides whether an empty header is acceptable).
func readHeader(raw []byte) (h entityHeader, body []byte, ok bool) {
	pos := 0
	size := 0
	dropped := 0
	// Folded values are gathered as byte slices and turned into strings once, at the end, so a
	// field folded over thousands of lines costs linear time.
	var values [][]byte
	defer func() {
		for i := range h.fields {
			h.fields[i].value = strings.TrimSpace(string(values[i]))
		}
		if dropped > 0 {
			h.problem = "intestazione troppo grande: " + strconv.Itoa(dropped) + " righe ignorate"
		}
	}()
	for pos < len(raw) {
		end := bytes.IndexByte(raw[pos:], '\n')
		next := len(raw)
		line := raw[pos:]
		if end >= 0 {
			line = raw[pos : pos+end]
			next = pos + end + 1
		}
		line = bytes.TrimSuffix(line, []byte{'\r'})
		if len(line) == 0 {
			return h, raw[next:], true
		}
		if line[0] == ' ' || line[0] == '\t' {
			switch {
			case dropped > 0:
			case len(h.fields) == 0:
				h.problem = "intestazione che inizia con una riga di continuazione"
			default:
				size += len(line)
				if size > maxHeaderBytes {
					dropped++
					break
				}
				values[len(values)-1] = append(values[len(values)-1], line...)
			}
			pos = next
			continue
		}
		colon := bytes.IndexByte(line, ':')
		key := []byte(nil)
		if colon > 0 {
			key = bytes.TrimRight(line[:colon], " \t")
		}
		valid := len(key) > 0
		for _, c := range key {
			if !validKeyByte(c) {
				valid = false
				break
			}
		}
		if !valid {
			// Not a field: the header ended without its blank line and this is the body.
			if len(h.fields) == 0 && h.problem == "" {
				return h, raw[pos:], false
			}
			h.problem = "intestazione non terminata da una riga vuota"
			return h, raw[pos:], true
		}
		size += len(line)
		if size > maxHeaderBytes || len(h.fields) >= maxHeaderFields {
			dropped++
		} else {
			h.fields = append(h.fields, field{key: textproto.CanonicalMIMEHeaderKey(string(key))})
			// Cap-limited so appending a continuation copies instead of writing into raw.
			v := line[colon+1:]
			values = append(values, v[:len(v):len(v)])
		}
		pos = next
	}
	return h, nil, len(h.fields) > 0
}

// wordDecoder decodes RFC 2047 encoded words in any charset go-message knows.
var wordDecoder = &mime.WordDecoder{CharsetReader: charset.Reader}

// decodeText decodes an unstructured header value (Subject, a display name, a file name):
// RFC 2047 encoded words, and raw 8-bit text that is not UTF-8 read as Windows-1252.
func decodeText(s string) string {
	if strings.Contains(s, "=?") {
		if d, err := wordDecoder.DecodeHeader(s); err == nil {
			s = d
		} else if d, ok := decodeWordsLeniently(s); ok {
			s = d
		}
	}
	if !utf8.ValidString(s) {
		s = mixedUTF8([]byte(s))
	}
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' || r == '\t' {
			return ' '
		}
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

var encodedWord = regexp.MustCompile(`=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=`)

// decodeWordsLeniently decodes the encoded words that can be decoded one by one, leaving the
// rest as they are (the standard decoder gives up on the whole value at the first bad word).
func decodeWordsLeniently(s string) (string, bool) {
	changed := false
	out := encodedWord.ReplaceAllStringFunc(s, func(w string) string {
		if d, err := wordDecoder.Decode(w); err == nil {
			changed = true
			return d
		}
		// An unknown charset: decode the bytes and read them as best we can.
		parts := strings.SplitN(w[2:len(w)-2], "?", 3)
		if len(parts) != 3 {
			return w
		}
		var raw []byte
		if strings.EqualFold(parts[1], "b") {
			raw = decodeBase64([]byte(parts[2]), int64(len(parts[2]))).data
		} else {
			raw = decodeQuotedPrintable([]byte(strings.ReplaceAll(parts[2], "_", " ")), int64(len(parts[2]))).data
		}
		changed = true
		return decodeCharset("", raw).text
	})
	// Adjacent encoded words are joined without the whitespace between them.
	return out, changed
}

// address is one parsed mailbox.
type address struct {
	name string
	addr string
}

var looseAddress = regexp.MustCompile(`[^\s<>"',;:()\[\]]+@[^\s<>"',;:()\[\]]+`)

// parseAddresses reads an address list, falling back to picking out anything that looks like
// an address when the list is not valid RFC 5322.
func parseAddresses(value string) []address {
	if strings.TrimSpace(value) == "" {
		return nil
	}
	if list, err := mail.ParseAddressList(value); err == nil && len(list) > 0 {
		out := make([]address, 0, len(list))
		for _, a := range list {
			out = append(out, address{name: decodeText(a.Name), addr: a.Address})
		}
		return out
	}
	locs := looseAddress.FindAllStringIndex(value, 50)
	out := make([]address, 0, len(locs))
	prev := 0
	for _, loc := range locs {
		name := value[prev:loc[0]]
		prev = loc[1]
		name = strings.TrimLeft(name, ", ;>")
		name = strings.TrimRight(name, " <\t")
		name = strings.Trim(strings.TrimSpace(name), `"'`)
		addr := dropControlChars(value[loc[0]:loc[1]])
		if at := strings.LastIndexByte(addr, '@'); at <= 0 || at == len(addr)-1 {
			continue // nothing but control characters on one side of the "@"
		}
		out = append(out, address{name: strings.TrimSpace(decodeText(name)), addr: addr})
	}
	return out
}

// isControlChar reports the C0 controls and DEL: no mail header may carry them (RFC 5322), go-message
// refuses to write a header holding CR or LF, and PostgreSQL cannot store NUL in text.
func isControlChar(r rune) bool { return r < 0x20 || r == 0x7f }

func hasControlChar(s string) bool { return strings.IndexFunc(s, isControlChar) >= 0 }

// dropControlChars removes control characters. The loose address fallback needs it: the strict
// parser refuses them, but the fallback takes whatever surrounds an "@".
func dropControlChars(s string) string {
	if !hasControlChar(s) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if isControlChar(r) {
			return -1
		}
		return r
	}, s)
}

// parseMsgIDs reads msg-ids ("<a@b> <c@d>"), leniently: without brackets, ids are taken as
// whitespace-separated words.
func parseMsgIDs(value string) []string {
	var ids []string
	rest := value
	if strings.Contains(rest, "<") {
		for {
			i := strings.IndexByte(rest, '<')
			if i < 0 {
				break
			}
			j := strings.IndexByte(rest[i:], '>')
			if j < 0 {
				ids = appendID(ids, rest[i+1:])
				break
			}
			ids = appendID(ids, rest[i+1:i+j])
			rest = rest[i+j+1:]
		}
	} else {
		for _, w := range strings.FieldsFunc(value, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
			ids = appendID(ids, w)
		}
	}
	return ids
}

// appendID keeps an id only when it can be stored and written back into the In-Reply-To and
// References of our replies: an id with a control character (a NUL, a stray CR) is dropped, as
// a message without a Message-ID gets one of our own.
func appendID(ids []string, id string) []string {
	id = strings.TrimSpace(id)
	if id == "" || len(id) > maxIDLength || strings.ContainsAny(id, " <>") || hasControlChar(id) || !utf8.ValidString(id) {
		return ids
	}
	return append(ids, id)
}

// mediaType is a parsed Content-Type or Content-Disposition.
type mediaType struct {
	value  string // lower-case: "text/plain", "attachment"
	params map[string]string
}

// parseMediaType reads a Content-Type or Content-Disposition value. The standard library
// rejects whole values for small mistakes and only decodes RFC 2231 in UTF-8; this keeps every
// parameter it can read and decodes RFC 2231 in any charset go-message knows.
func parseMediaType(v string) mediaType {
	mt := mediaType{params: map[string]string{}}
	parts := splitParams(v)
	if len(parts) == 0 {
		return mt
	}
	mt.value = strings.ToLower(strings.TrimSpace(parts[0]))
	type ext struct {
		charset string
		pieces  map[int]string
		encoded map[int]bool
	}
	exts := map[string]*ext{}
	for _, p := range parts[1:] {
		eq := strings.IndexByte(p, '=')
		if eq <= 0 {
			continue
		}
		key := strings.ToLower(strings.TrimSpace(p[:eq]))
		val := unquote(strings.TrimSpace(p[eq+1:]))
		if key == "" {
			continue
		}
		if !strings.Contains(key, "*") {
			if _, dup := mt.params[key]; !dup {
				mt.params[key] = val
			}
			continue
		}
		// RFC 2231: name*=charset'lang'value, name*0=..., name*1*=...
		encoded := strings.HasSuffix(key, "*")
		key = strings.TrimSuffix(key, "*")
		name, idx := key, 0
		if star := strings.IndexByte(key, '*'); star >= 0 {
			n, err := strconv.Atoi(key[star+1:])
			if err != nil || n < 0 || n > 1000 {
				continue
			}
			name, idx = key[:star], n
		}
		e := exts[name]
		if e == nil {
			e = &ext{pieces: map[int]string{}, encoded: map[int]bool{}}
			exts[name] = e
		}
		if encoded && idx == 0 {
			if first := strings.IndexByte(val, '\''); first >= 0 {
				if second := strings.IndexByte(val[first+1:], '\''); second >= 0 {
					e.charset = val[:first]
					val = val[first+1+second+1:]
				}
			}
		}
		e.pieces[idx] = val
		e.encoded[idx] = encoded
	}
	for name, e := range exts {
		var raw []byte
		for i := 0; ; i++ {
			piece, ok := e.pieces[i]
			if !ok {
				break
			}
			if e.encoded[i] {
				raw = append(raw, percentDecode(piece)...)
			} else {
				raw = append(raw, piece...)
			}
		}
		if len(raw) == 0 {
			continue
		}
		// An RFC 2231 value wins over a plain one of the same name: it is the precise one.
		mt.params[name] = decodeCharset(e.charset, raw).text
	}
	return mt
}

// splitParams splits on semicolons outside quoted strings.
func splitParams(v string) []string {
	var parts []string
	inQuote, escaped := false, false
	start := 0
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case escaped:
			escaped = false
		case c == '\\' && inQuote:
			escaped = true
		case c == '"':
			inQuote = !inQuote
		case c == ';' && !inQuote:
			parts = append(parts, v[start:i])
			start = i + 1
		}
	}
	return append(parts, v[start:])
}

func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' {
		end := len(s)
		if s[end-1] == '"' {
			end--
		}
		var b strings.Builder
		for i := 1; i < end; i++ {
			if s[i] == '\\' && i+1 < end {
				i++
			}
			b.WriteByte(s[i])
		}
		return b.String()
	}
	return s
}

func percentDecode(s string) []byte {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			hi, ok1 := unhex(s[i+1])
			lo, ok2 := unhex(s[i+2])
			if ok1 && ok2 {
				out = append(out, hi<<4|lo)
				i += 2
				continue
			}
		}
		out = append(out, s[i])
	}
	return out
}
