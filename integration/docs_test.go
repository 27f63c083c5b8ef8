package integration

import (
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/sportello/sportello/integration/harness"
)

// TestHTTPDocListsEveryRoute keeps docs/http.md in step with the routes the gateway registers:
// a route added without its line fails here, and so does a documented route that is gone.
func TestHTTPDocListsEveryRoute(t *testing.T) {
	doc, err := os.ReadFile("../docs/http.md")
	if err != nil {
		t.Fatal(err)
	}
	g := harness.Start(t, harness.Options{})
	param := regexp.MustCompile(`:([a-z_]+)`)
	registered := map[string]bool{}
	for _, r := range g.G.Echo.Routes() {
		// echo's groups add catch-all routes so their middleware sees unknown paths.
		if strings.Contains(r.Name, "NotFound") || strings.Contains(r.Name, "notFound") || r.Method == "echo_route_not_found" || r.Method == "echo_route_any" {
			continue
		}
		route := r.Method + " " + param.ReplaceAllString(r.Path, "{$1}")
		registered[route] = true
	}
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile("`((?:GET|POST|PUT|PATCH|DELETE) /[^` ]*)`").FindAllStringSubmatch(string(doc), -1) {
		documented[m[1]] = true
	}
	var missing, stale []string
	for r := range registered {
		if !documented[r] {
			missing = append(missing, r)
		}
	}
	for r := range documented {
		if !registered[r] {
			stale = append(stale, r)
		}
	}
	sort.Strings(missing)
	sort.Strings(stale)
	if len(missing) > 0 {
		t.Errorf("routes missing from docs/http.md:\n  %s", strings.Join(missing, "\n  "))
	}
	if len(stale) > 0 {
		t.Errorf("docs/http.md lists routes the gateway does not have:\n  %s", strings.Join(stale, "\n  "))
	}
	if len(registered) < 40 {
		t.Fatalf("only %d routes found", len(registered))
	}
}
