package operatorapi

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/httperr"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/web/auth"
)

// AuditList is the audit log envelope.
type AuditList struct {
	Items      []store.AuditEntry `json:"items"`
	NextCursor string             `json:"next_cursor"`
}

// listAudit pages through the audit log, newest first, from (included) to (excluded) when
// given (admins; an admin scoped to comuni sees only the entries of theirs).
func (a *Actions) listAudit(c echo.Context) error {
	q := c.QueryParams()
	f := store.AuditFilter{Actor: q.Get("actor"), Action: q.Get("action"), ContactID: q.Get("contact_id"), Cursor: q.Get("cursor"),
		Scope: auth.User(c).Scope()}
	for _, b := range []struct {
		name string
		at   *time.Time
	}{{"from", &f.Since}, {"to", &f.Until}} {
		if v := q.Get(b.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return httperr.BadRequest("invalid_"+b.name, "%s must be an RFC 3339 time", b.name)
			}
			*b.at = t
		}
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 500 {
			return httperr.BadRequest("invalid_limit", "limit must be between 1 and 500")
		}
		f.Limit = n
	}
	items, next, err := a.Store.AuditLog(c.Request().Context(), f)
	if errors.Is(err, store.ErrBadCursor) {
		return httperr.BadRequest("invalid_cursor", "cursor is not one this API returned")
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, AuditList{Items: items, NextCursor: next})
}
