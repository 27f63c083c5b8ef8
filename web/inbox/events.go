package inbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/events"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/web/auth"
)

// heartbeat keeps proxies from closing an idle stream.
const heartbeat = 20 * time.Second

// liveContact is the data of a "contact" event: the contact as the API shows it, plus the
// list row with names resolved, so the page adds it without asking again.
type liveContact struct {
	Type    string           `json:"type"`
	Contact channels.Contact `json:"contact"`
	Row     row              `json:"row"`
}

// events streams new and changed contacts the user may see, as Server-Sent Events.
func (in *Inbox) events(c echo.Context) error {
	u := auth.User(c)
	ctx := c.Request().Context()
	sub, cancel := in.o.Hub.Subscribe(256)
	defer cancel()
	w := c.Response()
	h := w.Header()
	h.Set(echo.HeaderContentType, "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	// A reconnecting browser waits 3 s, not its default, after a restart.
	if _, err := fmt.Fprint(w, "retry: 3000\n: connected\n\n"); err != nil {
		return nil
	}
	w.Flush()
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	// u is the user at opening: the guard ends the stream once their session, role or scope
	// are no longer those, and the browser reconnects with what they have now.
	guard := (&auth.Authenticator{Store: in.o.Store}).GuardStream(c, auth.DefaultRecheck)
	defer guard.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-in.done:
			return nil
		case <-guard.Recheck():
			if !guard.StillEntitled() {
				return nil
			}
		case <-tick.C:
			if _, err := fmt.Fprint(w, ": ping\n\n"); err != nil {
				return nil
			}
			w.Flush()
		case e := <-sub:
			if guard.EndsStream(e) {
				return nil
			}
			msg, err := in.eventMessage(c, u, e)
			if err != nil {
				in.o.Logger.Warn("live event not sent", "type", e.Type, "contact", e.ContactID, "err", err)
				continue
			}
			if msg == "" {
				continue
			}
			if _, err := fmt.Fprint(w, msg); err != nil {
				return nil
			}
			w.Flush()
		}
	}
}

// eventMessage renders one event for this user ("" when it is none of their business).
func (in *Inbox) eventMessage(c echo.Context, u store.User, e events.Event) (string, error) {
	switch {
	case strings.HasPrefix(e.Type, "contact."):
		if e.ContactID == "" {
			return "", nil
		}
		if e.Comune != "" && !u.Scope().Allows(&e.Comune) {
			return "", nil
		}
		ct, err := in.o.Store.GetContact(c.Request().Context(), e.ContactID, u.Scope())
		if errors.Is(err, store.ErrNotFound) {
			return "", nil
		}
		if err != nil {
			return "", err
		}
		ct.Messages = nil
		b, err := json.Marshal(liveContact{Type: e.Type, Contact: ct, Row: in.row(ct)})
		if err != nil {
			return "", err
		}
		return "event: contact\ndata: " + string(b) + "\n\n", nil
	case e.Type == events.QueueChanged:
		return "event: queues\ndata: {}\n\n", nil
	case e.Type == events.ScreenPop:
		if e.User != u.Username || e.ContactID == "" {
			return "", nil
		}
		if _, err := in.o.Store.ContactHead(c.Request().Context(), e.ContactID, u.Scope()); err != nil {
			return "", nil
		}
		b, err := json.Marshal(map[string]string{"contact_id": e.ContactID, "url": "/inbox/contacts/" + e.ContactID})
		if err != nil {
			return "", err
		}
		return "event: screenpop\ndata: " + string(b) + "\n\n", nil
	}
	return "", nil
}
