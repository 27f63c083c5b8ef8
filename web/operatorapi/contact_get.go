package operatorapi

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/httperr"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/web/auth"
)

// getContact returns one contact with its whole thread; a contact outside the user's comuni
// is 404, as if it did not exist.
func (a *API) getContact(c echo.Context) error {
	ct, err := a.Store.GetContact(c.Request().Context(), c.Param("id"), auth.User(c).Scope())
	if errors.Is(err, store.ErrNotFound) {
		return httperr.NotFound("contact")
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ct)
}
