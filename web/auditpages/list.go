package auditpages

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/web/auth"
	"github.com/sportello/sportello/web/pages"
)

// Actions the filter offers; the log may hold others (each feature adds its own), shown as
// they are stored.
var actions = []string{store.AuditAssign, store.AuditClaim, store.AuditUnassign, store.AuditReply, store.AuditResolve,
	store.AuditMerge, store.AuditPresence, store.AuditEscalate, store.AuditReroute}

// listView is the audit page.
type listView struct {
	L       map[string]string
	Form    filterForm
	Actions []string
	Entries []store.AuditEntry
	// Next is the URL of the older entries ("" on the last page); First is set past page one.
	Next, First string
	// Bad names the field the error is about, for aria-invalid.
	Bad string
}

// filterForm is what the admin typed, shown back as typed.
type filterForm struct {
	Actor, Action, Contact, From, To string
}

// list shows a page of the audit log.
func (h *Handler) list(c echo.Context) error {
	q := c.QueryParams()
	lang := pages.Lang(c)
	v := listView{L: textsFor(lang), Actions: actions, Form: filterForm{Actor: strings.TrimSpace(q.Get("actor")),
		Action: strings.TrimSpace(q.Get("action")), Contact: strings.TrimSpace(q.Get("contact")),
		From: strings.TrimSpace(q.Get("from")), To: strings.TrimSpace(q.Get("to"))}}
	f, bad := h.filter(v.Form)
	if bad != "" {
		// What was typed stays in the form; nothing is listed until the dates make sense.
		v.Bad = bad
		return h.render(c, http.StatusBadRequest, v, v.L["bad_"+bad])
	}
	f.Scope, f.Limit, f.Cursor = auth.User(c).Scope(), h.o.PageSize, q.Get("cursor")
	items, next, err := h.o.Store.AuditLog(c.Request().Context(), f)
	if errors.Is(err, store.ErrBadCursor) {
		v.Bad = "cursor"
		return h.render(c, http.StatusBadRequest, v, v.L["bad_cursor"])
	}
	if err != nil {
		return err
	}
	v.Entries = items
	keep := url.Values{}
	for k, val := range map[string]string{"actor": v.Form.Actor, "action": v.Form.Action, "contact": v.Form.Contact, "from": v.Form.From, "to": v.Form.To} {
		if val != "" {
			keep.Set(k, val)
		}
	}
	if next != "" {
		nq := url.Values{}
		for k, vs := range keep {
			nq[k] = vs
		}
		nq.Set("cursor", next)
		v.Next = Prefix + "?" + nq.Encode()
	}
	if f.Cursor != "" {
		v.First = Prefix
		if len(keep) > 0 {
			v.First += "?" + keep.Encode()
		}
	}
	return h.render(c, http.StatusOK, v, "")
}

// filter turns the form into the store's filter; bad names the field that is wrong. Dates are
// days in the centre's time zone, both included.
func (h *Handler) filter(fm filterForm) (store.AuditFilter, string) {
	f := store.AuditFilter{Actor: fm.Actor, Action: fm.Action, ContactID: fm.Contact}
	loc := h.o.Pages.Location()
	var err error
	if fm.From != "" {
		if f.Since, err = time.ParseInLocation(time.DateOnly, fm.From, loc); err != nil {
			return f, "from"
		}
	}
	if fm.To != "" {
		to, err := time.ParseInLocation(time.DateOnly, fm.To, loc)
		if err != nil {
			return f, "to"
		}
		f.Until = to.AddDate(0, 0, 1)
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		return f, "range"
	}
	return f, ""
}

func (h *Handler) render(c echo.Context, status int, v listView, problem string) error {
	return h.o.Pages.Render(c, status, "audit", pages.View{Title: v.L["title"], Nav: "audit", Error: problem, Data: v})
}
