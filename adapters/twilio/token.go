package twilio

import (
	"errors"
	"time"

	"github.com/twilio/twilio-go/client/jwt"
)

// VoiceTokens issues the browser softphone's access tokens: a JWT with a Voice grant (incoming
// calls to the user's client identity, outgoing calls through the TwiML app), signed with an
// API key's secret, as Twilio's Voice JavaScript SDK expects.
type VoiceTokens struct {
	AccountSID   string
	APIKeySID    string
	APIKeySecret string
	TwiMLAppSID  string
	// Now is the clock (time.Now by default).
	Now func() time.Time
}

// TokenTTL is how long a softphone token lives (twilio-go's minimum is one hour); the page
// fetches a new one before it expires.
const TokenTTL = time.Hour

// VoiceToken returns a token for the user, the client identity it grants and its lifetime.
func (v *VoiceTokens) VoiceToken(username string) (token, identity string, ttlSeconds int, err error) {
	if v.AccountSID == "" || v.APIKeySID == "" || v.APIKeySecret == "" || v.TwiMLAppSID == "" {
		return "", "", 0, errors.New("twilio: voice tokens need the account, an API key and a TwiML app")
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	identity = ClientIdentity(username)
	at := jwt.CreateAccessToken(jwt.AccessTokenParams{AccountSid: v.AccountSID, SigningKeySid: v.APIKeySID, Secret: v.APIKeySecret,
		Identity: identity, Ttl: TokenTTL.Seconds(), Nbf: float64(now().Unix())})
	at.AddGrant(&jwt.VoiceGrant{Incoming: jwt.Incoming{Allow: true}, Outgoing: jwt.Outgoing{ApplicationSid: v.TwiMLAppSID}})
	token, err = at.ToJwt()
	if err != nil {
		return "", "", 0, err
	}
	return token, identity, int(TokenTTL.Seconds()), nil
}
