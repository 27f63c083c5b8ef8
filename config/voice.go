package config

import "strings"

// Voice configures how Twilio calls reach operators.
type Voice struct {
	// RingSeconds is how long an operator's phone or browser rings before the call goes back to
	// the queue and to the next operator.
	RingSeconds int `yaml:"ring_seconds"`
	// CallbackOfferSeconds is how long a caller waits before being offered a callback (0: never).
	CallbackOfferSeconds int `yaml:"callback_offer_seconds"`
	// Record records answered calls; the welcome prompt then announces it.
	Record bool `yaml:"record"`
	// TwiMLAppSID, APIKeySID and APIKeySecret let the browser softphone get access tokens.
	TwiMLAppSID  string `yaml:"twiml_app_sid"`
	APIKeySID    string `yaml:"api_key_sid"`
	APIKeySecret string `yaml:"api_key_secret"`
}

// SoftphoneEnabled reports whether browser access tokens can be issued.
func (v Voice) SoftphoneEnabled() bool {
	return v.TwiMLAppSID != "" && v.APIKeySID != "" && v.APIKeySecret != ""
}

func (v *Voice) setDefaults() {
	if v.RingSeconds == 0 {
		v.RingSeconds = 20
	}
}

func (c *Config) validateVoice(bad func(string, string, ...any)) {
	v := c.Voice
	if v.RingSeconds < 1 || v.RingSeconds > 600 {
		bad("voice.ring_seconds", "must be between 1 and 600 (Twilio's <Dial> timeout)")
	}
	if v.CallbackOfferSeconds < 0 {
		bad("voice.callback_offer_seconds", "must be 0 (never) or positive")
	}
	if v.TwiMLAppSID != "" && !strings.HasPrefix(v.TwiMLAppSID, "AP") {
		bad("voice.twiml_app_sid", "must start with AP")
	}
	if v.APIKeySID != "" && !strings.HasPrefix(v.APIKeySID, "SK") {
		bad("voice.api_key_sid", "must start with SK")
	}
	if (v.TwiMLAppSID != "" || v.APIKeySID != "" || v.APIKeySecret != "") && !v.SoftphoneEnabled() {
		bad("voice.twiml_app_sid", "twiml_app_sid, api_key_sid and api_key_secret go together")
	}
}
