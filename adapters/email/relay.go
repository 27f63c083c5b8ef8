package email

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	netmail "net/mail"
	"strings"
	"time"

	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/google/uuid"

	"github.com/sportello/sportello/channels"
)

// RelayOptions configure the outbound sender.
type RelayOptions struct {
	// Addr is the relay's host:port.
	Addr string
	// From is the default sender, "Name <address>"; an OutboundMessage's From overrides it.
	From string
	// Username and Password authenticate with AUTH PLAIN when Username is set.
	Username string
	Password string
	// TLS is none, starttls or tls (implicit).
	TLS       string
	TLSConfig *tls.Config
	// Timeout bounds one whole delivery: connect, dialogue and data.
	Timeout time.Duration
	// Hostname is what the sender says in EHLO (default: the From address's domain).
	Hostname string
	// Now is the clock for the Date field (tests).
	Now func() time.Time
}

// RelaySender delivers outbound email through an SMTP relay: one connection per message.
// Refusals come back as *channels.SendError, permanent for 5xx replies and temporary for 4xx
// replies and network failures.
type RelaySender struct {
	opts RelayOptions
	from *netmail.Address
}

// NewRelaySender validates opts.
func NewRelaySender(opts RelayOptions) (*RelaySender, error) {
	if _, _, err := net.SplitHostPort(opts.Addr); err != nil {
		return nil, fmt.Errorf("email: relay address %q: %w", opts.Addr, err)
	}
	if opts.TLS == "" {
		opts.TLS = "none"
	}
	switch opts.TLS {
	case "none", "starttls", "tls":
	default:
		return nil, fmt.Errorf("email: relay TLS must be none, starttls or tls, got %q", opts.TLS)
	}
	if opts.Timeout == 0 {
		opts.Timeout = time.Minute
	}
	if opts.Timeout < 0 {
		return nil, errors.New("email: relay timeout must be positive")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	from, err := netmail.ParseAddress(opts.From)
	if err != nil {
		return nil, fmt.Errorf("email: relay From %q: %w", opts.From, err)
	}
	if opts.Hostname == "" {
		opts.Hostname = domainOf(from.Address)
	}
	return &RelaySender{opts: opts, from: from}, nil
}

// Send builds the message and hands it to the relay. The result's ExternalID is the
// message's Message-ID (without angle brackets).
func (s *RelaySender) Send(ctx context.Context, out channels.OutboundMessage) (channels.SendResult, error) {
	from := s.from
	if out.From != "" {
		a, err := netmail.ParseAddress(out.From)
		if err != nil {
			return channels.SendResult{}, &channels.SendError{Message: fmt.Sprintf("sender %q: %v", out.From, err), Permanent: true}
		}
		from = a
	}
	to, err := netmail.ParseAddress(out.To)
	if err != nil {
		return channels.SendResult{}, &channels.SendError{Message: fmt.Sprintf("recipient %q: %v", out.To, err), Permanent: true}
	}
	id := strings.Trim(out.MessageID, "<> ")
	if id == "" {
		id = uuid.Must(uuid.NewV7()).String() + "@" + domainOf(from.Address)
	}
	raw, err := buildMessage(out, from, to, id, s.opts.Now())
	if err != nil {
		return channels.SendResult{}, &channels.SendError{Message: err.Error(), Permanent: true}
	}
	if err := s.deliver(ctx, from.Address, to.Address, raw); err != nil {
		return channels.SendResult{}, sendError(err)
	}
	return channels.SendResult{ExternalID: id, Status: "sent"}, nil
}

func (s *RelaySender) deliver(ctx context.Context, from, to string, raw []byte) error {
	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	d := net.Dialer{}
	conn, err := d.DialContext(ctx, "tcp", s.opts.Addr)
	if err != nil {
		return err
	}
	deadline, _ := ctx.Deadline()
	if err := conn.SetDeadline(deadline); err != nil {
		conn.Close()
		return err
	}
	// Cancelling ctx interrupts a relay that stopped answering.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Now()) })
	defer stop()
	host, _, _ := net.SplitHostPort(s.opts.Addr)
	tlsConfig := &tls.Config{ServerName: host}
	if s.opts.TLSConfig != nil {
		tlsConfig = s.opts.TLSConfig.Clone()
		if tlsConfig.ServerName == "" {
			tlsConfig.ServerName = host
		}
	}
	var c *smtp.Client
	switch s.opts.TLS {
	case "tls":
		c = smtp.NewClient(tls.Client(conn, tlsConfig))
	case "starttls":
		if c, err = smtp.NewClientStartTLS(conn, tlsConfig); err != nil {
			return err
		}
	default:
		c = smtp.NewClient(conn)
	}
	defer func() { _ = c.Close() }() // after QUIT, or after the error returned
	c.CommandTimeout, c.SubmissionTimeout = s.opts.Timeout, s.opts.Timeout
	if err := c.Hello(s.opts.Hostname); err != nil {
		return err
	}
	if s.opts.Username != "" {
		if err := c.Auth(sasl.NewPlainClient("", s.opts.Username, s.opts.Password)); err != nil {
			return err
		}
	}
	if err := c.Mail(from, nil); err != nil {
		return err
	}
	if err := c.Rcpt(to, nil); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(raw); err != nil {
		_ = w.Close() // the write's error is the one to report
		return err
	}
	if err := w.Close(); err != nil {
		var se *smtp.SMTPError
		if !errors.As(err, &se) {
			// The whole message went out and the relay's answer did not come back: it may
			// have taken it.
			return &answerLostError{err: err}
		}
		return err
	}
	// The relay took the message with its reply to the data; a failing QUIT changes nothing.
	_ = c.Quit()
	return nil
}

// answerLostError is a failure after the message's last byte was handed to the relay: the
// relay may hold it and deliver it.
type answerLostError struct{ err error }

func (e *answerLostError) Error() string { return e.err.Error() }
func (e *answerLostError) Unwrap() error { return e.err }

// sendError classifies a delivery failure: a 5xx reply is permanent, and so is a lost answer
// to a message handed over whole (SMTP has no idempotency: sending it again could deliver it
// twice, a fax or a PEC twice, so a person decides); anything else (4xx, network, timeout
// before the data) is worth retrying.
func sendError(err error) error {
	var lost *answerLostError
	if errors.As(err, &lost) {
		return &channels.SendError{Permanent: true, Err: err,
			Message: "relay: the message was handed over but the relay's answer was lost (" + lost.Error() +
				"): it may be on its way, so it is not sent again automatically; send it again by hand if it did not arrive"}
	}
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		msg := se.Message
		if msg == "" {
			msg = se.Error()
		}
		return &channels.SendError{Code: se.Code, Message: "relay: " + msg, Permanent: se.Code >= 500}
	}
	return &channels.SendError{Message: "relay: " + err.Error(), Permanent: false}
}

