package gateway

import (
	"context"
	"fmt"

	"github.com/sportello/sportello/adapters/twilio"
	"github.com/sportello/sportello/web/operatorapi"
)

// wireVoice lets Twilio calls reach operators: the desk dials the operator a queued call is
// assigned to (through Twilio's REST API), transfers calls resolved as transferred_phone, and
// places callbacks. Without Twilio credentials calls wait for a PBX (the CTI webhook).
func (g *Gateway) wireVoice(ctx context.Context) error {
	tw, v := g.Config.Twilio, g.Config.Voice
	api := &operatorapi.Voice{Auth: g.authn, Desk: g.Desk}
	g.surfaces = append(g.surfaces, api)
	if v.SoftphoneEnabled() && tw.AccountSID != "" {
		api.Tokens = &twilio.VoiceTokens{AccountSID: tw.AccountSID, APIKeySID: v.APIKeySID, APIKeySecret: v.APIKeySecret, TwiMLAppSID: v.TwiMLAppSID}
	}
	if !tw.Enabled() {
		return nil
	}
	calls, err := twilio.NewCalls(twilio.CallsOptions{AccountSID: tw.AccountSID, AuthToken: tw.AuthToken, APIBaseURL: tw.APIBaseURL,
		PublicURL: g.Config.PublicURL, RingSeconds: g.Config.Voice.RingSeconds, Record: g.Config.Voice.Record, Text: g.Text})
	if err != nil {
		return fmt.Errorf("twilio voice: %w", err)
	}
	g.Desk.SetCallConnector(calls)
	g.callDesk = g.Desk
	return nil
}
