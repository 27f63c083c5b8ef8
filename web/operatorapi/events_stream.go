package operatorapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/events"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/web/auth"
)

// DefaultHeartbeat is how often an idle event stream sends a comment, so proxies keep it open
// and a vanished client is noticed.
const DefaultHeartbeat = 15 * time.Second

// streamEvents is Server-Sent Events of contacts created and changed: each event's data is the
// contact's JSON (without its thread), loaded with the caller's scope, so contacts of other
// comuni never reach them. Queue changes come as small {"type","comune"} objects. The stream
// ends when the caller's token stops working or their role or scope changes.
func (a *Actions) streamEvents(c echo.Context) error {
	sc := auth.User(c).Scope()
	sub, stop := a.Hub.Subscribe(512)
	defer stop()
	w := c.Response()
	h := w.Header()
	h.Set(echo.HeaderContentType, "text/event-stream; charset=utf-8")
	h.Set(echo.HeaderCacheControl, "no-cache")
	h.Set("X-Accel-Buffering", "no")
	// The server's read timeout must not end a stream that lives for hours.
	_ = http.NewResponseController(w).SetReadDeadline(time.Time{})
	w.WriteHeader(http.StatusOK)
	if _, err := fmt.Fprint(w, "retry: 3000\n: connected\n\n"); err != nil {
		return nil
	}
	w.Flush()
	beat := a.Heartbeat
	if beat <= 0 {
		beat = DefaultHeartbeat
	}
	tick := time.NewTicker(beat)
	defer tick.Stop()
	// sc is the scope at opening: the guard ends the stream once the user's scope, role or
	// credentials are no longer those, and the client reconnects with what it has now.
	guard := a.Auth.GuardStream(c, a.Recheck)
	defer guard.Stop()
	ctx := c.Request().Context()
	for {
		var frame []byte
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			frame = []byte(": heartbeat\n\n")
		case <-guard.Recheck():
			if !guard.StillEntitled() {
				return nil
			}
			continue
		case e := <-sub:
			if guard.EndsStream(e) {
				return nil
			}
			frame = a.frame(c, e, sc)
			if frame == nil {
				continue
			}
		}
		if _, err := w.Write(frame); err != nil {
			return nil // the client went away
		}
		w.Flush()
	}
}

// frame renders one event for this caller, or nil when it is not theirs to see.
func (a *Actions) frame(c echo.Context, e events.Event, sc store.Scope) []byte {
	var data []byte
	var err error
	switch {
	case e.ContactID != "":
		ct, lerr := a.Store.ContactBrief(c.Request().Context(), e.ContactID, sc)
		if errors.Is(lerr, store.ErrNotFound) {
			return nil
		}
		if lerr != nil {
			if a.Logger != nil && c.Request().Context().Err() == nil {
				a.Logger.Warn("loading a contact for the event stream failed", "contact", e.ContactID, "err", lerr)
			}
			return nil
		}
		data, err = json.Marshal(ct)
	case e.Type == events.QueueChanged:
		if e.Comune != "" && !sc.Allows(&e.Comune) {
			return nil
		}
		data, err = json.Marshal(e)
	default:
		return nil
	}
	if err != nil {
		return nil
	}
	return []byte("event: " + e.Type + "\ndata: " + string(data) + "\n\n")
}
