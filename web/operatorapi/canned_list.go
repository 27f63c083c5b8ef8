package operatorapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/web/auth"
)

// listCanned lists the canned answers the caller may see (shared ones and their comuni's),
// narrowed by ?comune= (that comune's and the shared ones) and ?channel=.
func (a *Actions) listCanned(c echo.Context) error {
	items, err := a.Desk.ListCanned(c.Request().Context(), auth.User(c), c.QueryParam("comune"), c.QueryParam("channel"))
	if err != nil {
		return deskError(err)
	}
	return c.JSON(http.StatusOK, map[string]any{"items": items, "next_cursor": ""})
}
