package reportpages

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/events"
	"github.com/sportello/sportello/web/auth"
)

// wallboardEvents streams a new picture of the board every Refresh, as Server-Sent Events;
// the page redraws its figures from each one without reloading. The stream ends when the
// supervisor's session ends or their role or comuni change (checked every auth.DefaultRecheck
// and at once on their revocation event): the page reconnects through the normal checks.
func (h *Handler) wallboardEvents(c echo.Context) error {
	u := auth.User(c)
	revocations, unsubscribe := h.subscribe()
	defer unsubscribe()
	guard := (&auth.Authenticator{Store: h.o.Store}).GuardStream(c, auth.DefaultRecheck)
	defer guard.Stop()
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
		if !h.waitNextBoard(ctx.Done(), tick.C, guard, revocations) {
			return nil
		}
	}
}

// waitNextBoard waits for the next board's time, and reports false when the stream must end
// instead: the client left or the guard says the supervisor may no longer see this board.
func (h *Handler) waitNextBoard(gone <-chan struct{}, next <-chan time.Time, guard *auth.StreamGuard, revocations <-chan events.Event) bool {
	for {
		select {
		case <-gone:
			return false
		case <-next:
			return true
		case <-guard.Recheck():
			if !guard.StillEntitled() {
				return false
			}
		case e := <-revocations:
			if guard.EndsStream(e) {
				return false
			}
		}
	}
}

// subscribe listens to the hub for revocation events; without a hub the channel never
// delivers and the periodic re-check alone ends a revoked stream.
func (h *Handler) subscribe() (<-chan events.Event, func()) {
	if h.o.Hub == nil {
		return nil, func() {}
	}
	return h.o.Hub.Subscribe(64)
}
