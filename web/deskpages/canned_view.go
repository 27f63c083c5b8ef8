package deskpages

import (
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/config"
	"github.com/sportello/sportello/desk"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/web/auth"
	"github.com/sportello/sportello/web/pages"
)

// cannedRow is one answer in the list.
type cannedRow struct {
	desk.Canned
	ComuneName string
	SegmentsIT string
	SegmentsEN string
	Editable   bool
}

// cannedForm keeps what was typed, for a refused submission.
type cannedForm struct {
	ID, Title, TextIT, TextEN, Comune string
	Channels                          map[string]bool
}

type cannedView struct {
	L    map[string]string
	Rows []cannedRow
	// Comuni are the comuni the user may write answers for; Shared: they may write shared ones.
	Comuni   []config.Comune
	Shared   bool
	Channels []string
	Form     cannedForm
	// Editing is the edit page of Form.ID.
	Editing bool
}

var cannedChannels = []string{"sms", "email", "fax", "phone"}

func (h *Handler) comuniOf(u store.User) []config.Comune {
	var out []config.Comune
	for _, cm := range h.o.Config.Comuni {
		id := cm.ID
		if u.Scope().Allows(&id) {
			out = append(out, cm)
		}
	}
	return out
}

func (h *Handler) comuneName(id string) string {
	if cm, ok := h.o.Config.ComuneByID(id); ok {
		return cm.Name
	}
	return id
}

func formOf(c desk.Canned) cannedForm {
	f := cannedForm{ID: c.ID, Title: c.Title, TextIT: c.TextIT, TextEN: c.TextEN, Channels: map[string]bool{}}
	if c.Comune != nil {
		f.Comune = *c.Comune
	}
	for _, ch := range c.Channels {
		f.Channels[ch] = true
	}
	return f
}

// renderCanned shows the list with the new-answer form, or the edit page when editing.
func (h *Handler) renderCanned(c echo.Context, status int, form cannedForm, editing bool, notice, problem string) error {
	u := auth.User(c)
	l := textsFor(pages.Lang(c))
	v := cannedView{L: l, Comuni: h.comuniOf(u), Shared: desk.CanEditCanned(u, ""), Channels: cannedChannels, Form: form, Editing: editing}
	if v.Form.Channels == nil {
		v.Form.Channels = map[string]bool{}
	}
	if !editing {
		items, err := h.o.Desk.ListCanned(c.Request().Context(), u, "", "")
		if err != nil {
			return err
		}
		for _, it := range items {
			r := cannedRow{Canned: it, SegmentsIT: fmt.Sprintf(l["segments_fmt"], it.Segments.IT.Segments, it.Segments.IT.Encoding)}
			comune := ""
			if it.Comune != nil {
				comune = *it.Comune
				r.ComuneName = h.comuneName(comune)
			}
			if it.Segments.EN != nil {
				r.SegmentsEN = fmt.Sprintf(l["segments_fmt"], it.Segments.EN.Segments, it.Segments.EN.Encoding)
			}
			r.Editable = desk.CanEditCanned(u, comune)
			v.Rows = append(v.Rows, r)
		}
	}
	title := l["canned_title"]
	if editing {
		title = l["canned_edit"]
	}
	return h.o.Pages.Render(c, status, "canned", pages.View{Title: title, Nav: "canned", Notice: notice, Error: problem, Data: v})
}

// readCannedForm reads the answer's fields.
func readCannedForm(c echo.Context) (cannedForm, desk.CannedInput, error) {
	params, err := c.FormParams()
	if err != nil {
		return cannedForm{}, desk.CannedInput{}, &pages.Problem{Status: http.StatusBadRequest, Message: err.Error()}
	}
	f := cannedForm{Title: params.Get("title"), TextIT: params.Get("text_it"), TextEN: params.Get("text_en"), Comune: params.Get("comune"),
		Channels: map[string]bool{}}
	comune := f.Comune
	in := desk.CannedInput{Title: f.Title, TextIT: f.TextIT, TextEN: f.TextEN, Comune: &comune}
	for _, ch := range params["channels"] {
		f.Channels[ch] = true
		in.Channels = append(in.Channels, ch)
	}
	return f, in, nil
}
