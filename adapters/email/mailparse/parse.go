// Package mailparse turns a raw RFC 5322 message into a channels.InboundMessage: the sender,
// subject, threading ids, readable body text and every attachment. It is built for mail as it
// really arrives at a municipal help desk: broken MIME, wrong charsets, truncated attachments,
// auto-replies and bounces. It keeps what it can read, records in Notes what it could not, and
// fails only when the input is not a message at all.
package mailparse

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/microcosm-cc/bluemonday"

	"github.com/sportello/sportello/channels"
)

// Defaults of Options.
const (
	DefaultMaxParts           = 500
	DefaultMaxDepth           = 20
	DefaultMaxAttachmentBytes = 25 << 20
)

// maxNotes bounds the notes of one message: a message with thousands of broken parts gets a
// summary, not thousands of lines.
const maxNotes = 50

// Options bound the work Parse does on one message. Zero values mean the defaults.
type Options struct {
	// MaxParts is the most MIME parts read; the rest is kept unread as a raw attachment.
	MaxParts int
	// MaxDepth is the deepest nesting of multiparts and forwarded messages read.
	MaxDepth int
	// MaxAttachmentBytes bounds one decoded part; a larger one keeps its first bytes.
	MaxAttachmentBytes int64
	// Now stamps messages without a readable Date header (time.Now when nil).
	Now func() time.Time
}

func (o Options) withDefaults() (Options, error) {
	if o.MaxParts == 0 {
		o.MaxParts = DefaultMaxParts
	}
	if o.MaxDepth == 0 {
		o.MaxDepth = DefaultMaxDepth
	}
	if o.MaxAttachmentBytes == 0 {
		o.MaxAttachmentBytes = DefaultMaxAttachmentBytes
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	switch {
	case o.MaxParts < 1:
		return o, fmt.Errorf("mailparse: MaxParts must be positive, got %d", o.MaxParts)
	case o.MaxDepth < 1:
		return o, fmt.Errorf("mailparse: MaxDepth must be positive, got %d", o.MaxDepth)
	case o.MaxAttachmentBytes < 1:
		return o, fmt.Errorf("mailparse: MaxAttachmentBytes must be positive, got %d", o.MaxAttachmentBytes)
	}
	return o, nil
}

// ParseError reports input that is not an email message at all, so nothing could be stored.
// Anything less (a broken part, a bad charset) is not an error but a note on the message.
type ParseError struct {
	Reason string
}

func (e *ParseError) Error() string { return "mailparse: not an email message: " + e.Reason }

// Parse reads one raw message. It returns a *ParseError only when the input has no header
// section; every other defect leaves a note in the result's Notes. An error from r itself is
// returned wrapped, since a half-read message must not be acknowledged.
func Parse(r io.Reader, opts Options) (channels.InboundMessage, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return channels.InboundMessage{}, err
	}
	if b, ok := r.(*bytes.Buffer); ok {
		// The caller holds the whole message already; parse only reads it.
		return parse(b.Bytes(), opts)
	}
	raw, err := io.ReadAll(r)
	if err != nil {
		return channels.InboundMessage{}, fmt.Errorf("mailparse: reading message: %w", err)
	}
	return parse(raw, opts)
}

// messageFields are fields at least one of which a real message header has.
var messageFields = []string{"From", "Sender", "To", "Cc", "Bcc", "Subject", "Date", "Message-Id",
	"Received", "Return-Path", "Mime-Version", "Content-Type", "Reply-To", "Delivered-To",
	"In-Reply-To", "References"}

func parse(raw []byte, opts Options) (channels.InboundMessage, error) {
	p := &parser{opts: opts}
	start := skipPreamble(raw)
	h, body, ok := readHeader(raw[start:])
	if !ok {
		if len(bytes.TrimSpace(raw)) == 0 {
			return channels.InboundMessage{}, &ParseError{Reason: "empty input"}
		}
		return channels.InboundMessage{}, &ParseError{Reason: "no header section"}
	}
	known := false
	for _, k := range messageFields {
		if h.has(k) {
			known = true
			break
		}
	}
	if !known {
		return channels.InboundMessage{}, &ParseError{Reason: "no message header fields (From, To, Subject, Date...)"}
	}
	if h.problem != "" {
		p.note("%s", h.problem)
	}

	in := channels.InboundMessage{Channel: channels.Email}
	p.readEnvelope(&h, &in)
	if in.MessageID == "" {
		sum := sha256.Sum256(raw)
		in.MessageID = "sha256-" + hex.EncodeToString(sum[:]) + "@sportello.invalid"
	}
	in.ExternalID = in.MessageID

	topType := parseMediaType(h.get("Content-Type")).value
	segs := p.entity(&h, body, 0, "text/plain")
	in.Body = p.render(segs)
	in.Attachments = p.attachments
	in.AutoReply = isAutoReply(&h, in.From, topType)
	if p.skippedNotes > 0 {
		p.notes = append(p.notes, fmt.Sprintf("altri %d problemi non elencati", p.skippedNotes))
	}
	in.Notes = p.notes
	return in, nil
}

