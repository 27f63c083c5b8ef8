package integration

import (
	"context"
	_ "embed"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// axe-core 4.14.1 (MPL-2.0, Deque Systems), vendored so the test needs no network: the license
// is beside it in testdata/axe-core.LICENSE.
//
//go:embed testdata/axe.min.js
var browserAxeSource string

type browserAxeResult struct {
	Violations []browserAxeViolation `json:"violations"`
	Passes     int                   `json:"passes"`
}

type browserAxeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target []any  `json:"target"`
		HTML   string `json:"html"`
	} `json:"nodes"`
}

// browserCheckA11y runs axe-core on the current page (WCAG 2.0/2.1 A and AA rules) and fails
// the test on serious or critical violations.
func browserCheckA11y(t *testing.T, ctx context.Context, page string) {
	t.Helper()
	browserCheckA11yMin(t, ctx, page, 10)
}

// browserCheckA11yMin is browserCheckA11y for a page so small that fewer than ten rules apply
// (the plain error page): minPasses is how many must pass for the check to count.
func browserCheckA11yMin(t *testing.T, ctx context.Context, page string, minPasses int) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	// Injected through the DevTools protocol, which the page's CSP does not govern.
	if _, err := chromedp.Run(sctx, chromedp.Evaluate[chromedp.Void](browserAxeSource)); err != nil {
		t.Fatalf("%s: injecting axe-core: %v", page, err)
	}
	res, err := chromedp.Run(sctx, chromedp.Evaluate[browserAxeResult](
		`axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}).then(r => ({violations: r.violations, passes: r.passes.length}))`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: running axe-core: %v", page, err)
	}
	// No rule passing would mean axe checked nothing (an empty page, a broken injection).
	if res.Passes < minPasses {
		t.Fatalf("%s: axe-core passed only %d rules: it did not really check the page", page, res.Passes)
	}
	vs := res.Violations
	var bad []string
	for _, v := range vs {
		line := fmt.Sprintf("%s [%s] %s", v.ID, v.Impact, v.Help)
		for i, n := range v.Nodes {
			if i == 3 {
				line += fmt.Sprintf("\n    … and %d more", len(v.Nodes)-3)
				break
			}
			line += fmt.Sprintf("\n    %v %s", n.Target, n.HTML)
		}
		if v.Impact == "serious" || v.Impact == "critical" {
			bad = append(bad, line)
		} else {
			t.Logf("%s: axe (%s, not failing): %s", page, v.Impact, line)
		}
	}
	if len(bad) > 0 {
		t.Errorf("%s: %d serious or critical accessibility violations:\n  %s", page, len(bad), strings.Join(bad, "\n  "))
	}
}
