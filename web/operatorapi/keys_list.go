package operatorapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/web/auth"
)

// KeyList is the API keys envelope.
type KeyList struct {
	Items      []KeyJSON `json:"items"`
	NextCursor string    `json:"next_cursor"`
}

func (a *Admin) listKeys(c echo.Context) error {
	ks, err := a.Admin.Keys(c.Request().Context(), auth.User(c))
	if err != nil {
		return adminError(err)
	}
	out := KeyList{Items: make([]KeyJSON, 0, len(ks))}
	for _, k := range ks {
		out.Items = append(out.Items, keyJSON(k))
	}
	return c.JSON(http.StatusOK, out)
}