// skipPreamble skips an mbox "From " separator line and blank lines before the header.
func skipPreamble(raw []byte) int {
	pos := 0
	if bytes.HasPrefix(raw, []byte("From ")) {
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			pos = i + 1
		} else {
			return len(raw)
		}
	}
	for pos < len(raw) && (raw[pos] == '\r' || raw[pos] == '\n') {
		pos++
	}
	return pos
}

type parser struct {
	opts         Options
	parts        int
	notes        []string
	skippedNotes int
	attachments  []channels.Attachment
	policy       *bluemonday.Policy
}

// segment is a piece of body text in document order; HTML is converted when the body is
// assembled, after multipart/alternative has picked its part.
type segment struct {
	text string
	html bool
}

func (p *parser) note(format string, args ...any) {
	if len(p.notes) >= maxNotes {
		p.skippedNotes++
		return
	}
	p.notes = append(p.notes, fmt.Sprintf(format, args...))
}

func (p *parser) readEnvelope(h *entityHeader, in *channels.InboundMessage) {
	from := parseAddresses(h.get("From"))
	if len(from) == 0 {
		for _, k := range []string{"Sender", "Reply-To", "Return-Path"} {
			if from = parseAddresses(h.get(k)); len(from) > 0 {
				p.note("nessun mittente leggibile nel campo From: usato %s", k)
				break
			}
		}
	}
	if len(from) > 0 {
		in.FromName = from[0].name
		if addr, err := channels.NormalizeEmail(from[0].addr); err == nil {
			in.From = addr
		} else {
			in.From = strings.ToLower(from[0].addr)
			p.note("indirizzo del mittente non valido: %s", quote(from[0].addr))
		}
	} else {
		p.note("nessun mittente: %s", quote(h.get("From")))
	}
	if to := parseAddresses(h.get("To")); len(to) > 0 {
		if addr, err := channels.NormalizeEmail(to[0].addr); err == nil {
			in.To = addr
		} else {
			in.To = strings.ToLower(to[0].addr)
		}
	}
	in.Subject = decodeText(h.get("Subject"))
	if ids := parseMsgIDs(h.get("Message-Id")); len(ids) > 0 {
		in.MessageID = ids[0]
	}
	if ids := parseMsgIDs(h.get("In-Reply-To")); len(ids) > 0 {
		in.InReplyTo = ids[0]
	}
	refs := parseMsgIDs(h.get("References"))
	if len(refs) > maxReferences {
		refs = refs[len(refs)-maxReferences:]
	}
	in.References = refs

	in.ReceivedAt = p.opts.Now()
	if d := h.get("Date"); d != "" {
		if t, ok := parseDate(h, d); ok {
			in.ReceivedAt = t
		} else {
			p.note("data non leggibile %s: usata l'ora di ricezione", quote(d))
		}
	}
}

var dateComment = regexp.MustCompile(`\([^)]*\)`)

