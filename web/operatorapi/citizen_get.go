package operatorapi

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/httperr"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/web/auth"
)

// getCitizen returns a citizen's identities and every contact of theirs the caller may see.
func (a *Actions) getCitizen(c echo.Context) error {
	ct, err := a.Store.GetCitizen(c.Request().Context(), c.Param("id"), auth.User(c).Scope())
	if errors.Is(err, store.ErrNotFound) {
		return httperr.NotFound("citizen")
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ct)
}
