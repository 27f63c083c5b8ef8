// Package templates holds every text Sportello shows or says: TwiML voice prompts, SMS and
// email answers, and the web inbox's HTML views. They are embedded in the binary and parsed
// once at start-up, so a broken template stops the gateway before it serves anything.
package templates

import (
	"bytes"
	"embed"
	htmltemplate "html/template"
	"io/fs"
	"strings"
	texttemplate "text/template"
)

//go:embed voice sms email
var textFS embed.FS

//go:embed html
var htmlFS embed.FS

//go:embed static
var staticFS embed.FS

// Static is the inbox's CSS and JavaScript, served under /static/.
func Static() fs.FS {
	sub, _ := fs.Sub(staticFS, "static") // "static" is embedded above, so Sub cannot fail
	return sub
}

// HTMLFS is the raw HTML views, for packages that parse them with their own functions.
func HTMLFS() fs.FS {
	sub, _ := fs.Sub(htmlFS, "html")
	return sub
}

// Text is the parsed set of voice, SMS and email templates, named by path ("voice/menu.xml").
type Text struct {
	t *texttemplate.Template
}

// funcs available to every text template.
var textFuncs = texttemplate.FuncMap{
	// xml escapes a value for TwiML.
	"xml": func(s string) string {
		var b bytes.Buffer
		_ = xmlEscape(&b, s)
		return b.String()
	},
	"join": strings.Join,
}

// ParseText parses every voice, SMS and email template.
func ParseText() (*Text, error) {
	root := texttemplate.New("").Funcs(textFuncs)
	err := fs.WalkDir(textFS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := textFS.ReadFile(path)
		if err != nil {
			return err
		}
		_, err = root.New(path).Parse(string(b))
		return err
	})
	if err != nil {
		return nil, err
	}
	return &Text{t: root}, nil
}

// Render executes one template.
func (t *Text) Render(name string, data any) (string, error) {
	var b bytes.Buffer
	if err := t.t.ExecuteTemplate(&b, name, data); err != nil {
		return "", err
	}
	return b.String(), nil
}

// Has reports whether a template exists.
func (t *Text) Has(name string) bool { return t.t.Lookup(name) != nil }

// ParseHTML parses the HTML views with the given functions.
func ParseHTML(funcs htmltemplate.FuncMap) (*htmltemplate.Template, error) {
	return htmltemplate.New("").Funcs(funcs).ParseFS(htmlFS, "html/*.html")
}

// CannedDefaults is the built-in canned answers, one file each (templates/sms/canned): its first
// line is the title, the second the Italian text, the third the English one. A fresh install
// starts with them; from then on they live in the database.
func CannedDefaults() fs.FS {
	sub, _ := fs.Sub(textFS, "sms/canned") // embedded above with sms, so Sub cannot fail
	return sub
}
