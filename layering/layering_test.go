package layering

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/sportello/sportello/"

// rule forbids packages under from importing packages under any of the forbidden prefixes
// (relative to the module), except their own subtree.
type rule struct {
	from      string
	forbidden []string
	why       string
}

var rules = []rule{
	{"channels", []string{""}, "channels is the one contact model: it imports nothing of ours"},
	{"adapters/", []string{"adapters/", "web", "gateway", "desk", "router", "alerts", "cmd"}, "an adapter only translates one outside system into the channels model"},
	{"store", []string{"web", "router", "desk", "gateway", "adapters", "cmd"}, "the store keeps data; it never calls the UI or the routing core"},
	{"router", []string{"adapters", "web", "gateway", "desk", "cmd"}, "the routing core decides from the model, not from any one provider"},
	{"alerts", []string{"adapters", "web", "gateway", "cmd"}, "alerts send through a small sender interface, not through an adapter"},
	{"events", []string{"web", "adapters", "desk", "gateway", "cmd"}, "the publisher is the one thing both the store side and the web side may use"},
	{"gsm7", []string{""}, "the GSM-7 rules are pure functions"},
	{"fiscalcode", []string{""}, "the codice fiscale rules are pure functions"},
}

func TestImportsFollowTheDataFlow(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	imports := packageImports(t, root)
	if len(imports) < 20 {
		t.Fatalf("found only %d packages under %s: the walk is broken", len(imports), root)
	}
	checked := 0
	for pkg, imps := range imports {
		for _, r := range rules {
			if !under(pkg, r.from) {
				continue
			}
			checked++
			for _, imp := range imps {
				rel, ours := strings.CutPrefix(imp, module)
				if !ours {
					continue
				}
				if sameTree(pkg, rel, r.from) {
					continue
				}
				for _, f := range r.forbidden {
					if f == "" || under(rel, f) {
						t.Errorf("%s imports %s: %s", pkg, rel, r.why)
					}
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no rule matched any package")
	}
}

// sameTree allows imports inside one rule's own subtree: adapters/email may use
// adapters/email/mailparse, store may use store/alertstore, but adapters/email may not use
// adapters/twilio.
func sameTree(pkg, imp, from string) bool {
	if strings.HasSuffix(from, "/") {
		parts := strings.SplitN(strings.TrimPrefix(pkg, from), "/", 2)
		return under(imp, from+parts[0])
	}
	return under(imp, from)
}

func under(pkg, prefix string) bool {
	prefix = strings.TrimSuffix(prefix, "/")
	return prefix == "" || pkg == prefix || strings.HasPrefix(pkg, prefix+"/")
}

// packageImports maps each package folder (relative to the module root) to what its non-test
// files import.
func packageImports(t *testing.T, root string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, filepath.Dir(path))
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		for _, imp := range f.Imports {
			p, err := strconv.Unquote(imp.Path.Value)
			if err != nil {
				return err
			}
			out[rel] = append(out[rel], p)
		}
		if _, ok := out[rel]; !ok {
			out[rel] = nil
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRulesCatchAViolation(t *testing.T) {
	// The checker itself must be able to fail: a fake adapter importing another adapter.
	dir := t.TempDir()
	write := func(rel, src string) {
		t.Helper()
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("adapters/a/a.go", "package a\nimport _ \""+module+"adapters/b\"\n")
	write("adapters/b/b.go", "package b\n")
	imports := packageImports(t, dir)
	if got := imports["adapters/a"]; len(got) != 1 || got[0] != module+"adapters/b" {
		t.Fatalf("imports %v", imports)
	}
	if sameTree("adapters/a", "adapters/b", "adapters/") {
		t.Fatal("adapters/a and adapters/b counted as one tree")
	}
	if !sameTree("adapters/email", "adapters/email/mailparse", "adapters/") {
		t.Fatal("an adapter's own subpackage refused")
	}
}
