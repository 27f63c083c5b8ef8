package pec

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/textproto"
	"strings"
)

// Bounds on one envelope's structure: a real one has five or six parts, two levels deep.
const (
	maxParts = 100
	maxDepth = 6
)

// entity is one MIME entity: its header and its raw body, as bytes of the input.
type entity struct {
	header textproto.MIMEHeader
	body   []byte
}

// splitEntity separates a header from its body at the first empty line (CRLF or LF).
func splitEntity(raw []byte) (entity, bool) {
	end, skip := -1, 0
	if i := bytes.Index(raw, []byte("\r\n\r\n")); i >= 0 {
		end, skip = i, 4
	}
	if i := bytes.Index(raw, []byte("\n\n")); i >= 0 && (end < 0 || i < end) {
		end, skip = i, 2
	}
	var head, body []byte
	switch {
	case end >= 0:
		head, body = raw[:end+skip/2], raw[end+skip:]
	case bytes.HasPrefix(raw, []byte("\r\n")) || bytes.HasPrefix(raw, []byte("\n")):
		body = raw[bytes.IndexByte(raw, '\n')+1:]
	default:
		head = raw // a header with no body
	}
	h := textproto.MIMEHeader{}
	if len(bytes.TrimSpace(head)) > 0 {
		r := textproto.NewReader(bufio.NewReader(io.MultiReader(bytes.NewReader(head), strings.NewReader("\r\n"))))
		var err error
		if h, err = r.ReadMIMEHeader(); err != nil && len(h) == 0 {
			return entity{}, false
		}
	}
	return entity{header: h, body: body}, true
}

func (e entity) mediaType() (string, map[string]string) {
	ct := e.header.Get("Content-Type")
	if ct == "" {
		return "text/plain", nil
	}
	t, params, err := mime.ParseMediaType(ct)
	if err != nil {
		// A type with a broken parameter still names its type.
		t, _, _ = strings.Cut(ct, ";")
		return strings.ToLower(strings.TrimSpace(t)), params
	}
	return t, params
}

// filename is the part's file name from Content-Disposition, else Content-Type's name.
func (e entity) filename() string {
	if _, p, err := mime.ParseMediaType(e.header.Get("Content-Disposition")); err == nil && p["filename"] != "" {
		return p["filename"]
	}
	if _, p := e.mediaType(); p["name"] != "" {
		return p["name"]
	}
	return ""
}

// decoded is the body with its Content-Transfer-Encoding undone; broken encodings keep what
// decoded before the fault.
func (e entity) decoded() []byte {
	switch strings.ToLower(strings.TrimSpace(e.header.Get("Content-Transfer-Encoding"))) {
	case "base64":
		clean := bytes.Map(func(r rune) rune {
			if r == '\r' || r == '\n' || r == ' ' || r == '\t' {
				return -1
			}
			return r
		}, e.body)
		out, err := base64.StdEncoding.DecodeString(string(clean))
		if err != nil {
			// Unpadded, or broken part way: keep what decodes.
			trimmed := bytes.TrimRight(clean, "=")
			out = make([]byte, base64.RawStdEncoding.DecodedLen(len(trimmed)))
			n, _ := base64.RawStdEncoding.Decode(out, trimmed)
			out = out[:n]
		}
		return out
	case "quoted-printable":
		out, _ := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(e.body)))
		return out
	}
	return e.body
}

// splitMultipart cuts a multipart body at its boundary (RFC 2046): each part runs from the
// line after a delimiter to the line break before the next one, which belongs to the
// delimiter. closed reports whether the close delimiter was found.
func splitMultipart(body []byte, boundary string) (parts [][]byte, closed bool) {
	if boundary == "" {
		return nil, false
	}
	delim := []byte("--" + boundary)
	start := -1 // where the current part's content starts
	pos := 0
	for pos <= len(body) {
		lineEnd := bytes.IndexByte(body[pos:], '\n')
		next := len(body)
		line := body[pos:]
		if lineEnd >= 0 {
			line = body[pos : pos+lineEnd]
			next = pos + lineEnd + 1
		}
		trimmed := bytes.TrimRight(line, " \t\r")
		if bytes.HasPrefix(trimmed, delim) {
			rest := trimmed[len(delim):]
			isClose := bytes.Equal(rest, []byte("--"))
			if len(rest) == 0 || isClose {
				if start >= 0 {
					end := pos
					// The line break before the delimiter is part of it.
					if end > start && body[end-1] == '\n' {
						end--
						if end > start && body[end-1] == '\r' {
							end--
						}
					}
					parts = append(parts, body[start:end])
					if len(parts) >= maxParts {
						return parts, false
					}
				}
				if isClose {
					return parts, true
				}
				start = next
			}
		}
		if lineEnd < 0 {
			break
		}
		pos = next
	}
	if start >= 0 && start < len(body) {
		parts = append(parts, body[start:]) // unterminated: keep what there is
	}
	return parts, false
}

// canonical turns bare LF line ends into CRLF, the form S/MIME signs (RFC 5751, 3.1.1).
func canonical(b []byte) []byte {
	if !bytes.Contains(b, []byte("\n")) {
		return b
	}
	var out bytes.Buffer
	out.Grow(len(b) + len(b)/40)
	for i, c := range b {
		if c == '\n' && (i == 0 || b[i-1] != '\r') {
			out.WriteByte('\r')
		}
		out.WriteByte(c)
	}
	return out.Bytes()
}
