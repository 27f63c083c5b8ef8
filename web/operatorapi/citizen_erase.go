package operatorapi

import (
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/httperr"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/web/auth"
)

type eraseRequest struct {
	Reason string `json:"reason"`
}

// EraseResult answers an erasure: what it changed.
type EraseResult struct {
	CitizenID string              `json:"citizen_id"`
	Erased    store.ErasureCounts `json:"erased"`
}

// maxReasonChars bounds an erasure's reason (it is kept in the audit log).
const maxReasonChars = 500

// eraseCitizen erases a citizen's personal data (GDPR art. 17), with the reason the audit log
// keeps (admins; a scoped admin only for a citizen whose every contact and alert subscription is in their comuni).
func (a *Actions) eraseCitizen(c echo.Context) error {
	var req eraseRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	reason := strings.TrimSpace(req.Reason)
	if reason == "" {
		return httperr.BadRequest("reason_required", "an erasure needs a reason (it is kept in the audit log)")
	}
	if utf8.RuneCountInString(reason) > maxReasonChars {
		return httperr.BadRequest("reason_too_long", "the reason must be at most %d characters", maxReasonChars)
	}
	u := auth.User(c)
	counts, err := a.Desk.EraseCitizen(c.Request().Context(), u, c.Param("id"), reason)
	var scrub *store.ScrubError
	if errors.As(err, &scrub) {
		// Erased and committed: the answer says files_scrubbed false, and the log why.
		a.Logger.Warn("erasure: database files not scrubbed", "citizen", c.Param("id"), "err", scrub.Err)
		err = nil
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return httperr.NotFound("citizen")
	case errors.Is(err, store.ErrOutOfScope):
		return httperr.New(http.StatusForbidden, "out_of_scope", "%s: an admin of every comune must erase them", store.ErrOutOfScope.Error())
	case err != nil:
		return err
	}
	return c.JSON(http.StatusOK, EraseResult{CitizenID: c.Param("id"), Erased: counts})
}
