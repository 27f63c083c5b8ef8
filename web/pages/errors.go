package pages

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/httperr"
)

// Problem is an error shown as a page: the status and a translated message (Key), or a
// message already in words (Message, e.g. from the desk).
type Problem struct {
	Status int
	Key    string
	// Code is the machine-readable reason of a refusal from elsewhere (the desk); when the
	// texts have "err_<code>", that is shown instead of Message.
	Code       string
	Message    string
	RetryAfter time.Duration
}

func (e *Problem) Error() string { return fmt.Sprintf("%d %s%s", e.Status, e.Key, e.Message) }

// NotFound is the page for anything missing or outside the user's comuni: the same answer, so
// nothing tells one from the other.
func NotFound() *Problem { return &Problem{Status: http.StatusNotFound, Key: "err_not_found"} }

type errorView struct {
	Status     int
	StatusText string
	Message    string
}

// ErrorPages turns a handler's error into a page in the visitor's language.
func (p *Pages) ErrorPages(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		err := next(c)
		if err == nil || c.Response().Committed {
			return err
		}
		return p.RenderError(c, err)
	}
}

// RenderError writes the error page for err.
func (p *Pages) RenderError(c echo.Context, err error) error {
	t := T(Lang(c))
	pr := &Problem{Status: http.StatusInternalServerError, Key: "err_internal"}
	var he *httperr.Error
	var eh *echo.HTTPError
	switch {
	case errors.As(err, &pr):
	case errors.As(err, &he):
		pr = &Problem{Status: he.Status, Message: he.Message}
		if he.Status == http.StatusNotFound {
			pr.Key, pr.Message = "err_not_found", ""
		}
	case errors.As(err, &eh):
		pr = &Problem{Status: eh.Code, Key: "err_generic"}
		if eh.Code == http.StatusNotFound {
			pr.Key = "err_not_found"
		}
	default:
		pr = &Problem{Status: http.StatusInternalServerError, Key: "err_internal"}
	}
	if pr.Status >= 500 {
		p.o.Logger.Error("page failed", "path", c.Request().URL.Path, "err", err,
			"request_id", c.Response().Header().Get(echo.HeaderXRequestID))
	}
	msg := ProblemText(c, pr)
	if pr.RetryAfter > 0 {
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(pr.RetryAfter.Seconds())+1))
	}
	st := t["status_"+strconv.Itoa(pr.Status)]
	if st == "" {
		st = http.StatusText(pr.Status)
	}
	return p.Render(c, pr.Status, "error", View{Title: st, Data: errorView{Status: pr.Status, StatusText: st, Message: msg}})
}

// ProblemText is a problem in the visitor's language: its own key, a known code, or its message.
func ProblemText(c echo.Context, pr *Problem) string {
	t := T(Lang(c))
	if pr.Key != "" {
		if s, ok := t[pr.Key]; ok {
			return s
		}
	}
	if pr.Code != "" {
		if s, ok := t["err_"+pr.Code]; ok {
			return s
		}
	}
	// A message from elsewhere (the desk, the alerts service) is in English: an Italian page
	// never shows it raw (every code it can show has its err_ text).
	if pr.Message != "" && Lang(c) == "en" {
		return pr.Message
	}
	return t["err_generic"]
}
