package operatorapi

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/httperr"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/web/auth"
)

// ContactList is the list envelope.
type ContactList struct {
	Items      []channels.Contact `json:"items"`
	NextCursor string             `json:"next_cursor"`
}

func (a *API) listContacts(c echo.Context) error {
	q := c.QueryParams()
	f := store.ContactFilter{
		Channel: q.Get("channel"), Comune: q.Get("comune"), Status: q.Get("status"), Queue: q.Get("queue"),
		Category: q.Get("category"), Assignee: q.Get("assignee"), Q: q.Get("q"), Cursor: q.Get("cursor"),
		Scope: auth.User(c).Scope(),
	}
	if f.Channel != "" && !channels.Kind(f.Channel).Valid() {
		return httperr.BadRequest("invalid_channel", "channel must be sms, email, fax, phone or pec")
	}
	switch channels.Status(f.Status) {
	case "", channels.StatusOpen, channels.StatusAssigned, channels.StatusResolved:
	default:
		return httperr.BadRequest("invalid_status", "status must be open, assigned or resolved")
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 200 {
			return httperr.BadRequest("invalid_limit", "limit must be between 1 and 200")
		}
		f.Limit = n
	}
	items, next, err := a.Store.ListContacts(c.Request().Context(), f)
	if errors.Is(err, store.ErrBadCursor) {
		return httperr.BadRequest("invalid_cursor", "cursor is not one this API returned")
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ContactList{Items: items, NextCursor: next})
}
