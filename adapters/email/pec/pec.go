package pec

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"
)

// Kind is what a message in a PEC box is.
type Kind string

const (
	// KindEnvelope is a busta di trasporto: a sender's message, certified (X-Trasporto:
	// posta-certificata).
	KindEnvelope Kind = "posta-certificata"
	// KindAnomaly is a busta di anomalia: a message the provider could not certify
	// (X-Trasporto: errore).
	KindAnomaly Kind = "errore"
	// KindReceipt is a ricevuta or avviso about a message we sent (X-Ricevuta).
	KindReceipt Kind = "ricevuta"
)

// ErrNotPEC is a message without the top-level X-Trasporto or X-Ricevuta of the standard:
// ordinary mail, to be read as such.
var ErrNotPEC = errors.New("pec: not a certified message")

// maxInput bounds the input read; the email adapter's own limit is lower.
const maxInput = 64 << 20

// Message is what Parse found in one message of a PEC box.
type Message struct {
	Kind Kind
	// Receipt is the X-Ricevuta value of a receipt (one of ReceiptTypes, or what the header said).
	Receipt string
	// RefMessageID is X-Riferimento-Message-ID: the Message-ID of the message a receipt is about.
	RefMessageID string
	// MessageID and Subject are the envelope's own.
	MessageID string
	Subject   string
	// DatiCert is the certification data; nil when the message had none or it was unreadable
	// (DatiCertErr says why).
	DatiCert    *DatiCert
	DatiCertErr error
	// Original is postacert.eml, the sender's message byte for byte; nil when absent.
	Original []byte
	// Text is the provider's readable notice (the text/plain part beside the attachments).
	Text      string
	Signature Signature
	// Problems are what did not read as the standard says; the message is still usable.
	Problems []string
}

// Options for Parse.
type Options struct {
	// Roots are the providers' trusted CAs; nil: signatures are checked but never "valid".
	Roots *x509.CertPool
}

// Parse reads one raw message of a PEC box. It returns ErrNotPEC for ordinary mail, and an
// error for input without a readable header; every other defect is a Problem or a
// Signature status, so a certified message is never refused for its form.
func Parse(raw []byte, opts Options) (*Message, error) {
	if len(raw) > maxInput {
		return nil, fmt.Errorf("pec: message of %d bytes, over %d", len(raw), maxInput)
	}
	top, ok := splitEntity(raw)
	if !ok || len(top.header) == 0 {
		return nil, fmt.Errorf("%w: no readable header", ErrNotPEC)
	}
	m := &Message{Signature: Signature{Status: SignatureAbsent}}
	trasporto := strings.ToLower(strings.TrimSpace(top.header.Get("X-Trasporto")))
	ricevuta := strings.ToLower(strings.TrimSpace(top.header.Get("X-Ricevuta")))
	switch {
	case ricevuta != "":
		m.Kind, m.Receipt = KindReceipt, ricevuta
		if !IsReceiptType(ricevuta) {
			m.problem("X-Ricevuta %q is not one of the standard's receipts", ricevuta)
		}
	case trasporto == string(KindEnvelope):
		m.Kind = KindEnvelope
	case trasporto == string(KindAnomaly):
		m.Kind = KindAnomaly
	default:
		return nil, ErrNotPEC
	}
	m.MessageID = bareID(top.header.Get("Message-Id"))
	m.RefMessageID = bareID(top.header.Get("X-Riferimento-Message-Id"))
	m.Subject = decodeHeader(top.header.Get("Subject"))

	content := top
	if t, params := top.mediaType(); t == "multipart/signed" {
		parts, _ := splitMultipart(top.body, params["boundary"])
		if len(parts) < 2 {
			m.problem("multipart/signed with %d parts, not 2", len(parts))
			m.Signature = Signature{Status: SignatureInvalid, Detail: "the signed message has no signature part"}
		}
		if len(parts) >= 1 {
			if e, ok := splitEntity(parts[0]); ok {
				content = e
			} else {
				m.problem("the signed part has no readable header")
			}
		}
		if len(parts) >= 2 {
			sigPart, ok := splitEntity(parts[1])
			st, _ := sigPart.mediaType()
			if !ok || (st != "application/pkcs7-signature" && st != "application/x-pkcs7-signature") {
				m.Signature = Signature{Status: SignatureInvalid, Detail: "the second part is " + st + ", not a PKCS#7 signature"}
			} else {
				m.Signature = verify(parts[0], sigPart.decoded(), opts.Roots)
			}
		}
	}
	m.walk(content, 0)
	if m.DatiCert == nil && m.DatiCertErr == nil && m.Kind != KindAnomaly {
		m.DatiCertErr = &DatiCertError{Reason: "missing"}
	}
	if m.DatiCert != nil {
		want := string(m.Kind)
		if m.Kind == KindReceipt {
			want = m.Receipt
		}
		if m.Kind != KindAnomaly && m.DatiCert.Tipo != want {
			m.problem("daticert.xml certifies %q but the header says %q", m.DatiCert.Tipo, want)
		}
	}
	if m.Kind == KindEnvelope && m.Original == nil {
		m.problem("the envelope holds no postacert.eml")
	}
	return m, nil
}

// walk visits the certified content: the notice text, daticert.xml and postacert.eml.
func (m *Message) walk(e entity, depth int) {
	if depth > maxDepth {
		m.problem("MIME nesting deeper than %d", maxDepth)
		return
	}
	t, params := e.mediaType()
	name := strings.ToLower(e.filename())
	switch {
	case strings.HasPrefix(t, "multipart/"):
		parts, closed := splitMultipart(e.body, params["boundary"])
		if !closed {
			m.problem("a %s part is not closed by its boundary", t)
		}
		for _, p := range parts {
			if pe, ok := splitEntity(p); ok {
				m.walk(pe, depth+1)
			}
		}
	case name == "daticert.xml" || (m.DatiCert == nil && (t == "application/xml" || t == "text/xml")):
		if m.DatiCert != nil {
			m.problem("more than one daticert.xml: the first is used")
			return
		}
		d, err := ParseDatiCert(e.decoded())
		if err != nil {
			m.DatiCertErr = err
			return
		}
		m.DatiCert = &d
	case name == "postacert.eml" || (m.Original == nil && t == "message/rfc822"):
		if m.Original != nil {
			m.problem("more than one postacert.eml: the first is used")
			return
		}
		m.Original = e.decoded()
	case t == "text/plain" && m.Text == "" && name == "":
		m.Text = decodeText(e.decoded(), params["charset"])
	}
}

func (m *Message) problem(format string, args ...any) {
	if len(m.Problems) < 20 {
		m.Problems = append(m.Problems, fmt.Sprintf(format, args...))
	}
}

func bareID(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '<'); i >= 0 {
		if j := strings.IndexByte(s[i:], '>'); j > 0 {
			return strings.TrimSpace(s[i+1 : i+j])
		}
	}
	return strings.Trim(s, "<> ")
}

var wordDecoder = mime.WordDecoder{CharsetReader: func(label string, r io.Reader) (io.Reader, error) {
	return charsetReader(label, r)
}}

func decodeHeader(s string) string {
	if d, err := wordDecoder.DecodeHeader(s); err == nil {
		return clean(d)
	}
	return clean(s)
}

func decodeText(b []byte, charset string) string {
	if cs := strings.ToLower(charset); cs != "" && cs != "utf-8" && cs != "us-ascii" {
		if r, err := charsetReader(cs, bytes.NewReader(b)); err == nil {
			if out, err := io.ReadAll(r); err == nil {
				return string(out)
			}
		}
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}
