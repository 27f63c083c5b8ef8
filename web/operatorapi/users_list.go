package operatorapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/web/auth"
)

// UserList is the users envelope.
type UserList struct {
	Items      []store.OperatorState `json:"items"`
	NextCursor string                `json:"next_cursor"`
}

// listUsers shows the users with presence, capacity and open contacts (supervisors and up).
// A caller scoped to comuni sees only the users who share one of them, with only those comuni
// listed: staff of other comuni, and unscoped central staff, are not theirs to see.
func (a *Actions) listUsers(c echo.Context) error {
	ops, err := a.Store.Operators(c.Request().Context())
	if err != nil {
		return err
	}
	sc := auth.User(c).Scope()
	out := []store.OperatorState{}
	for _, o := range ops {
		if sc.Comuni != nil {
			shared := []string{}
			for _, cm := range o.Comuni {
				if sc.Allows(&cm) {
					shared = append(shared, cm)
				}
			}
			if len(shared) == 0 {
				continue
			}
			o.Comuni = shared
		}
		out = append(out, o)
	}
	return c.JSON(http.StatusOK, UserList{Items: out})
}
