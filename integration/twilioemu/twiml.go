package twilioemu

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// verb is one TwiML element: its name, attributes, text and nested nouns or verbs.
type verb struct {
	Name     string
	Attrs    map[string]string
	Text     string
	Children []verb
}

func (v verb) attr(name, def string) string {
	if s, ok := v.Attrs[name]; ok && s != "" {
		return s
	}
	return def
}

// voiceVerbs are the verbs Twilio accepts in a voice <Response>; nouns only inside their verb.
var voiceVerbs = map[string]bool{"Say": true, "Play": true, "Pause": true, "Gather": true, "Redirect": true, "Enqueue": true,
	"Dial": true, "Hangup": true, "Record": true, "Leave": true, "Reject": true}

var dialNouns = map[string]bool{"Number": true, "Client": true, "Sip": true, "Queue": true, "Conference": true}

// parseTwiML reads a voice TwiML document the way Twilio does: a <Response> root whose children
// are known verbs; <Dial> holds text or nouns, <Gather> holds Say/Play/Pause. Anything else is
// Twilio's error 12100 (document parse failure) or 12200 (schema validation).
func parseTwiML(doc string) ([]verb, error) {
	d := xml.NewDecoder(strings.NewReader(doc))
	var root *verb
	var stack []*verb
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("12100 document parse failure: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			v := &verb{Name: t.Name.Local, Attrs: map[string]string{}}
			for _, a := range t.Attr {
				v.Attrs[a.Name.Local] = a.Value
			}
			if root == nil {
				if v.Name != "Response" {
					return nil, fmt.Errorf("12200 schema validation: root element is <%s>, not <Response>", v.Name)
				}
				root = v
			}
			stack = append(stack, v)
		case xml.EndElement:
			v := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			v.Text = strings.TrimSpace(v.Text)
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.Children = append(p.Children, *v)
			}
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].Text += string(t)
			}
		}
	}
	if root == nil {
		return nil, fmt.Errorf("12100 document parse failure: no <Response>")
	}
	for _, v := range root.Children {
		if !voiceVerbs[v.Name] {
			return nil, fmt.Errorf("12200 schema validation: <%s> is not a voice verb", v.Name)
		}
		switch v.Name {
		case "Dial":
			for _, n := range v.Children {
				if !dialNouns[n.Name] {
					return nil, fmt.Errorf("12200 schema validation: <%s> inside <Dial>", n.Name)
				}
			}
		case "Gather":
			for _, n := range v.Children {
				if n.Name != "Say" && n.Name != "Play" && n.Name != "Pause" {
					return nil, fmt.Errorf("12200 schema validation: <%s> inside <Gather>", n.Name)
				}
			}
		}
	}
	return root.Children, nil
}