// parseDate reads a Date field with go-message's parser and, failing that, a few shapes seen
// in the wild (comments, missing seconds, a time zone name, a missing weekday comma).
func parseDate(h *entityHeader, v string) (time.Time, bool) {
	// Most mail writes RFC 5322's own layout: net/mail tries dozens of layouts before it, each
	// failure an allocated error (2 % of the SMTP server's CPU).
	if t, err := time.Parse(time.RFC1123Z, strings.TrimSpace(v)); err == nil {
		return t.UTC(), true
	}
	mh := h.mailHeader()
	if t, err := mh.Date(); err == nil && !t.IsZero() {
		return t.UTC(), true
	}
	s := strings.Join(strings.Fields(dateComment.ReplaceAllString(v, " ")), " ")
	if t, err := mail.ParseDate(s); err == nil {
		return t.UTC(), true
	}
	layouts := []string{
		"Mon, 2 Jan 2006 15:04:05 -0700", "Mon 2 Jan 2006 15:04:05 -0700", "2 Jan 2006 15:04:05 -0700",
		"Mon, 2 Jan 2006 15:04 -0700", "Mon, 2 Jan 2006 15:04:05 MST", "Mon, 2 Jan 2006 15:04:05",
		"2006-01-02 15:04:05 -0700", "2006-01-02T15:04:05Z07:00", "02/01/2006 15:04:05",
		"Mon Jan 2 15:04:05 2006", "Mon Jan 2 15:04:05 MST 2006",
	}
	for _, l := range layouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// entity reads one message or part.
func (p *parser) entity(h *entityHeader, body []byte, depth int, defaultType string) []segment {
	p.parts++
	ct := parseMediaType(h.get("Content-Type"))
	mt := ct.value
	if !validMediaType(mt) {
		if mt != "" {
			p.note("tipo di contenuto non valido %s: letto come %s", quote(mt), defaultType)
		}
		mt = defaultType
	}
	cte := h.get("Content-Transfer-Encoding")
	switch {
	case strings.HasPrefix(mt, "multipart/"):
		return p.multipart(h, mt, ct.params, body, depth)
	case mt == "message/rfc822" || mt == "message/global":
		return p.forwarded(h, cte, body, depth)
	}
	return p.leaf(h, mt, ct.params, cte, body)
}

var mediaTypeSyntax = regexp.MustCompile(`^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$`)

func validMediaType(mt string) bool { return mediaTypeSyntax.MatchString(mt) }

func (p *parser) multipart(h *entityHeader, mt string, params map[string]string, body []byte, depth int) []segment {
	boundary := params["boundary"]
	if boundary == "" || len(boundary) > 200 {
		p.note("%s senza boundary valido: letto come testo", mt)
		return p.leaf(h, "text/plain", params, h.get("Content-Transfer-Encoding"), body)
	}
	if depth >= p.opts.MaxDepth {
		p.keepUnread(body, fmt.Sprintf("annidamento oltre %d livelli", p.opts.MaxDepth))
		return nil
	}
	childType := "text/plain"
	if mt == "multipart/digest" {
		childType = "message/rfc822"
	}
	sc := partScanner{body: body, delim: []byte("--" + boundary), cur: -1}
	var children [][]segment
	found := false
	for {
		start, end, ok := sc.next()
		if !ok {
			break
		}
		found = true
		if p.parts >= p.opts.MaxParts {
			p.keepUnread(body[start:], fmt.Sprintf("più di %d parti", p.opts.MaxParts))
			break
		}
		ph, pbody, _ := readHeader(body[start:end])
		if ph.problem != "" {
			p.note("parte %d di %s: %s", len(children)+1, mt, ph.problem)
		}
		children = append(children, p.entity(&ph, pbody, depth+1, childType))
	}
	if !found {
		if guess := guessBoundary(body); guess != "" && guess != boundary {
			p.note("%s: boundary %s non trovato, usato %s trovato nel testo", mt, quote(boundary), quote(guess))
			params := map[string]string{"boundary": guess}
			return p.multipart(h, mt, params, body, depth)
		}
		p.note("%s: boundary %s non trovato, letto come testo", mt, quote(boundary))
		return p.leaf(h, "text/plain", nil, "", body)
	}
	if sc.unclosed {
		p.note("%s non chiuso: il messaggio potrebbe essere troncato", mt)
	}
	if mt == "multipart/alternative" {
		return pickAlternative(children)
	}
	var out []segment
	for _, c := range children {
		out = append(out, c...)
	}
	return out
}

// pickAlternative prefers the plain-text version, then any version with text (HTML).
func pickAlternative(children [][]segment) []segment {
	var fallback []segment
	for _, c := range children {
		hasPlain, hasAny := false, false
		for _, s := range c {
			if strings.TrimSpace(s.text) == "" {
				continue
			}
			hasAny = true
			if !s.html {
				hasPlain = true
			}
		}
		if hasPlain {
			return c
		}
		if hasAny && fallback == nil {
			fallback = c
		}
	}
	return fallback
}

// keepUnread stores content the parser did not read as a raw attachment, so nothing is lost.
func (p *parser) keepUnread(raw []byte, why string) {
	name := fmt.Sprintf("parti-non-lette-%d.eml", len(p.attachments)+1)
	p.attachments = append(p.attachments, channels.Attachment{
		Filename: name, ContentType: "application/octet-stream", Size: int64(len(raw)), Data: raw[:len(raw):len(raw)],
	})
	p.note("%s: contenuto non letto conservato come %s", why, quote(name))
}

// forwarded inlines a message/rfc822 part: its header block and body go into the body text,
// clearly marked, and its attachments join the message's.
func (p *parser) forwarded(h *entityHeader, cte string, body []byte, depth int) []segment {
	dec := decodeTransfer(cte, body, int64(len(body))+1)
	p.noteDecode("messaggio inoltrato", dec)
	if depth >= p.opts.MaxDepth {
		p.keepUnread(dec.data, fmt.Sprintf("annidamento oltre %d livelli", p.opts.MaxDepth))
		return nil
	}
	if p.parts >= p.opts.MaxParts {
		p.keepUnread(dec.data, fmt.Sprintf("più di %d parti", p.opts.MaxParts))
		return nil
	}
	ih, ibody, ok := readHeader(dec.data)
	if !ok {
		p.note("messaggio inoltrato senza intestazione: conservato come allegato")
		p.addAttachment(h, "message/rfc822", nil, dec)
		return nil
	}
	if ih.problem != "" {
		p.note("messaggio inoltrato: %s", ih.problem)
	}
	inner := p.entity(&ih, ibody, depth+1, "text/plain")

	var b strings.Builder
	b.WriteString("---------- Messaggio inoltrato ----------\n")
	if from := parseAddresses(ih.get("From")); len(from) > 0 {
		b.WriteString("Da: " + formatAddress(from[0]) + "\n")
	}
	if d := ih.get("Date"); d != "" {
		b.WriteString("Data: " + decodeText(d) + "\n")
	}
	if s := ih.get("Subject"); s != "" {
		b.WriteString("Oggetto: " + decodeText(s) + "\n")
	}
	if to := parseAddresses(ih.get("To")); len(to) > 0 {
		parts := make([]string, 0, len(to))
		for _, a := range to {
			parts = append(parts, formatAddress(a))
		}
		b.WriteString("A: " + strings.Join(parts, ", ") + "\n")
	}
	if text := p.render(inner); text != "" {
		b.WriteString("\n" + text + "\n")
	}
	b.WriteString("---------- Fine messaggio inoltrato ----------")
	return []segment{{text: b.String()}}
}

func formatAddress(a address) string {
	if a.name == "" {
		return a.addr
	}
	return a.name + " <" + a.addr + ">"
}

// bodyTypes are parts read as body text when they are not attachments.
var bodyTypes = map[string]bool{
	"text/plain": true, "text/html": true,
	// A bounce's machine-readable report is text an operator can read.
	"message/delivery-status": true, "message/disposition-notification": true,
	"message/global-delivery-status": true,
}

func (p *parser) leaf(h *entityHeader, mt string, params map[string]string, cte string, body []byte) []segment {
	disp := parseMediaType(h.get("Content-Disposition"))
	filename := disp.params["filename"]
	if filename == "" {
		filename = params["name"]
	}
	if !bodyTypes[mt] || disp.value == "attachment" || filename != "" {
		p.addAttachment(h, mt, params, decodeTransfer(cte, body, p.opts.MaxAttachmentBytes))
		return nil
	}
	dec := decodeTransfer(cte, body, p.opts.MaxAttachmentBytes)
	p.noteDecode("testo del messaggio", dec)
	tr := decodeCharset(params["charset"], dec.data)
	if tr.note != "" {
		p.note("testo del messaggio: %s", tr.note)
	}
	text := strings.ReplaceAll(tr.text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\x00", "")
	if mt == "text/html" {
		return []segment{{text: text, html: true}}
	}
	if strings.EqualFold(params["format"], "flowed") {
		text = unflow(text, strings.EqualFold(params["delsp"], "yes"))
	}
	return []segment{{text: text}}
}

func (p *parser) noteDecode(what string, dec decodeResult) {
	if dec.unknownEncoding != "" {
		p.note("%s: codifica %s sconosciuta, conservato così com'è", what, quote(dec.unknownEncoding))
	}
	if dec.truncated {
		p.note("%s: dati base64 troncati, conservati %d byte", what, len(dec.data))
	}
	if dec.invalid > 0 {
		p.note("%s: %d caratteri non validi nella codifica ignorati", what, dec.invalid)
	}
	if dec.overLimit {
		p.note("%s: oltre il limite di %d byte, conservati solo i primi %d", what, p.opts.MaxAttachmentBytes, len(dec.data))
	}
}

func (p *parser) addAttachment(h *entityHeader, mt string, params map[string]string, dec decodeResult) {
	disp := parseMediaType(h.get("Content-Disposition"))
	name := disp.params["filename"]
	if name == "" {
		name = params["name"]
	}
	name = cleanFilename(decodeText(name))
	if name == "" {
		name = fmt.Sprintf("allegato-%d%s", len(p.attachments)+1, extensionFor(mt))
	}
	what := "allegato " + quote(name)
	p.noteDecode(what, dec)
	if len(dec.data) == 0 {
		p.note("%s vuoto (0 byte)", what)
	}
	p.attachments = append(p.attachments, channels.Attachment{
		Filename:    name,
		ContentType: mt,
		Size:        int64(len(dec.data)),
		Data:        dec.data,
	})
}

// cleanFilename keeps a name safe to show and to offer for download: no directories, no
// control characters, bounded length.
func cleanFilename(s string) string {
	if i := strings.LastIndexAny(s, `/\`); i >= 0 {
		s = s[i+1:]
	}
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return -1
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if strings.Trim(s, ".") == "" {
		return ""
	}
	const maxLen = 200
	if len(s) > maxLen {
		ext := ""
		if dot := strings.LastIndexByte(s, '.'); dot >= 0 && len(s)-dot <= 10 {
			ext = s[dot:]
		}
		cut := maxLen - len(ext)
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + ext
	}
	return s
}

var extensions = map[string]string{
	"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/jpg": ".jpg", "image/png": ".png",
	"image/gif": ".gif", "image/tiff": ".tif", "image/bmp": ".bmp", "image/webp": ".webp",
	"text/plain": ".txt", "text/html": ".html", "text/calendar": ".ics", "text/csv": ".csv",
	"message/rfc822": ".eml", "text/rfc822-headers": ".txt", "application/zip": ".zip",
	"application/msword": ".doc", "audio/mpeg": ".mp3", "audio/wav": ".wav",
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":       ".xlsx",
	"application/vnd.oasis.opendocument.text":                                 ".odt",
	"application/pkcs7-signature":                                             ".p7s",
	"application/x-pkcs7-signature":                                           ".p7s",
	"application/pkcs7-mime":                                                  ".p7m",
	"application/x-pkcs7-mime":                                                ".p7m",
}

func extensionFor(mt string) string {
	if e, ok := extensions[mt]; ok {
		return e
	}
	return ".bin"
}

// render assembles body text from segments, converting HTML.
func (p *parser) render(segs []segment) string {
	texts := make([]string, 0, len(segs))
	for _, s := range segs {
		t := s.text
		if s.html {
			if p.policy == nil {
				p.policy = newTextPolicy()
			}
			t = htmlToText(p.policy, t)
		}
		t = strings.TrimRight(strings.TrimLeft(t, "\n"), " \t\n")
		if t != "" {
			texts = append(texts, t)
		}
	}
	return strings.Join(texts, "\n\n")
}

// unflow joins the soft line breaks of format=flowed text (RFC 3676).
func unflow(s string, delsp bool) string {
	lines := strings.Split(s, "\n")
	b := make([]byte, 0, len(s))
	joining := false
	for i, l := range lines {
		depth := quoteDepth(l)
		content := strings.TrimPrefix(l[depth:], " ") // space-stuffing
		if !joining {
			b = append(b, strings.Repeat(">", depth)...)
			if depth > 0 {
				b = append(b, ' ')
			}
		}
		b = append(b, content...)
		last := i == len(lines)-1
		if !last && content != "-- " && strings.HasSuffix(content, " ") && quoteDepth(lines[i+1]) == depth {
			if delsp {
				b = b[:len(b)-1]
			}
			joining = true
			continue
		}
		joining = false
		if !last {
			b = append(b, '\n')
		}
	}
	return string(b)
}

func quoteDepth(l string) int {
	d := 0
	for d < len(l) && l[d] == '>' {
		d++
	}
	return d
}

// isAutoReply recognizes mail nobody should answer: auto-responders (RFC 3834 and the usual
// vendor headers), bulk and list mail, and bounces.
func isAutoReply(h *entityHeader, from string, topType string) bool {
	if v := firstToken(h.get("Auto-Submitted")); v != "" && v != "no" {
		return true
	}
	switch firstToken(h.get("Precedence")) {
	case "bulk", "junk", "list", "auto_reply", "auto-reply":
		return true
	}
	for _, k := range []string{"X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Autogenerated"} {
		if h.has(k) {
			v := firstToken(h.get(k))
			if v != "no" && v != "false" {
				return true
			}
		}
	}
	if h.has("Return-Path") && strings.Join(strings.Fields(h.get("Return-Path")), "") == "<>" {
		return true
	}
	if at := strings.LastIndexByte(from, '@'); at > 0 {
		switch from[:at] {
		case "mailer-daemon", "postmaster":
			return true
		}
	}
	return topType == "multipart/report"
}

func firstToken(v string) string {
	v = strings.ToLower(strings.TrimSpace(v))
	if i := strings.IndexAny(v, "; \t("); i >= 0 {
		v = v[:i]
	}
	return v
}

// partScanner walks the parts of a multipart body held in memory. It tolerates a missing
// closing delimiter (the last part runs to the end) and whitespace after delimiters.
type partScanner struct {
	body  []byte
	delim []byte
	pos   int
	// cur is where the current part's content starts, -1 before the first delimiter.
	cur      int
	done     bool
	unclosed bool
}

// next returns the bounds of the next part.
func (s *partScanner) next() (start, end int, ok bool) {
	for !s.done {
		if s.pos >= len(s.body) {
			s.done = true
			if s.cur >= 0 && s.cur <= len(s.body) {
				s.unclosed = true
				return s.cur, len(s.body), true
			}
			return 0, 0, false
		}
		lineStart := s.pos
		lineEnd := len(s.body)
		if i := bytes.IndexByte(s.body[s.pos:], '\n'); i >= 0 {
			lineEnd = s.pos + i
			s.pos = lineEnd + 1
		} else {
			s.pos = len(s.body)
		}
		line := bytes.TrimSuffix(s.body[lineStart:lineEnd], []byte{'\r'})
		if !bytes.HasPrefix(line, s.delim) {
			continue
		}
		rest := bytes.TrimRight(line[len(s.delim):], " \t")
		closing := bytes.Equal(rest, []byte("--"))
		if len(rest) != 0 && !closing {
			continue
		}
		prev := s.cur
		if closing {
			s.done = true
		} else {
			s.cur = s.pos
		}
		if prev >= 0 {
			// The line break before a delimiter belongs to the delimiter.
			contentEnd := lineStart
			if contentEnd > prev && s.body[contentEnd-1] == '\n' {
				contentEnd--
				if contentEnd > prev && s.body[contentEnd-1] == '\r' {
					contentEnd--
				}
			}
			return prev, contentEnd, true
		}
	}
	return 0, 0, false
}

// guessBoundary finds the delimiter a multipart body really uses when the declared boundary
// is not in it: the first line that looks like a delimiter ("--" and a token) and that appears
// at least twice, as delimiters do.
func guessBoundary(body []byte) string {
	for pos, lines := 0, 0; pos < len(body) && lines < 200; lines++ {
		end := bytes.IndexByte(body[pos:], '\n')
		line := body[pos:]
		if end >= 0 {
			line = body[pos : pos+end]
		}
		line = bytes.TrimRight(line, " \t\r")
		if len(line) > 2 && len(line) <= 202 && bytes.HasPrefix(line, []byte("--")) &&
			!bytes.ContainsAny(line, " \t") {
			candidate := bytes.TrimSuffix(line[2:], []byte("--"))
			if len(candidate) > 0 && bytes.Count(body, append([]byte("\n--"), candidate...)) >= 1 {
				return string(candidate)
			}
			return ""
		}
		if end < 0 {
			break
		}
		pos += end + 1
	}
	return ""
}
