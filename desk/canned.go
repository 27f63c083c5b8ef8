package desk

import (
	"strings"
)

// Canned is a ready answer an operator can put in the reply box.
type Canned struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Body  string `json:"body"`
}

// cannedFiles are the canned answers under templates/sms/canned/, in the order shown: each file's
// first line is its title, the rest its text ({{.Hours}} is the centre's opening hours).
var cannedFiles = []string{"01_presa-in-carico", "02_orari", "03_blocco-traffico", "04_multe", "05_ztl", "06_inoltro"}

// CannedAnswers lists the Italian canned answers. A template that fails to render is left out
// and logged (templates are checked at start-up, so this does not happen in practice).
func (d *Desk) CannedAnswers() []Canned {
	out := make([]Canned, 0, len(cannedFiles))
	for _, f := range cannedFiles {
		text, err := d.o.Text.Render("sms/canned/"+f+".txt", map[string]string{"Hours": d.hours.Describe("", "it")})
		if err != nil {
			d.o.Logger.Error("a canned answer does not render", "template", f, "err", err)
			continue
		}
		title, body, _ := strings.Cut(strings.TrimSpace(text), "\n")
		out = append(out, Canned{ID: f[strings.IndexByte(f, '_')+1:], Title: strings.TrimSpace(title), Body: strings.TrimSpace(body)})
	}
	return out
}
