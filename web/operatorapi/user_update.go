package operatorapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/admin"
	"github.com/sportello/sportello/web/auth"
)

func (a *Admin) updateUser(c echo.Context) error {
	var p admin.Patch
	if err := decodeStrict(c, &p); err != nil {
		return err
	}
	u, err := a.Admin.UpdateUser(c.Request().Context(), auth.User(c), c.Param("username"), p)
	if err != nil {
		return adminError(err)
	}
	return c.JSON(http.StatusOK, userJSON(u))
}
