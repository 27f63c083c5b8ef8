package notifyapi_test

import (
	"encoding/json"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/web/notifyapi"
	"github.com/sportello/sportello/web/webtest"
)

// realRoutes builds the real gateway and lists its /api/v1 routes as "METHOD /path/{param}".
func realRoutes(t *testing.T) map[string]bool {
	t.Helper()
	g := webtest.Gateway(t, "firenze")
	param := regexp.MustCompile(`:([a-zA-Z_]+)`)
	out := map[string]bool{}
	for _, r := range g.Echo.Routes() {
		if !strings.HasPrefix(r.Path, "/api/v1/") || r.Method == echo.RouteNotFound || strings.HasSuffix(r.Path, "*") {
			continue
		}
		out[r.Method+" "+param.ReplaceAllString(r.Path, "{$1}")] = true
	}
	return out
}

type document struct {
	OpenAPI    string                                `json:"openapi"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Schemas map[string]json.RawMessage `json:"schemas"`
	} `json:"components"`
}

func documented(t *testing.T) (document, map[string]bool) {
	t.Helper()
	var doc document
	if err := json.Unmarshal(notifyapi.OpenAPI, &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			out[strings.ToUpper(method)+" "+path] = true
		}
	}
	return doc, out
}

// The document and the gateway's routes must agree both ways: an undocumented route or a
// documented path that does not exist fails here.
func TestOpenAPIMatchesTheRoutes(t *testing.T) {
	routes := realRoutes(t)
	_, doc := documented(t)
	var missing, extra []string
	for r := range routes {
		if !doc[r] {
			missing = append(missing, r)
		}
	}
	for d := range doc {
		if !routes[d] {
			extra = append(extra, d)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 {
		t.Errorf("routes missing from the OpenAPI document:\n  %s", strings.Join(missing, "\n  "))
	}
	if len(extra) > 0 {
		t.Errorf("documented but not routed:\n  %s", strings.Join(extra, "\n  "))
	}
	if len(routes) < 20 {
		t.Fatalf("only %d /api/v1 routes found: %v", len(routes), routes)
	}
}

func TestOpenAPIIsWellFormed(t *testing.T) {
	doc, _ := documented(t)
	if doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi %q", doc.OpenAPI)
	}
	refs := regexp.MustCompile(`"\$ref":\s*"#/components/schemas/([^"]+)"`)
	for _, m := range refs.FindAllStringSubmatch(string(notifyapi.OpenAPI), -1) {
		if _, ok := doc.Components.Schemas[m[1]]; !ok {
			t.Errorf("$ref to undefined schema %s", m[1])
		}
	}
	pathParam := regexp.MustCompile(`\{([a-z_]+)\}`)
	for path, ops := range doc.Paths {
		for method, raw := range ops {
			var op struct {
				OperationID string `json:"operationId"`
				Parameters  []struct {
					Name string `json:"name"`
					In   string `json:"in"`
				} `json:"parameters"`
				Responses map[string]json.RawMessage `json:"responses"`
			}
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			if op.OperationID == "" || len(op.Responses) == 0 {
				t.Errorf("%s %s: no operationId or responses", method, path)
			}
			for _, m := range pathParam.FindAllStringSubmatch(path, -1) {
				found := false
				for _, p := range op.Parameters {
					found = found || (p.In == "path" && p.Name == m[1])
				}
				if !found {
					t.Errorf("%s %s: path parameter %s is not described", method, path, m[1])
				}
			}
		}
	}
}
