package web

import (
	"html/template"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/web/pages"
)

// routeMethods tells which methods the registered routes accept on a path. echo answers 404
// instead of 405 wherever a group's middleware registered its catch-all route, so the error
// handler asks here before it calls a path unknown.
type routeMethods struct {
	once   sync.Once
	routes []methodRoute
}

type methodRoute struct {
	method  string
	pattern *regexp.Regexp
}

var routeParam = regexp.MustCompile(`:[^/]+`)

func (m *routeMethods) load(e *echo.Echo) {
	m.once.Do(func() {
		for _, r := range e.Routes() {
			if strings.HasPrefix(r.Method, "echo_route_") || r.Method == echo.RouteNotFound {
				continue
			}
			expr := regexp.QuoteMeta(r.Path)
			expr = strings.ReplaceAll(expr, `\*`, `.*`)
			expr = routeParam.ReplaceAllString(expr, `[^/]+`)
			re, err := regexp.Compile("^" + expr + "$")
			if err != nil {
				continue
			}
			m.routes = append(m.routes, methodRoute{method: r.Method, pattern: re})
		}
	})
}

// allowed lists the methods routes accept on path; ok is false when method is one of them.
func (m *routeMethods) allowed(e *echo.Echo, method, path string) (methods []string, ok bool) {
	m.load(e)
	seen := map[string]bool{}
	for _, r := range m.routes {
		if r.pattern.MatchString(path) && !seen[r.method] {
			seen[r.method] = true
			methods = append(methods, r.method)
		}
	}
	if seen[method] || (method == http.MethodHead && seen[http.MethodGet]) {
		return nil, true
	}
	sort.Strings(methods)
	return methods, len(methods) == 0
}

var errorPage = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Status}} · {{.Title}} · Sportello</title><link rel="stylesheet" href="/static/inbox.css"></head>
<body><main id="main" class="errorpage"><h1>{{.Title}}</h1>{{if .Message}}<p id="problem">{{.Message}}</p>{{end}}
<p><a href="/inbox">{{.Back}}</a></p></main>
<footer class="foot"><p>Sportello · <a href="/accessibilita">{{.A11y}}</a></p></footer></body></html>
`))

// htmlError is the page a browser gets for a path outside the inbox's own pages (those render
// their errors in the layout), in the visitor's language.
func htmlError(c echo.Context, status int) error {
	t := pages.T(pages.Lang(c))
	title := t["status_"+strconv.Itoa(status)]
	if title == "" {
		title = http.StatusText(status)
	}
	var message string
	if status == http.StatusNotFound {
		message = t["err_not_found"]
	}
	var b strings.Builder
	if err := errorPage.Execute(&b, map[string]any{"Lang": pages.Lang(c), "Status": status, "Title": title, "Message": message, "Back": t["back_to_inbox"], "A11y": t["footer_accessibility"]}); err != nil {
		return err
	}
	return c.HTML(status, b.String())
}
