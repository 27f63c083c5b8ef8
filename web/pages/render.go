package pages

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/web/auth"
)

// View is what every page template receives. Data is the page's own content.
type View struct {
	Lang  string
	T     map[string]string
	Title string
	// Nav names the current section, for aria-current in the header.
	Nav  string
	User *store.User
	CSRF string
	// LangURL and OtherLang switch the page to the other language.
	LangURL   string
	OtherLang string
	// Notice is a success message, Error a failure shown on the page.
	Notice string
	Error  string
	Data   any
}

// Render writes the page template "page:<name>" with the layout around it.
func (p *Pages) Render(c echo.Context, status int, name string, v View) error {
	p.fill(c, &v)
	var b bytes.Buffer
	if err := p.tmpl.ExecuteTemplate(&b, "page:"+name, v); err != nil {
		return err
	}
	return c.HTMLBlob(status, b.Bytes())
}

func (p *Pages) fill(c echo.Context, v *View) {
	v.Lang = Lang(c)
	v.T = T(v.Lang)
	if v.Title != "" {
		if s, ok := v.T[v.Title]; ok {
			v.Title = s
		}
	}
	if u := auth.User(c); u.ID != "" {
		v.User = &u
	}
	v.CSRF = CSRFToken(c)
	v.LangURL, v.OtherLang = otherLangURL(c, v.Lang)
}

// DoneNotice is the notice for a redirect's ?done= (the action just done), or "" when it names
// no action: the parameter is anyone's to write in a link, and an unknown one would otherwise
// show their text in the page's own notice banner.
func DoneNotice(c echo.Context) string {
	n := c.QueryParam("done")
	if n == "" {
		return ""
	}
	s, ok := T(Lang(c))["done_"+n]
	if !ok {
		return ""
	}
	return s
}

// Text is a translated text for the request's language.
func Text(c echo.Context, key string) string {
	if s, ok := T(Lang(c))[key]; ok {
		return s
	}
	return key
}

func (p *Pages) funcs() template.FuncMap {
	loc := p.o.Location
	return template.FuncMap{
		"phone": phoneLink,
		"note":  translateNote,
		"derefInt": func(n *int) int {
			if n == nil {
				return 0
			}
			return *n
		},
		"national": NationalPhone,
		// when shows a time in the centre's zone, short.
		"when": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.In(loc).Format("02/01/2006 15:04")
		},
		// iso is a machine-readable time for <time datetime>.
		"iso": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		// plain shows a sender's name or number without bidi or invisible controls (PlainName).
		"plain": PlainName,
		"deref": func(s *string) string {
			if s == nil {
				return ""
			}
			return *s
		},
		// snippet shortens a text for a list cell; html/template still escapes it.
		"snippet": func(s string, n int) string {
			s = strings.Join(strings.Fields(s), " ")
			r := []rune(s)
			if len(r) <= n {
				return s
			}
			return string(r[:n]) + "…"
		},
		// tr translates an enumerated value (a channel, a status) by a key prefix.
		"tr": func(t map[string]string, prefix string, value any) string {
			key := fmt.Sprint(value)
			if s, ok := t[prefix+key]; ok {
				return s
			}
			return key
		},
		"atLeast": func(u *store.User, role string) bool { return u != nil && u.AtLeast(role) },
		"list":    func(s ...string) []string { return s },
		"int":     func(n int64) int { return int(n) },
		"duration": func(seconds int) string {
			if seconds <= 0 {
				return "0:00"
			}
			d := time.Duration(seconds) * time.Second
			h, m, s := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
			if h > 0 {
				return strings.TrimLeft(time.Date(0, 1, 1, h, m, s, 0, time.UTC).Format("15:04:05"), "0")
			}
			return time.Date(0, 1, 1, 0, m, s, 0, time.UTC).Format("4:05")
		},
		"sizeKB": func(n int64) int64 { return (n + 1023) / 1024 },
		// previewable: the kinds of file a PNG preview is made of (faxes, scans, photos).
		"previewable": func(contentType string) bool {
			ct := strings.ToLower(contentType)
			return strings.HasPrefix(ct, "image/") || ct == "application/pdf"
		},
		"add": func(a, b int) int { return a + b },
		// dict passes several values to a sub-template: dict "T" .T "R" .Row.
		"dict": func(kv ...any) (map[string]any, error) {
			if len(kv)%2 != 0 {
				return nil, errors.New("dict needs key, value pairs")
			}
			m := make(map[string]any, len(kv)/2)
			for i := 0; i < len(kv); i += 2 {
				k, ok := kv[i].(string)
				if !ok {
					return nil, errors.New("dict keys are strings")
				}
				m[k] = kv[i+1]
			}
			return m, nil
		},
		// labels picks the texts a page's JavaScript needs (keys by prefix), for a JSON data block.
		"labels": func(t map[string]string, prefixes ...string) map[string]string {
			out := map[string]string{}
			for k, v := range t {
				for _, p := range prefixes {
					if strings.HasPrefix(k, p) {
						out[k] = v
					}
				}
			}
			return out
		},
	}
}

// Redirect sends the browser to a page after a successful form (post/redirect/get).
func Redirect(c echo.Context, to string) error { return c.Redirect(http.StatusSeeOther, to) }
