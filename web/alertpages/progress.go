package alertpages

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/events"
	"github.com/sportello/sportello/web/auth"
)

// progress is the alert's counts as JSON (the page polls it when it cannot stream).
func (h *Handler) progress(c echo.Context) error {
	st, err := h.alertOf(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, progressOf(c, st))
}

// events streams the alert's counts as Server-Sent Events, one "progress" event each time the
// fan-out reports (a few a second at most), until the alert ends, the page goes away or the
// user's session, role or comuni change.
func (h *Handler) events(c echo.Context) error {
	st, err := h.alertOf(c)
	if err != nil {
		return err
	}
	if h.o.Hub == nil {
		return echo.NewHTTPError(http.StatusNotImplemented, "no live events in this process")
	}
	sub, unsubscribe := h.o.Hub.Subscribe(64)
	defer unsubscribe()
	w := c.Response()
	w.Header().Set(echo.HeaderContentType, "text/event-stream; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	send := func() (bool, error) {
		cur, err := h.alertOf(c)
		if err != nil {
			return false, err
		}
		p := progressOf(c, cur)
		b, err := json.Marshal(p)
		if err != nil {
			return false, err
		}
		if _, err := fmt.Fprintf(w, "event: progress\ndata: %s\n\n", b); err != nil {
			return false, err
		}
		w.Flush()
		ended := cur.Status != "scheduled" && cur.Status != "sending" && cur.Counts.Queued == 0 && cur.Counts.Sending == 0
		return ended, nil
	}
	if ended, err := send(); err != nil || ended {
		return h.done(w, err)
	}
	// The alert was checked against the user at opening: the guard ends the stream once
	// their session, role or comuni are no longer those (without "done": the page reconnects
	// through the normal checks).
	guard := (&auth.Authenticator{Store: h.o.Store}).GuardStream(c, auth.DefaultRecheck)
	defer guard.Stop()
	ctx := c.Request().Context()
	heartbeat := time.NewTicker(h.o.Heartbeat)
	defer heartbeat.Stop()
	// Progress events are throttled at the source; a slow tick also catches deliveries
	// reported by status callbacks after the fan-out ended.
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-heartbeat.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return nil
			}
			w.Flush()
		case <-guard.Recheck():
			if !guard.StillEntitled() {
				return nil
			}
		case e := <-sub:
			if guard.EndsStream(e) {
				return nil
			}
			if e.Type != events.AlertProgress || e.AlertID != st.ID {
				continue
			}
			if ended, err := send(); err != nil || ended {
				return h.done(w, err)
			}
		case <-tick.C:
			if ended, err := send(); err != nil || ended {
				return h.done(w, err)
			}
		}
	}
}

// done ends the stream with a "done" event, so the page stops listening instead of reconnecting.
func (h *Handler) done(w *echo.Response, err error) error {
	if err != nil {
		h.o.Logger.Debug("alert progress stream ended", "err", err)
		return nil
	}
	if _, err := fmt.Fprint(w, "event: done\ndata: {}\n\n"); err != nil {
		h.o.Logger.Debug("alert progress stream ended", "err", err) // the page went away first
		return nil
	}
	w.Flush()
	return nil
}
