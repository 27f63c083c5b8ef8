package mailparse

import (
	"net/url"
	"strings"

	"github.com/microcosm-cc/bluemonday"
	"golang.org/x/net/html"
)

// newTextPolicy keeps only the elements that shape readable text and links with safe URLs.
// Everything else goes: scripts and styles with their content, images, event handlers,
// javascript: links, comments (Outlook's conditional comments included).
func newTextPolicy() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowElements("p", "br", "div", "span", "li", "ul", "ol", "dl", "dt", "dd", "table", "thead",
		"tbody", "tfoot", "tr", "td", "th", "caption", "h1", "h2", "h3", "h4", "h5", "h6",
		"blockquote", "pre", "hr", "b", "i", "u", "em", "strong", "font", "center", "section",
		"article", "header", "footer", "address", "main", "nav", "aside", "figure", "figcaption")
	p.AllowAttrs("href").OnElements("a")
	p.AllowURLSchemes("http", "https", "mailto", "tel")
	p.RequireParseableURLs(true)
	return p
}

// blockElements start and end on their own line.
var blockElements = map[string]bool{
	"div": true, "table": true, "tr": true, "ul": true, "ol": true, "dl": true, "dt": true,
	"dd": true, "blockquote": true, "pre": true, "section": true, "article": true, "header": true,
	"footer": true, "address": true, "main": true, "nav": true, "aside": true, "figure": true,
	"figcaption": true, "center": true, "caption": true, "thead": true, "tbody": true, "tfoot": true,
}

// paragraphElements are set apart by an empty line.
var paragraphElements = map[string]bool{
	"p": true, "h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true, "hr": true,
}

// htmlToText turns an HTML body into plain text an operator can read: markup and script or
// style content removed, entities decoded, block elements on their own lines, list items
// marked, and each link followed by its URL when the text does not already show it.
func htmlToText(policy *bluemonday.Policy, src string) string {
	clean := policy.Sanitize(src)
	z := html.NewTokenizer(strings.NewReader(clean))
	var w textWriter
	pre := 0
	type link struct {
		href  string
		start int
	}
	var links []link
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return w.String()
		case html.TextToken:
			text := strings.ReplaceAll(string(z.Text()), "\u00a0", " ")
			if pre > 0 {
				w.raw(text)
			} else {
				w.words(text)
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			tag := string(name)
			switch {
			case tag == "br":
				w.newline()
			case tag == "li":
				w.lineBreak()
				w.raw("- ")
			case tag == "td" || tag == "th":
				w.space()
			case tag == "a":
				href := ""
				for hasAttr {
					var k, v []byte
					k, v, hasAttr = z.TagAttr()
					if string(k) == "href" {
						href = string(v)
					}
				}
				links = append(links, link{href: href, start: w.Len()})
			case paragraphElements[tag]:
				w.paragraph()
			case blockElements[tag]:
				w.lineBreak()
			}
			if tag == "pre" && tt == html.StartTagToken {
				pre++
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			tag := string(name)
			switch {
			case tag == "a" && len(links) > 0:
				l := links[len(links)-1]
				links = links[:len(links)-1]
				shown := strings.TrimSpace(w.Since(l.start))
				if target := linkTarget(l.href); target != "" && !sameLink(shown, target) {
					if shown == "" {
						w.words(target)
					} else {
						w.words(" (" + target + ")")
					}
				}
			case paragraphElements[tag]:
				w.paragraph()
			case blockElements[tag]:
				w.lineBreak()
			}
			if tag == "pre" && pre > 0 {
				pre--
			}
		}
	}
}

// linkTarget is what a reader needs to see of an href: the URL, or the bare address of mailto:.
func linkTarget(href string) string {
	href = strings.TrimSpace(href)
	if href == "" || strings.HasPrefix(href, "#") {
		return ""
	}
	if u, err := url.Parse(href); err == nil && (u.Scheme == "mailto" || u.Scheme == "tel") {
		return u.Opaque
	}
	return href
}

func sameLink(shown, target string) bool {
	// Long text is never just the URL; skipping it keeps nested links from costing quadratic time.
	if len(shown) > len(target)+16 {
		return false
	}
	norm := func(s string) string {
		s = strings.ToLower(strings.TrimSpace(s))
		s = strings.TrimPrefix(s, "https://")
		s = strings.TrimPrefix(s, "http://")
		return strings.TrimSuffix(s, "/")
	}
	return norm(shown) == norm(target)
}

// textWriter builds text with collapsed whitespace and bounded runs of empty lines.
type textWriter struct {
	b strings.Builder
	// pendingSpace: a space is owed before the next word (not written at line start).
	pendingSpace bool
	// newlines is how many line breaks the text currently ends with.
	newlines int
}

func (w *textWriter) Len() int { return w.b.Len() }

func (w *textWriter) Since(start int) string {
	s := w.b.String()
	if start > len(s) {
		return ""
	}
	return s[start:]
}

func (w *textWriter) String() string {
	lines := strings.Split(w.b.String(), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t")
	}
	return strings.Trim(strings.Join(lines, "\n"), "\n ")
}

func (w *textWriter) words(s string) {
	if s == "" {
		return
	}
	if isHTMLSpace(s[0]) {
		w.pendingSpace = true
	}
	fields := strings.FieldsFunc(s, func(r rune) bool { return r < 0x80 && isHTMLSpace(byte(r)) })
	for i, f := range fields {
		if i > 0 {
			w.pendingSpace = true
		}
		w.raw(f)
	}
	if isHTMLSpace(s[len(s)-1]) {
		w.pendingSpace = true
	}
}

func (w *textWriter) raw(s string) {
	if s == "" {
		return
	}
	if w.pendingSpace && w.newlines == 0 && w.b.Len() > 0 {
		w.b.WriteByte(' ')
	}
	w.pendingSpace = false
	w.b.WriteString(s)
	w.newlines = 0
	for i := len(s) - 1; i >= 0 && s[i] == '\n'; i-- {
		w.newlines++
	}
}

func (w *textWriter) space() {
	if w.newlines == 0 && w.b.Len() > 0 {
		w.pendingSpace = true
	}
}

func (w *textWriter) newline() {
	w.pendingSpace = false
	if w.newlines >= 2 {
		return
	}
	w.b.WriteByte('\n')
	w.newlines++
	w.pendingSpace = false
}

// lineBreak ends the current line unless it is already ended.
func (w *textWriter) lineBreak() {
	if w.b.Len() > 0 && w.newlines == 0 {
		w.newline()
	}
	w.pendingSpace = false
}

// paragraph leaves one empty line, never more.
func (w *textWriter) paragraph() {
	if w.b.Len() == 0 {
		return
	}
	for w.newlines < 2 {
		w.newline()
	}
	w.pendingSpace = false
}

func isHTMLSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'
}
