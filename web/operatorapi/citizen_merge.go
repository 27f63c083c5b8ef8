package operatorapi

import (
	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/web/auth"
)

type mergeRequest struct {
	CitizenID string `json:"citizen_id"`
}

// mergeCitizen folds the citizen named in the body into the one in the path.
func (a *Actions) mergeCitizen(c echo.Context) error {
	var req mergeRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if err := a.Desk.Merge(c.Request().Context(), auth.User(c), c.Param("id"), req.CitizenID); err != nil {
		return deskError(err)
	}
	return a.getCitizen(c)
}
