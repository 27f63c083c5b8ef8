package inbox

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/web/auth"
	"github.com/sportello/sportello/web/pages"
)

type citizenView struct {
	C      channels.Citizen
	Name   string
	Comune string
	Rows   []row
	// MergeID keeps the id typed when a merge failed.
	MergeID string
	// Consents is the history of the citizen's numbers' alert subscriptions, newest first.
	Consents []consentRow
	// CanAddFiscalCode shows the form that gives the citizen a fiscal code (they have none);
	// FiscalCode keeps what was typed when it was refused.
	CanAddFiscalCode bool
	FiscalCode       string
	// ErasedOn is the date the citizen's data was erased ("" when it was not).
	ErasedOn string
	// EraseReason keeps the reason typed when an erasure was refused.
	EraseReason string
}

// citizen shows one person across every channel: identities and every contact in scope.
func (in *Inbox) citizen(c echo.Context) error {
	return in.renderCitizen(c, http.StatusOK, c.Param("id"), func(v *pages.View, cv *citizenView) {
		v.Notice = pages.DoneNotice(c)
	})
}

func (in *Inbox) renderCitizen(c echo.Context, status int, id string, adjust func(*pages.View, *citizenView)) error {
	u := auth.User(c)
	cz, err := in.o.Store.GetCitizen(c.Request().Context(), id, u.Scope())
	if errors.Is(err, store.ErrNotFound) {
		return pages.NotFound()
	}
	if err != nil {
		return err
	}
	cv := citizenView{C: cz, Name: pages.PlainName(cz.Name), Comune: lookup(in.names.comuni, cz.Comune)}
	if cv.Name == "" && len(cz.Identities) > 0 {
		cv.Name = pages.PlainName(cz.Identities[0].Value)
	}
	if cz.ErasedAt != nil {
		cv.ErasedOn = cz.ErasedAt.In(in.o.Pages.Location()).Format("02/01/2006 15:04")
		if cv.Name == "" {
			cv.Name = store.Erased
		}
	}
	for _, ct := range cz.Contacts {
		cv.Rows = append(cv.Rows, in.row(ct))
	}
	if cv.Consents, err = in.consents(c.Request().Context(), cz, u.Scope()); err != nil {
		return err
	}
	if _, ok := in.o.Desk.(AppIO); ok && cz.FiscalCode == nil {
		cv.CanAddFiscalCode = true
	}
	v := pages.View{Title: pages.Text(c, "citizen_title") + ": " + cv.Name, Nav: "inbox"}
	if adjust != nil {
		adjust(&v, &cv)
	}
	v.Data = cv
	return in.o.Pages.Render(c, status, "citizen", v)
}
