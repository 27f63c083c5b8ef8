package operatorapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/web/auth"
)

func (a *Admin) revokeKey(c echo.Context) error {
	k, err := a.Admin.RevokeKey(c.Request().Context(), auth.User(c), c.Param("id"))
	if err != nil {
		return adminError(err)
	}
	return c.JSON(http.StatusOK, keyJSON(k))
}
