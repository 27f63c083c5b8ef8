package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sportello/sportello/adapters/twilio"
)

// The send-test commands play Twilio for a newcomer: a webhook signed exactly as Twilio signs
// it, which curl alone cannot do.

func runSendTestSMS(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := newFlags("send-test sms", e)
	from := fs.String("from", "+393471234567", "the citizen's number")
	to := fs.String("to", "", "the number texted (default: the first shared number)")
	body := fs.String("body", "Buongiorno, domani c'è il blocco del traffico?", "message text")
	gw := fs.String("url", "", "the gateway's address (default: http.listen)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	if *to == "" {
		*to = firstOr(cfg.SharedNumbers, "+39055055")
	}
	form := url.Values{"MessageSid": {"SM" + randomHex(16)}, "AccountSid": {cfg.Twilio.AccountSID}, "From": {*from}, "To": {*to},
		"Body": {*body}, "NumMedia": {"0"}, "ApiVersion": {"2010-04-01"}}
	return postSigned(ctx, e, cfg.PublicURL, gatewayURL(*gw, cfg.HTTP.Listen), "/webhooks/twilio/sms", form, cfg.Twilio.AuthToken)
}

func runSendTestCall(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := newFlags("send-test call", e)
	from := fs.String("from", "+393471234567", "the caller's number")
	to := fs.String("to", "", "the number called (default: the first shared number)")
	status := fs.String("status", "", "also send a status callback with this CallStatus (e.g. completed)")
	duration := fs.Int("duration", 0, "CallDuration for the status callback")
	digits := fs.String("digits", "", "also answer the menu with these digits")
	gw := fs.String("url", "", "the gateway's address (default: http.listen)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	if *to == "" {
		*to = firstOr(cfg.SharedNumbers, "+39055055")
	}
	base := gatewayURL(*gw, cfg.HTTP.Listen)
	sid := "CA" + randomHex(16)
	form := url.Values{"CallSid": {sid}, "AccountSid": {cfg.Twilio.AccountSID}, "From": {*from}, "To": {*to},
		"CallStatus": {"ringing"}, "Direction": {"inbound"}, "ApiVersion": {"2010-04-01"}}
	if err := postSigned(ctx, e, cfg.PublicURL, base, "/webhooks/twilio/voice", form, cfg.Twilio.AuthToken); err != nil {
		return err
	}
	if *digits != "" {
		form.Set("Digits", *digits)
		form.Set("CallStatus", "in-progress")
		if err := postSigned(ctx, e, cfg.PublicURL, base, "/webhooks/twilio/voice/menu", form, cfg.Twilio.AuthToken); err != nil {
			return err
		}
		form.Del("Digits")
	}
	if *status != "" {
		form.Set("CallStatus", *status)
		form.Set("CallDuration", fmt.Sprint(*duration))
		if err := postSigned(ctx, e, cfg.PublicURL, base, "/webhooks/twilio/voice/status", form, cfg.Twilio.AuthToken); err != nil {
			return err
		}
	}
	return printed(fmt.Fprintln(e.stdout, sid))
}

func firstOr(list []string, def string) string {
	if len(list) > 0 {
		return list[0]
	}
	return def
}

func gatewayURL(flagValue, listen string) string {
	if flagValue != "" {
		return strings.TrimRight(flagValue, "/")
	}
	return "http://" + listen
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

func postSigned(ctx context.Context, e *env, publicURL, base, path string, form url.Values, token string) error {
	if token == "" {
		return errors.New("twilio.auth_token is not configured: the gateway would refuse an unsigned webhook")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+path, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", twilio.Signature(token, strings.TrimRight(publicURL, "/")+path, form))
	client := &http.Client{Timeout: 15 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	_, _ = fmt.Fprintf(e.stderr, "POST %s -> %s\n%s\n", path, resp.Status, body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("the gateway answered %s", resp.Status)
	}
	return nil
}
