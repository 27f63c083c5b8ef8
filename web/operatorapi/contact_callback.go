package operatorapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/web/auth"
)

// callback calls the citizen of a contact back: the operator's phone or browser rings first,
// then the citizen's number.
func (v *Voice) callback(c echo.Context) error {
	sid, err := v.Desk.CallBack(c.Request().Context(), auth.User(c), c.Param("id"))
	if err != nil {
		return deskError(err)
	}
	return c.JSON(http.StatusAccepted, map[string]string{"contact_id": c.Param("id"), "call_sid": sid})
}
