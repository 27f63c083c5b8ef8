package operatorapi

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/httperr"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/web/auth"
)

// claim takes a waiting contact for the caller.
func (a *Actions) claim(c echo.Context) error {
	if err := a.Desk.Claim(c.Request().Context(), auth.User(c), c.Param("id")); err != nil {
		return deskError(err)
	}
	return a.contactJSON(c, c.Param("id"))
}

// contactJSON answers with the contact as it is now (without its thread).
func (a *Actions) contactJSON(c echo.Context, id string) error {
	ct, err := a.Store.ContactBrief(c.Request().Context(), id, auth.User(c).Scope())
	if errors.Is(err, store.ErrNotFound) {
		return httperr.NotFound("contact")
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ct)
}
