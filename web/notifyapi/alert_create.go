package notifyapi

import (
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/alerts"
	"github.com/sportello/sportello/gsm7"
	"github.com/sportello/sportello/httperr"
	"github.com/sportello/sportello/store/alertstore"
)

// alertBody is POST /alerts as JSON.
type alertBody struct {
	Category  string   `json:"category"`
	Message   string   `json:"message"`
	MessageEN string   `json:"message_en"`
	Topics    []string `json:"topics"`
	SendAt    *string  `json:"send_at"`
	ExpiresAt *string  `json:"expires_at"`
	GSM7Safe  bool     `json:"gsm7_safe"`
	// Urgent sends even during alerts.quiet_hours.
	Urgent bool `json:"urgent"`
	// Channels: "sms" (the default) and "app_io", in order of preference.
	Channels []string `json:"channels"`
}

// maxIdempotencyKey bounds the Idempotency-Key header.
const maxIdempotencyKey = 200

// createAlert accepts an alert as JSON or as a CAP 1.2 document (Content-Type
// application/cap+xml; application/xml and text/xml are read as CAP too) and answers 202.
func (a *API) createAlert(c echo.Context) error {
	ctx := c.Request().Context()
	k := apiKey(c)
	ct := c.Request().Header.Get(echo.HeaderContentType)
	mt, _, err := mime.ParseMediaType(ct)
	if ct != "" && err != nil {
		return httperr.New(http.StatusUnsupportedMediaType, "unsupported_media_type", "Content-Type %q cannot be read", ct)
	}
	body, err := readBody(c)
	if err != nil {
		return err
	}
	switch mt {
	case "application/cap+xml", "application/xml", "text/xml":
		res, err := a.o.Alerts.SubmitCAP(ctx, k.Comune, body, k.ID)
		if err != nil {
			return apiError(err)
		}
		return c.JSON(http.StatusAccepted, accepted(res.Alert, res.Action, res.Existing))
	case "application/json", "":
	default:
		return httperr.New(http.StatusUnsupportedMediaType, "unsupported_media_type",
			"Content-Type must be application/json or application/cap+xml, not %s", mt)
	}
	var b alertBody
	if err := decodeJSON(body, &b); err != nil {
		return err
	}
	req := alerts.AlertRequest{Category: b.Category, Message: b.Message, MessageEN: b.MessageEN, Topics: b.Topics,
		GSM7Safe: b.GSM7Safe, Urgent: b.Urgent, Source: "api", CreatedBy: k.ID, Channels: b.Channels}
	if req.SendAt, err = parseTime("send_at", b.SendAt); err != nil {
		return err
	}
	if req.ExpiresAt, err = parseTime("expires_at", b.ExpiresAt); err != nil {
		return err
	}
	if ik := strings.TrimSpace(c.Request().Header.Get("Idempotency-Key")); ik != "" {
		if len(ik) > maxIdempotencyKey {
			return httperr.BadRequest("invalid_idempotency_key", "Idempotency-Key is longer than %d characters", maxIdempotencyKey)
		}
		req.ExternalRef = "key:" + ik
	}
	al, existing, err := a.o.Alerts.CreateAlert(ctx, k.Comune, req)
	if err != nil {
		return apiError(err)
	}
	return c.JSON(http.StatusAccepted, accepted(al, "created", existing))
}

func accepted(al alertstore.Alert, action string, existing bool) AcceptedJSON {
	return AcceptedJSON{ID: al.ID, Status: al.Status, Recipients: al.Recipients, Action: action, Duplicate: existing,
		Segments: al.Segments, Encoding: al.Encoding, Cost: gsm7.CountSegments(al.TextIT), Text: al.TextIT, SendAt: al.SendAt,
		Urgent: al.Urgent, QuietHeld: al.QuietHeld}
}

func parseTime(field string, v *string) (*time.Time, error) {
	if v == nil || strings.TrimSpace(*v) == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339, strings.TrimSpace(*v))
	if err != nil {
		return nil, httperr.BadRequest("invalid_"+field, "%s %q is not an RFC 3339 time such as 2026-11-27T09:15:00+01:00", field, *v)
	}
	return &t, nil
}
