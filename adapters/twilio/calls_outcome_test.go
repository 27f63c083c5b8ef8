package twilio

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/templates"
)

// callsAt is Calls whose REST API is apiURL, giving up on a request after timeout.
func callsAt(t *testing.T, apiURL string, timeout time.Duration) *Calls {
	t.Helper()
	text, err := templates.ParseText()
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewCalls(CallsOptions{AccountSID: sidsAccount, AuthToken: "token0", APIBaseURL: apiURL, PublicURL: sidsPublic,
		RingSeconds: 20, Text: text, Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// An offer whose request reached Twilio and got no answer (Twilio hung, or the connection broke
// after the request was sent) may be ringing the operator: its outcome is unknown, not a
// refusal. An answer saying no, or a connection refused before anything was sent, is definite.
func TestOfferFailuresTellAnUnknownOutcomeFromARefusal(t *testing.T) {
	hanging := func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		<-r.Context().Done() // the client gives up first
	}
	resetAfterReading := func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		_ = conn.Close()
	}
	answering := func(status int, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = io.WriteString(w, body)
		}
	}
	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc
		unknown bool
	}{
		{"twilio hangs", hanging, true},
		{"connection reset after the request", resetAfterReading, true},
		{"HTTP 500", answering(http.StatusInternalServerError, `{"code":20500,"message":"Internal Server Error","status":500}`), false},
		{"HTTP 400", answering(http.StatusBadRequest, `{"code":21201,"message":"No 'To' number is specified","status":400}`), false},
		{"HTTP 503 without JSON", answering(http.StatusServiceUnavailable, `<html>busy</html>`), false},
		{"HTTP 502 from a proxy", answering(http.StatusBadGateway, `<html>bad gateway</html>`), true},
		{"HTTP 504 from a proxy", answering(http.StatusGatewayTimeout, `<html>gateway timeout</html>`), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := httptest.NewServer(tc.handler)
			defer api.Close()
			err := callsAt(t, api.URL, 300*time.Millisecond).Offer(context.Background(), offerCallSid, "c1", "anna", "", "400")
			if err == nil {
				t.Fatal("the offer succeeded")
			}
			if got := errors.Is(err, channels.ErrOutcomeUnknown); got != tc.unknown {
				t.Fatalf("%v: outcome unknown %v; want %v", err, got, tc.unknown)
			}
			if errors.Is(err, channels.ErrCallGone) {
				t.Fatalf("%v: the call is not gone", err)
			}
		})
	}
	t.Run("the caller's context ends while twilio hangs", func(t *testing.T) {
		api := httptest.NewServer(http.HandlerFunc(hanging))
		defer api.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		err := callsAt(t, api.URL, time.Minute).Offer(ctx, offerCallSid, "c1", "anna", "", "400")
		if !errors.Is(err, channels.ErrOutcomeUnknown) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("%v; want an unknown outcome from the deadline", err)
		}
	})
	t.Run("connection refused", func(t *testing.T) {
		api := httptest.NewServer(http.NotFoundHandler())
		apiURL := api.URL
		api.Close()
		err := callsAt(t, apiURL, time.Second).Offer(context.Background(), offerCallSid, "c1", "anna", "", "400")
		if err == nil || errors.Is(err, channels.ErrOutcomeUnknown) {
			t.Fatalf("%v; want a definite failure (nothing was sent)", err)
		}
	})
	t.Run("the context ended before sending", func(t *testing.T) {
		api := httptest.NewServer(http.HandlerFunc(hanging))
		defer api.Close()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := callsAt(t, api.URL, time.Second).Offer(ctx, offerCallSid, "c1", "anna", "", "400")
		if err == nil || errors.Is(err, channels.ErrOutcomeUnknown) {
			t.Fatalf("%v; want a definite failure (nothing was sent)", err)
		}
	})
}
