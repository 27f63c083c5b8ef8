package inbox

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/web/auth"
	"github.com/sportello/sportello/web/pages"
)

// filter is the list's selection, as in the page's query string.
type filter struct {
	Queue, Channel, Comune, Status, Category, Q, Assignee string
}

func (f filter) values() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"queue": f.Queue, "channel": f.Channel, "comune": f.Comune, "status": f.Status,
		"category": f.Category, "q": f.Q, "assignee": f.Assignee} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v
}

// Any reports whether something is selected besides the queue.
func (f filter) Any() bool {
	return f.Channel != "" || f.Comune != "" || f.Status != "" || f.Category != "" || f.Q != "" || f.Assignee != ""
}

type listView struct {
	Filter     filter
	Queues     []option
	Comuni     []option
	Categories []option
	Channels   []string
	Statuses   []string
	Rows       []row
	NextURL    string
	// QueueURLs link each queue tab, other filters kept.
	QueueURLs map[string]string
	AllURL    string
	// Live is true on the first page: new contacts are added at the top as they come.
	Live bool
	// Me is the signed-in username, for the "mine" filter in live updates.
	Me string
	// Undecided offers the filter of contacts whose comune is still to be decided.
	Undecided bool
}

// list shows contacts newest first, by queue, filtered and searched, a page at a time.
func (in *Inbox) list(c echo.Context) error {
	u := auth.User(c)
	q := c.QueryParams()
	f := filter{Queue: q.Get("queue"), Channel: q.Get("channel"), Comune: q.Get("comune"), Status: q.Get("status"),
		Category: q.Get("category"), Q: q.Get("q"), Assignee: q.Get("assignee")}
	v := pages.View{Title: "inbox_title", Nav: "inbox"}
	if f.Assignee == "me" {
		v.Nav = "mine"
	}
	if f.Channel != "" && !channels.Kind(f.Channel).Valid() {
		v.Error, f.Channel = pages.Text(c, "err_bad_channel"), ""
	}
	switch channels.Status(f.Status) {
	case "", channels.StatusOpen, channels.StatusAssigned, channels.StatusResolved:
	default:
		v.Error, f.Status = pages.Text(c, "err_bad_status"), ""
	}
	sf := store.ContactFilter{Channel: f.Channel, Comune: f.Comune, Status: f.Status, Queue: f.Queue, Category: f.Category,
		Q: f.Q, Assignee: f.Assignee, Cursor: q.Get("cursor"), Limit: 50, Scope: u.Scope()}
	if f.Assignee == "me" {
		sf.Assignee = u.Username
	}
	items, next, err := in.o.Store.ListContacts(c.Request().Context(), sf)
	if errors.Is(err, store.ErrBadCursor) {
		sf.Cursor = ""
		v.Error = pages.Text(c, "err_bad_cursor")
		items, next, err = in.o.Store.ListContacts(c.Request().Context(), sf)
	}
	if err != nil {
		return err
	}
	lv := listView{Filter: f, Queues: in.names.queueList, Categories: in.names.catList,
		Channels: []string{"sms", "email", "fax", "phone", "pec"}, Statuses: []string{"open", "assigned", "resolved"},
		Live: sf.Cursor == "", Me: u.Username, QueueURLs: map[string]string{}, Undecided: u.Scope().Allows(nil)}
	if n := c.QueryParam("done"); n == "routed_away" {
		v.Notice = pages.Text(c, "done_"+n)
	}
	for _, cm := range in.names.comuneList {
		if u.Scope().Allows(&cm.ID) {
			lv.Comuni = append(lv.Comuni, cm)
		}
	}
	for _, it := range items {
		lv.Rows = append(lv.Rows, in.row(it))
	}
	if next != "" {
		nv := f.values()
		nv.Set("cursor", next)
		lv.NextURL = "/inbox?" + nv.Encode()
	}
	for _, qu := range in.names.queueList {
		qv := f.values()
		qv.Set("queue", qu.ID)
		lv.QueueURLs[qu.ID] = "/inbox?" + qv.Encode()
	}
	av := f.values()
	av.Del("queue")
	lv.AllURL = "/inbox"
	if len(av) > 0 {
		lv.AllURL += "?" + av.Encode()
	}
	v.Data = lv
	return in.o.Pages.Render(c, http.StatusOK, "inbox", v)
}

func (in *Inbox) row(ct channels.Contact) row {
	summary := ct.Subject
	if summary == "" {
		summary = ct.Body
	}
	return row{
		ID: ct.ID, URL: "/inbox/contacts/" + url.PathEscape(ct.ID), Channel: string(ct.Channel),
		Received: ct.ReceivedAt.In(in.o.Pages.Location()).Format("02/01/2006 15:04"), ReceivedAt: ct.ReceivedAt.UTC().Format("2006-01-02T15:04:05Z"),
		Who: who(ct), From: pages.PlainName(ct.From), Summary: snippet(summary, 90),
		Comune: lookup(in.names.comuni, ct.Comune), ComuneID: deref(ct.Comune),
		Category: lookup(in.names.categories, ct.Category), CategoryID: deref(ct.Category),
		Queue: lookup(in.names.queues, ct.Queue), QueueID: deref(ct.Queue),
		Status: string(ct.Status), Assignee: deref(ct.Assignee), Escalated: ct.Escalated,
		PECAnomaly: ct.PEC != nil && ct.PEC.Anomaly, DeliveryOverdue: ct.DeliveryOverdue,
	}
}
