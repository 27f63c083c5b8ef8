package operatorapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/admin"
	"github.com/sportello/sportello/web/auth"
)

// CreatedUser is the answer to a creation: the password only when the gateway made it.
type CreatedUser struct {
	User     UserJSON `json:"user"`
	Password string   `json:"password,omitempty"`
}

func (a *Admin) createUser(c echo.Context) error {
	var n admin.NewUser
	if err := decodeStrict(c, &n); err != nil {
		return err
	}
	u, pw, err := a.Admin.CreateUser(c.Request().Context(), auth.User(c), n)
	if err != nil {
		return adminError(err)
	}
	return c.JSON(http.StatusCreated, CreatedUser{User: userJSON(u), Password: pw})
}
