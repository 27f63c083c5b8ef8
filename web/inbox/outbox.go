package inbox

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/web/auth"
	"github.com/sportello/sportello/web/pages"
)

// outboxLimit bounds the outbox page: the newest messages are what a demo user looks for.
const outboxLimit = 200

type outboxView struct {
	Messages []store.OutboxMessage
}

// outbox shows what the gateway kept instead of sending (SMS without Twilio, email and fax
// without a relay). It holds every comune's messages, so only users of every comune see it.
func (in *Inbox) outbox(c echo.Context) error {
	if len(auth.User(c).Comuni) > 0 {
		return pages.NotFound()
	}
	msgs, err := in.o.Store.Outbox(c.Request().Context(), outboxLimit)
	if err != nil {
		return err
	}
	return in.o.Pages.Render(c, http.StatusOK, "outbox", pages.View{Title: "outbox_title", Nav: "outbox", Data: outboxView{Messages: msgs}})
}
