package operatorapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/web/auth"
)

// NewKey is the body of POST /api/v1/keys.
type NewKey struct {
	Comune string `json:"comune"`
	Name   string `json:"name"`
}

// CreatedKey is the answer to a creation: the key itself, shown this once.
type CreatedKey struct {
	KeyJSON
	Key string `json:"key"`
}

func (a *Admin) createKey(c echo.Context) error {
	var n NewKey
	if err := decodeStrict(c, &n); err != nil {
		return err
	}
	k, secret, err := a.Admin.CreateKey(c.Request().Context(), auth.User(c), n.Comune, n.Name)
	if err != nil {
		return adminError(err)
	}
	return c.JSON(http.StatusCreated, CreatedKey{KeyJSON: keyJSON(k), Key: secret})
}
