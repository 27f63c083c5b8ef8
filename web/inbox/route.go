package inbox

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/web/auth"
	"github.com/sportello/sportello/web/pages"
)

// route decides a contact's comune and/or corrects its category (the desk re-queues it and
// audits the change). A contact the change moves out of the operator's comuni leaves their
// view: they go back to the inbox, told where it went.
func (in *Inbox) route(c echo.Context) error {
	id := c.Param("id")
	u := auth.User(c)
	comune, category := strings.TrimSpace(c.FormValue("comune")), strings.TrimSpace(c.FormValue("category"))
	var err error
	if comune == "" && category == "" {
		err = &pages.Problem{Status: http.StatusUnprocessableEntity, Key: "err_empty_route"}
	} else {
		err = in.o.Desk.Route(c.Request().Context(), u, id, comune, category)
	}
	if err != nil {
		return in.actionRefused(c, id, err)
	}
	if _, err := in.o.Store.GetContact(c.Request().Context(), id, u.Scope()); errors.Is(err, store.ErrNotFound) {
		return pages.Redirect(c, "/inbox?done=routed_away")
	} else if err != nil {
		return err
	}
	return pages.Redirect(c, contactURL(id, "routed"))
}

// routeComuni are the comuni the user may give a contact: their own, and for a contact still
// undecided every comune the shared numbers serve.
func (in *Inbox) routeComuni(u store.User, undecided bool) []option {
	var out []option
	shared := in.o.Config.UndecidedComuni()
	for _, o := range in.names.comuneList {
		id := o.ID
		if u.Scope().Allows(&id) || (undecided && u.SeesUndecided && slices.Contains(shared, id)) {
			out = append(out, o)
		}
	}
	return out
}
