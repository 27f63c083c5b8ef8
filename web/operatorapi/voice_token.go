package operatorapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/httperr"
	"github.com/sportello/sportello/web/auth"
)

// voiceToken issues the signed-in user's softphone access token.
func (v *Voice) voiceToken(c echo.Context) error {
	if v.Tokens == nil {
		return httperr.New(http.StatusServiceUnavailable, "softphone_unavailable",
			"the browser softphone is not configured (voice.twiml_app_sid, voice.api_key_sid, voice.api_key_secret)")
	}
	token, identity, ttl, err := v.Tokens.VoiceToken(auth.User(c).Username)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, map[string]any{"token": token, "identity": identity, "ttl_seconds": ttl})
}
