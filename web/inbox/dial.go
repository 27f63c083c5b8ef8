package inbox

import (
	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/web/auth"
	"github.com/sportello/sportello/web/pages"
)

// dial calls the contact's citizen from the operator's telephone (click-to-dial): the PBX
// places the call, or Twilio rings the operator and then the citizen.
func (in *Inbox) dial(c echo.Context) error {
	id := c.Param("id")
	dl, ok := in.o.Desk.(Dialer)
	if !ok {
		return pages.NotFound()
	}
	if _, err := dl.Dial(c.Request().Context(), auth.User(c), id); err != nil {
		return in.actionRefused(c, id, err)
	}
	return pages.Redirect(c, contactURL(id, "dialing"))
}
