package reportpages

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/reports"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/web/auth"
	"github.com/sportello/sportello/web/pages"
)

// board is one picture of the wallboard, drawn by the page and refreshed by the stream.
type board struct {
	Queues             []boardQueue   `json:"queues"`
	Waiting            int            `json:"waiting"`
	LongestWaitSeconds int            `json:"longest_wait_seconds"`
	Presence           map[string]int `json:"presence"`
	Offered            int64          `json:"offered"`
	Answered           int64          `json:"answered"`
	Abandoned          int64          `json:"abandoned"`
	ServiceLevel       float64        `json:"service_level"` // percent
	TargetPercent      float64        `json:"target_percent"`
	TargetSeconds      int            `json:"target_seconds"`
}

type boardQueue struct {
	ID                string `json:"id"`
	Name              string `json:"name"`
	Waiting           int    `json:"waiting"`
	OldestWaitSeconds int    `json:"oldest_wait_seconds"`
}

// Presences the wallboard counts, in display order.
var presences = []string{"available", "away", "offline"}

// snapshot reads the queues, the operators and today's calls within the user's comuni.
func (h *Handler) snapshot(ctx context.Context, u store.User) (board, error) {
	b := board{Presence: map[string]int{}, Queues: []boardQueue{}, TargetPercent: h.o.Config.Reports.TargetLevel * 100}
	qs, err := h.o.Desk.Queues(ctx, u)
	if err != nil {
		return b, err
	}
	for _, q := range qs {
		b.Queues = append(b.Queues, boardQueue{ID: q.ID, Name: q.Name, Waiting: q.Waiting, OldestWaitSeconds: q.OldestWaitSeconds})
		b.Waiting += q.Waiting
		b.LongestWaitSeconds = max(b.LongestWaitSeconds, q.OldestWaitSeconds)
	}
	ops, err := h.o.Store.Operators(ctx)
	if err != nil {
		return b, err
	}
	for _, p := range presences {
		b.Presence[p] = 0
	}
	for _, op := range ops {
		if op.Role == store.RoleOperator && visible(u, op.Comuni) {
			b.Presence[op.Presence]++
		}
	}
	today := reports.DayOf(h.o.Reports.Now().In(h.o.Reports.Location())).String()
	q, err := h.o.Reports.NewQuery(today, today, "", u.Scope().Comuni)
	if err != nil {
		return b, err
	}
	sum, err := h.o.Reports.Summary(ctx, q)
	if err != nil {
		return b, err
	}
	b.Offered, b.Answered, b.Abandoned = sum.Calls.Offered, sum.Calls.Answered, sum.Calls.Abandoned
	b.ServiceLevel = reports.Round(sum.Calls.ServiceLevel*100, 1)
	b.TargetSeconds = sum.Calls.TargetSeconds
	return b, nil
}

// visible: an operator is on a supervisor's board when their comuni meet (or either has all).
func visible(u store.User, comuni []string) bool {
	if len(u.Comuni) == 0 || len(comuni) == 0 {
		return true
	}
	for _, c := range comuni {
		if contains(u.Comuni, c) {
			return true
		}
	}
	return false
}

type wallboardView struct {
	L         map[string]string
	Board     board
	Presences []string
}

// wallboard is the live board's page, drawn with the current picture.
func (h *Handler) wallboard(c echo.Context) error {
	b, err := h.snapshot(c.Request().Context(), auth.User(c))
	if err != nil {
		return err
	}
	L := textsFor(pages.Lang(c))
	return h.o.Pages.Render(c, http.StatusOK, "wallboard", pages.View{Title: L["wallboard"], Nav: "wallboard",
		Data: wallboardView{L: L, Board: b, Presences: presences}})
}
