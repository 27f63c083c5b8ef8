package operatorapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/store"
)

// UserList is the users envelope.
type UserList struct {
	Items      []store.OperatorState `json:"items"`
	NextCursor string                `json:"next_cursor"`
}

// listUsers shows every user with presence, capacity and open contacts (supervisors and up).
func (a *Actions) listUsers(c echo.Context) error {
	ops, err := a.Store.Operators(c.Request().Context())
	if err != nil {
		return err
	}
	if ops == nil {
		ops = []store.OperatorState{}
	}
	return c.JSON(http.StatusOK, UserList{Items: ops})
}
