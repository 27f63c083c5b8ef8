package inbox

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/web/auth"
	"github.com/sportello/sportello/web/pages"
)

type queuesView struct {
	Queues []QueueStats
}

// queues shows supervisors each queue's waiting contacts, oldest wait and available operators;
// the page refreshes itself from queuesLive.
func (in *Inbox) queues(c echo.Context) error {
	qs, err := in.o.Desk.Queues(c.Request().Context(), auth.User(c))
	if err != nil {
		return err
	}
	return in.o.Pages.Render(c, http.StatusOK, "queues", pages.View{Title: "queues_title", Nav: "queues", Data: queuesView{Queues: qs}})
}

// queuesLive is the same numbers as JSON for the page's script.
func (in *Inbox) queuesLive(c echo.Context) error {
	qs, err := in.o.Desk.Queues(c.Request().Context(), auth.User(c))
	if err != nil {
		return err
	}
	if qs == nil {
		qs = []QueueStats{}
	}
	return c.JSON(http.StatusOK, map[string]any{"items": qs})
}
