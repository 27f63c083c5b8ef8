package reportpages

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/web/auth"
)

// wallboardEvents streams a new picture of the board every Refresh, as Server-Sent Events;
// the page redraws its figures from each one without reloading.
func (h *Handler) wallboardEvents(c echo.Context) error {
	u := auth.User(c)
	w := c.Response()
	w.Header().Set(echo.HeaderContentType, "text/event-stream")
	w.Header().Set(echo.HeaderCacheControl, "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	ctx := c.Request().Context()
	tick := time.NewTicker(h.o.Refresh)
	defer tick.Stop()
	for {
		b, err := h.snapshot(ctx, u)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			h.o.Logger.Warn("wallboard snapshot", "err", err)
			if _, err := fmt.Fprint(w, ": retrying\n\n"); err != nil {
				return nil
			}
		} else {
			data, err := json.Marshal(b)
			if err != nil {
				return err
			}
			if _, err := fmt.Fprintf(w, "event: board\ndata: %s\n\n", data); err != nil {
				return nil // the wall screen went away
			}
		}
		w.Flush()
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}