// buildMessage writes a UTF-8 MIME message: text/plain quoted-printable, and a multipart/mixed
// with the attachments when there are any.
func buildMessage(out channels.OutboundMessage, from, to *netmail.Address, id string, now time.Time) ([]byte, error) {
	var h mail.Header
	h.SetDate(now)
	h.SetAddressList("From", []*mail.Address{{Name: from.Name, Address: from.Address}})
	h.SetAddressList("To", []*mail.Address{{Name: to.Name, Address: to.Address}})
	h.SetSubject(out.Subject)
	h.SetMessageID(id)
	if r := strings.Trim(out.InReplyTo, "<> "); r != "" {
		h.SetMsgIDList("In-Reply-To", []string{r})
	}
	var refs []string
	for _, r := range out.References {
		if r = strings.Trim(r, "<> "); r != "" {
			refs = append(refs, r)
		}
	}
	if len(refs) > 0 {
		h.SetMsgIDList("References", refs)
	}
	if out.AutoReply {
		// RFC 3834 §5: the recipient's vacation responders and ticket systems must not
		// answer an automatic answer, or two of them would write to each other forever.
		h.Set("Auto-Submitted", "auto-replied")
	}
	h.Set("MIME-Version", "1.0")
	for _, a := range out.Attachments {
		if a.Data == nil {
			return nil, fmt.Errorf("attachment %q has no data", a.Filename)
		}
	}
	body := strings.ToValidUTF8(out.Body, "\uFFFD")
	var buf bytes.Buffer
	if len(out.Attachments) == 0 {
		h.SetContentType("text/plain", map[string]string{"charset": "utf-8"})
		h.Set("Content-Transfer-Encoding", "quoted-printable")
		w, err := mail.CreateSingleInlineWriter(&buf, h)
		if err != nil {
			return nil, err
		}
		if _, err := io.WriteString(w, body); err != nil {
			return nil, err
		}
		if err := w.Close(); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	}
	mw, err := mail.CreateWriter(&buf, h)
	if err != nil {
		return nil, err
	}
	var th mail.InlineHeader
	th.SetContentType("text/plain", map[string]string{"charset": "utf-8"})
	th.Set("Content-Transfer-Encoding", "quoted-printable")
	tw, err := mw.CreateSingleInline(th)
	if err != nil {
		return nil, err
	}
	if _, err := io.WriteString(tw, body); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	for _, a := range out.Attachments {
		var ah mail.AttachmentHeader
		ct := a.ContentType
		if ct == "" {
			ct = "application/octet-stream"
		}
		ah.SetContentType(ct, nil)
		if a.Filename != "" {
			ah.SetFilename(a.Filename)
		}
		ah.Set("Content-Transfer-Encoding", "base64")
		aw, err := mw.CreateAttachment(ah)
		if err != nil {
			return nil, err
		}
		if _, err := aw.Write(a.Data); err != nil {
			return nil, err
		}
		if err := aw.Close(); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 && i < len(addr)-1 {
		return addr[i+1:]
	}
	return "localhost"
}
