package inbox

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/config"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/web/auth"
	"github.com/sportello/sportello/web/pages"
)

type contactView struct {
	C channels.Contact
	// CanDial offers click-to-dial (a PBX dial URL, or a Twilio callback).
	CanDial bool
	// Recording: the answered call was recorded; it plays through the gateway.
	Recording  bool
	Comune     string
	Category   string
	Queue      string
	Who        string
	Offices    []config.Office
	Office     string
	Categories []option
	Canned     []Canned
	Users      []store.User
	// Reply keeps what the operator wrote when sending failed; ReplyError says why.
	Reply      string
	ReplyError string
	// ResolveOpen shows the resolve dialog open (asked for without JavaScript, or after an error).
	ResolveOpen  bool
	ResolveError string
	Resolution   Resolution
	SMS          bool
	Mine         bool
	// Call is a phone contact; Landline says its caller cannot get an SMS, so the page offers
	// to call back instead of a reply box.
	Call     bool
	Landline bool
	// RouteComuni are the comuni the operator may give the contact (the route form).
	RouteComuni []option
	// AppIO offers to reply by App IO: the citizen has a fiscal code, the comune a service.
	// ReplyChannel keeps the operator's choice when sending failed.
	AppIO        bool
	ReplyChannel string
}

// contact shows one contact's whole thread with the reply box and the actions.
func (in *Inbox) contact(c echo.Context) error {
	return in.renderContact(c, http.StatusOK, c.Param("id"), func(v *pages.View, cv *contactView) {
		cv.ResolveOpen = c.QueryParam("resolve") != ""
		v.Notice = pages.DoneNotice(c)
	})
}

// renderContact loads a contact in the user's scope (anything else is the 404 page) and
// renders it; adjust sets messages and kept form values.
func (in *Inbox) renderContact(c echo.Context, status int, id string, adjust func(*pages.View, *contactView)) error {
	u := auth.User(c)
	ctx := c.Request().Context()
	ct, err := in.o.Store.GetContact(ctx, id, u.Scope())
	if errors.Is(err, store.ErrNotFound) {
		return pages.NotFound()
	}
	if err != nil {
		return err
	}
	cv := contactView{C: ct, Comune: lookup(in.names.comuni, ct.Comune), Category: lookup(in.names.categories, ct.Category),
		Queue: lookup(in.names.queues, ct.Queue), Who: who(ct), Categories: in.names.catList, SMS: ct.Channel == channels.SMS,
		Mine: ct.Assignee != nil && *ct.Assignee == u.Username,
		Call: ct.Channel == channels.Phone, Landline: ct.Channel == channels.Phone && !pages.IsMobile(ct.From)}
	cv.Resolution.Category = deref(ct.Category)
	cv.RouteComuni = in.routeComuni(u, ct.Comune == nil)
	if in.o.Desk != nil {
		cv.Offices = in.o.Desk.Offices(deref(ct.Comune))
		if cv.Canned, err = in.o.Desk.CannedFor(ctx, ct); err != nil {
			return err
		}
		if ct.Channel == channels.Phone {
			if sid, err := in.o.Store.CallRecordingSID(c.Request().Context(), ct.ID); err == nil && sid != "" {
				cv.Recording = true
			}
		}
		if dl, ok := in.o.Desk.(Dialer); ok && dl.CanDial() && (ct.Channel == channels.Phone || ct.Channel == channels.SMS) {
			cv.CanDial = true
		}
		if io, ok := in.o.Desk.(AppIO); ok && ct.Citizen != nil && io.CanReplyByAppIO(deref(ct.Comune)) {
			cf, err := in.o.Store.FiscalCodeOf(ctx, ct.Citizen.ID)
			if err != nil {
				return err
			}
			cv.AppIO = cf != ""
		}
	} else if cm, ok := in.o.Config.ComuneByID(deref(ct.Comune)); ok {
		cv.Offices = cm.Offices
	}
	if u.AtLeast(store.RoleSupervisor) {
		users, err := in.o.Store.Users(ctx)
		if err != nil {
			return err
		}
		for _, op := range users {
			if op.Scope().Allows(ct.Comune) || len(op.Comuni) == 0 {
				cv.Users = append(cv.Users, op)
			}
		}
	}
	v := pages.View{Title: pages.Text(c, "contact_title") + ": " + cv.Who, Nav: "inbox"}
	if adjust != nil {
		adjust(&v, &cv)
	}
	v.Data = cv
	return in.o.Pages.Render(c, status, "contact", v)
}
