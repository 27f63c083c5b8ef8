package pages

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
)

// LangCookie remembers the language chosen with ?lang=.
const LangCookie = "sportello_lang"

// Languages the pages speak; the first is the default.
var Languages = []string{"it", "en"}

// Lang picks the request's language: ?lang= (remembered in a cookie), else the cookie, else
// Accept-Language, else Italian.
func Lang(c echo.Context) string {
	if v, ok := c.Get(langKey).(string); ok {
		return v
	}
	lang := ""
	if q := c.QueryParam("lang"); known(q) {
		lang = q
		SetLang(c, q)
	} else if ck, err := c.Cookie(LangCookie); err == nil && known(ck.Value) {
		lang = ck.Value
	} else {
		lang = fromAcceptLanguage(c.Request().Header.Get("Accept-Language"))
	}
	c.Set(langKey, lang)
	return lang
}

const langKey = "sportello.lang"

// SetLang remembers a language (one of Languages) for this request and the next ones.
func SetLang(c echo.Context, lang string) {
	c.SetCookie(&http.Cookie{Name: LangCookie, Value: lang, Path: "/", MaxAge: 365 * 24 * 3600, SameSite: http.SameSiteLaxMode, HttpOnly: true})
	c.Set(langKey, lang)
}

func known(l string) bool {
	for _, k := range Languages {
		if l == k {
			return true
		}
	}
	return false
}

// fromAcceptLanguage picks the best-weighted language we speak ("en-GB;q=0.8, it;q=0.9" -> it).
func fromAcceptLanguage(h string) string {
	best, bestQ := Languages[0], -1.0
	for _, part := range strings.Split(h, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		base, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
		if !known(base) {
			continue
		}
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		if q > bestQ {
			best, bestQ = base, q
		}
	}
	return best
}

// T is the texts of a language (a missing key falls back to Italian).
func T(lang string) map[string]string {
	if m, ok := messages[lang]; ok {
		return m
	}
	return messages[Languages[0]]
}

// otherLangURL is the current page in the other language.
func otherLangURL(c echo.Context, lang string) (string, string) {
	other := "en"
	if lang == "en" {
		other = "it"
	}
	u := *c.Request().URL
	q := u.Query()
	q.Set("lang", other)
	u.RawQuery = q.Encode()
	return (&url.URL{Path: u.Path, RawQuery: u.RawQuery}).String(), other
}
