package operatorapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/web/auth"
)

func (a *Admin) getUser(c echo.Context) error {
	u, err := a.Admin.User(c.Request().Context(), auth.User(c), c.Param("username"))
	if err != nil {
		return adminError(err)
	}
	return c.JSON(http.StatusOK, userJSON(u))
}
