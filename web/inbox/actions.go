package inbox

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/web/pages"
)

// registerActions mounts the forms that change something. Each goes through the desk, so the
// pages and the JSON API behave alike; a refusal is shown on the page it came from.
func (in *Inbox) registerActions(g *echo.Group) {
	g.POST("/presence", in.setPresence)
	g.POST("/contacts/:id/reply", in.reply)
	g.POST("/contacts/:id/claim", in.claim)
	g.POST("/contacts/:id/assign", in.assign)
	g.POST("/contacts/:id/resolve", in.resolve)
	g.POST("/contacts/:id/route", in.route)
	g.POST("/contacts/:id/dial", in.dial)
	g.POST("/citizens/:id/merge", in.merge)
	g.POST("/citizens/:id/fiscal_code", in.addFiscalCode)
}

// refusal is the desk's answer when it declined an action (bad input, not allowed, a channel
// not configured), as opposed to a failure of the gateway.
func refusal(err error) (*pages.Problem, bool) {
	var p *pages.Problem
	if errors.As(err, &p) && (p.Status < 500 || p.Code != "") {
		return p, true
	}
	return nil, false
}

// message is a refusal in words.
func message(c echo.Context, p *pages.Problem) string { return pages.ProblemText(c, p) }

func contactURL(id, done string) string {
	u := "/inbox/contacts/" + url.PathEscape(id)
	if done != "" {
		u += "?done=" + url.QueryEscape(done)
	}
	return u
}

// statusOf is the page status for a refusal: 404 stays 404, the rest are the desk's own 4xx.
func statusOf(p *pages.Problem) int {
	if p.Status == 0 {
		return http.StatusBadRequest
	}
	return p.Status
}
