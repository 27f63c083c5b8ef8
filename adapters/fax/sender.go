package fax

import (
	"context"
	"fmt"
	"strings"

	"github.com/sportello/sportello/channels"
)

// Sender answers faxes by email-to-fax: a To that is a phone number becomes <digits>@Domain
// (the provider's outbound gateway) and the message goes out through Mail (the email relay).
type Sender struct {
	Mail   channels.Sender
	Domain string
}

// Send rewrites an E.164 recipient into the gateway address and delivers through Mail.
func (f Sender) Send(ctx context.Context, out channels.OutboundMessage) (channels.SendResult, error) {
	if !strings.Contains(out.To, "@") {
		addr := OutboundAddress(out.To, f.Domain)
		if addr == "" {
			return channels.SendResult{}, &channels.SendError{Message: fmt.Sprintf("fax number %q cannot be sent to: no fax.outbound_domain or no digits", out.To), Permanent: true}
		}
		out.To = addr
	}
	return f.Mail.Send(ctx, out)
}
