// Package email moves mail in and out of Sportello: an SMTP server that accepts mail for the
// comuni's addresses (never relaying), IMAP pollers that ingest configured mailboxes, and a
// sender that hands replies to an SMTP relay. Every inbound message goes through a
// channels.Sink and is acknowledged to its peer (250, \Seen) only after the Sink stored it.
package email

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"

	"github.com/sportello/sportello/adapters/email/mailparse"
	"github.com/sportello/sportello/channels"
)

// ParseFunc turns a raw RFC 5322 message into an inbound message.
type ParseFunc func(r io.Reader) (channels.InboundMessage, error)

// DefaultParse is mailparse with its default bounds and one attachment at most maxAttachment
// bytes (0 = mailparse's default).
func DefaultParse(maxAttachment int64) ParseFunc {
	return func(r io.Reader) (channels.InboundMessage, error) {
		return mailparse.Parse(r, mailparse.Options{MaxAttachmentBytes: maxAttachment})
	}
}

// ErrNotAMessage is raw input that holds nothing a person could read (empty, or binary):
// refused rather than stored.
var ErrNotAMessage = errors.New("email: not a message")

// maxRawBody bounds the body of a message kept as raw text; the whole raw input is attached.
const maxRawBody = 1 << 20

// rawFilename is the attachment that keeps the bytes of a message that could not be parsed.
const rawFilename = "messaggio-originale.txt"

// messageFromRaw parses raw; when the parser fails or panics on input that is still text, the
// text is kept as the body of a message from envelopeFrom, with the whole input attached and a
// note, so no mail is ever lost. Only input that is not text at all is ErrNotAMessage.
func messageFromRaw(parse ParseFunc, raw []byte, envelopeFrom string, arrived time.Time) (channels.InboundMessage, error) {
	in, err := safeParse(parse, raw)
	if err == nil {
		if in.Channel == "" {
			in.Channel = channels.Email
		}
		if in.From == "" && envelopeFrom != "" {
			in.From = envelopeFrom
			in.Notes = append(in.Notes, "mittente preso dalla busta SMTP (MAIL FROM)")
		}
		// When the message reached us is what queues and SLAs count from; the Date field is
		// the sender's clock and can be anything.
		in.ReceivedAt = arrived
		return in, nil
	}
	if !looksLikeText(raw) {
		return channels.InboundMessage{}, fmt.Errorf("%w: %v", ErrNotAMessage, err)
	}
	sum := sha256.Sum256(raw)
	id := "sha256-" + hex.EncodeToString(sum[:]) + "@sportello.invalid"
	body := decodeLoose(raw)
	if len(body) > maxRawBody {
		body = strings.ToValidUTF8(body[:maxRawBody], "") + "\n[…]"
	}
	in = channels.InboundMessage{
		Channel:    channels.Email,
		ExternalID: id,
		MessageID:  id,
		From:       envelopeFrom,
		Body:       body,
		// No sender to answer means nobody to answer: an empty envelope sender is a bounce.
		AutoReply:   envelopeFrom == "",
		Attachments: []channels.Attachment{{Filename: rawFilename, ContentType: "text/plain", Data: raw}},
		Notes:       []string{"il messaggio non è leggibile come email (" + err.Error() + "): conservato il testo grezzo, allegato per intero"},
		ReceivedAt:  arrived,
	}
	return in, nil
}

// safeParse runs the parser and turns a panic into an error: bad mail must never take the
// server down.
func safeParse(parse ParseFunc, raw []byte) (in channels.InboundMessage, err error) {
	defer func() {
		if p := recover(); p != nil {
			in, err = channels.InboundMessage{}, fmt.Errorf("parser failure: %v", p)
		}
	}()
	// A *bytes.Buffer lets mailparse read raw in place instead of copying it (it never
	// writes to it: raw is checked for DKIM signatures afterwards).
	return parse(bytes.NewBuffer(raw))
}

// looksLikeText reports whether raw is text someone could read: not empty, no NUL bytes, and
// few control characters or bytes that are not UTF-8 (Latin-1 letters are allowed for).
func looksLikeText(raw []byte) bool {
	if len(bytes.TrimSpace(raw)) == 0 {
		return false
	}
	head := raw
	if len(head) > 64<<10 {
		head = head[:64<<10]
	}
	if bytes.IndexByte(head, 0) >= 0 {
		return false
	}
	if len(head) > 4096 {
		head = head[:4096]
	}
	bad, total := 0, 0
	for len(head) > 0 {
		r, size := utf8.DecodeRune(head)
		head = head[size:]
		total++
		switch {
		case r == utf8.RuneError && size == 1:
			bad++
		case r < 0x20 && r != '\t' && r != '\r' && r != '\n' && r != '\f':
			bad++
		}
	}
	return bad*10 <= total
}

// decodeLoose returns raw as UTF-8: as is when valid, else read as Windows-1252 (what
// unlabelled Italian mail usually is).
func decodeLoose(raw []byte) string {
	if utf8.Valid(raw) {
		return string(raw)
	}
	s, err := charmap.Windows1252.NewDecoder().Bytes(raw)
	if err != nil {
		return strings.ToValidUTF8(string(raw), "\uFFFD")
	}
	return string(s)
}
