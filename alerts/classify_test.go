package alerts

import (
	"errors"
	"net"
	"syscall"
	"testing"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/store/alertstore"
)

// A send whose connection was never made is certain not to have reached the provider (retry
// now); one whose request may have been written is uncertain (settled with the provider).
// The decision reads the error chain, not the message text.
func TestClassifyByErrorChain(t *testing.T) {
	r := alertstore.Recipient{Seq: 1, Phone: "+393471234567"}
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"dial refused, message without the usual words", &channels.SendError{Message: "provider down", Err: refused}, alertstore.OutcomeRetry},
		{"unknown host", &channels.SendError{Message: "provider down", Err: &net.DNSError{Err: "no such host", Name: "api.example"}}, alertstore.OutcomeRetry},
		{"read reset after the request was written", &channels.SendError{Message: "dial tcp quoted in the text", Err: &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}}, alertstore.OutcomeUncertain},
		{"no cause at all", &channels.SendError{Message: "connection refused (says the text)"}, alertstore.OutcomeUncertain},
		{"a Twilio code", &channels.SendError{Code: 20503, Message: "Service Unavailable"}, alertstore.OutcomeRetry},
		{"not a SendError", errors.New("dial tcp: connection refused"), alertstore.OutcomeUncertain},
	}
	for _, c := range cases {
		if got := classify(r, c.err).Outcome; got != c.want {
			t.Errorf("%s: outcome %q, want %q", c.name, got, c.want)
		}
	}
}
