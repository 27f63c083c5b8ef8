// Package cap reads Common Alerting Protocol 1.2 documents (OASIS CAP v1.2, namespace
// urn:oasis:names:tc:emergency:cap:1.2): the alert's required fields are checked and typed, so
// whoever acts on a document knows it is complete. Other CAP versions are refused by name.
package cap

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Namespace12 is CAP 1.2's XML namespace.
const Namespace12 = "urn:oasis:names:tc:emergency:cap:1.2"

// Older namespaces, named in errors.
var olderNamespaces = map[string]string{
	"urn:oasis:names:tc:emergency:cap:1.1":  "CAP 1.1",
	"http://www.incident.com/cap/1.0":       "CAP 1.0",
	"urn:oasis:names:tc:emergency:cap:1.0:": "CAP 1.0",
}

// Values of the enumerated fields.
var (
	Statuses  = []string{"Actual", "Exercise", "System", "Test", "Draft"}
	MsgTypes  = []string{"Alert", "Update", "Cancel", "Ack", "Error"}
	Scopes    = []string{"Public", "Restricted", "Private"}
	Categorie = []string{"Geo", "Met", "Safety", "Security", "Rescue", "Fire", "Health", "Env", "Transport", "Infra", "CBRNE", "Other"}
)

// Alert is a CAP 1.2 alert message.
type Alert struct {
	Identifier  string
	Sender      string
	Sent        time.Time
	Status      string
	MsgType     string
	Source      string
	Scope       string
	Restriction string
	Addresses   string
	Codes       []string
	Note        string
	References  []Reference
	Incidents   string
	Infos       []Info
}

// Reference names an earlier message: sender, identifier and sent, as CAP writes them.
type Reference struct {
	Sender     string
	Identifier string
	Sent       string
}

// Info is one info block (one language) of an alert.
type Info struct {
	Language     string
	Categories   []string
	Event        string
	ResponseType []string
	Urgency      string
	Severity     string
	Certainty    string
	Audience     string
	Effective    *time.Time
	Onset        *time.Time
	Expires      *time.Time
	SenderName   string
	Headline     string
	Description  string
	Instruction  string
	Web          string
	Contact      string
	Parameters   []Parameter
	Areas        []string // areaDesc of each area
}

// Parameter is a valueName/value pair.
type Parameter struct {
	Name  string
	Value string
}

// Param returns the value of the first parameter with one of the names (case-insensitive).
func (i Info) Param(names ...string) (string, bool) {
	for _, p := range i.Parameters {
		for _, n := range names {
			if strings.EqualFold(strings.TrimSpace(p.Name), n) {
				return strings.TrimSpace(p.Value), true
			}
		}
	}
	return "", false
}

// Error is a document that is not a complete CAP 1.2 alert; Field names the element.
type Error struct {
	Field   string
	Message string
}

func (e *Error) Error() string {
	if e.Field == "" {
		return "cap: " + e.Message
	}
	return "cap: " + e.Field + ": " + e.Message
}

func fail(field, format string, args ...any) *Error {
	return &Error{Field: field, Message: fmt.Sprintf(format, args...)}
}

// The XML shape. Child elements carry the default namespace, so tags name them locally.
type xmlAlert struct {
	XMLName     xml.Name  `xml:"alert"`
	Identifier  *string   `xml:"identifier"`
	Sender      *string   `xml:"sender"`
	Sent        *string   `xml:"sent"`
	Status      *string   `xml:"status"`
	MsgType     *string   `xml:"msgType"`
	Source      string    `xml:"source"`
	Scope       *string   `xml:"scope"`
	Restriction string    `xml:"restriction"`
	Addresses   string    `xml:"addresses"`
	Codes       []string  `xml:"code"`
	Note        string    `xml:"note"`
	References  string    `xml:"references"`
	Incidents   string    `xml:"incidents"`
	Infos       []xmlInfo `xml:"info"`
}

type xmlInfo struct {
	Language     string   `xml:"language"`
	Categories   []string `xml:"category"`
	Event        *string  `xml:"event"`
	ResponseType []string `xml:"responseType"`
	Urgency      *string  `xml:"urgency"`
	Severity     *string  `xml:"severity"`
	Certainty    *string  `xml:"certainty"`
	Audience     string   `xml:"audience"`
	Effective    string   `xml:"effective"`
	Onset        string   `xml:"onset"`
	Expires      string   `xml:"expires"`
	SenderName   string   `xml:"senderName"`
	Headline     string   `xml:"headline"`
	Description  string   `xml:"description"`
	Instruction  string   `xml:"instruction"`
	Web          string   `xml:"web"`
	Contact      string   `xml:"contact"`
	Parameters   []struct {
		Name  string `xml:"valueName"`
		Value string `xml:"value"`
	} `xml:"parameter"`
	Areas []struct {
		Desc string `xml:"areaDesc"`
	} `xml:"area"`
}

// MaxBytes bounds a document; CAP alerts are a few kilobytes.
const MaxBytes = 1 << 20

// Parse reads a CAP 1.2 document and checks its required fields: identifier, sender, sent,
// status, msgType and scope on the alert; references on an Update or Cancel; at least one info
// on an Alert or Update (CAP lets a Cancel omit it), and on each info its category, event,
// urgency, severity and certainty. Enumerated values must be CAP's.
func Parse(data []byte) (*Alert, error) {
	if len(data) > MaxBytes {
		return nil, fail("", "document over %d bytes", MaxBytes)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fail("", "empty document")
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	// The root element decides the version before anything is decoded into the shape.
	var root xml.StartElement
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil, fail("", "not XML: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			root = se
			break
		}
	}
	if root.Name.Local != "alert" {
		return nil, fail("", "the root element is <%s>, not a CAP <alert>", root.Name.Local)
	}
	if root.Name.Space != Namespace12 {
		if v, ok := olderNamespaces[root.Name.Space]; ok {
			return nil, fail("", "%s is not supported: only CAP 1.2 (%s)", v, Namespace12)
		}
		if root.Name.Space == "" {
			return nil, fail("", "the <alert> has no namespace: CAP 1.2 is %s", Namespace12)
		}
		return nil, fail("", "namespace %q is not CAP 1.2 (%s)", root.Name.Space, Namespace12)
	}
	var x xmlAlert
	if err := dec.DecodeElement(&x, &root); err != nil {
		return nil, fail("", "malformed XML: %v", err)
	}
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fail("", "malformed XML after </alert>: %v", err)
		}
		switch t := tok.(type) {
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return nil, fail("", "text after </alert>")
			}
		case xml.StartElement:
			return nil, fail("", "a second root element <%s> after </alert>", t.Name.Local)
		}
	}
	return convert(&x)
}

func required(field string, v *string) (string, error) {
	if v == nil {
		return "", fail(field, "is required")
	}
	s := strings.TrimSpace(*v)
	if s == "" {
		return "", fail(field, "is empty")
	}
	return s, nil
}

func oneOf(field, v string, allowed []string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return fail(field, "%q is not one of %s", v, strings.Join(allowed, ", "))
}

// ParseTime reads a CAP dateTime (2026-11-27T09:15:00+01:00; Z is tolerated).
func ParseTime(field, v string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, strings.TrimSpace(v))
	if err != nil {
		return time.Time{}, fail(field, "%q is not a CAP date and time such as 2026-11-27T09:15:00+01:00", v)
	}
	return t, nil
}

func optionalTime(field, v string) (*time.Time, error) {
	if strings.TrimSpace(v) == "" {
		return nil, nil
	}
	t, err := ParseTime(field, v)
	if err != nil {
		return nil, err
	}
	return &t, nil
}

func convert(x *xmlAlert) (*Alert, error) {
	var a Alert
	var err error
	if a.Identifier, err = required("identifier", x.Identifier); err != nil {
		return nil, err
	}
	if strings.ContainsAny(a.Identifier, " ,<&") {
		return nil, fail("identifier", "must not contain spaces, commas, < or &")
	}
	if a.Sender, err = required("sender", x.Sender); err != nil {
		return nil, err
	}
	if strings.ContainsAny(a.Sender, " ,<&") {
		return nil, fail("sender", "must not contain spaces, commas, < or &")
	}
	sent, err := required("sent", x.Sent)
	if err != nil {
		return nil, err
	}
	if a.Sent, err = ParseTime("sent", sent); err != nil {
		return nil, err
	}
	if a.Status, err = required("status", x.Status); err != nil {
		return nil, err
	}
	if err := oneOf("status", a.Status, Statuses); err != nil {
		return nil, err
	}
	if a.MsgType, err = required("msgType", x.MsgType); err != nil {
		return nil, err
	}
	if err := oneOf("msgType", a.MsgType, MsgTypes); err != nil {
		return nil, err
	}
	if a.Scope, err = required("scope", x.Scope); err != nil {
		return nil, err
	}
	if err := oneOf("scope", a.Scope, Scopes); err != nil {
		return nil, err
	}
	a.Source, a.Restriction, a.Addresses, a.Note, a.Incidents = x.Source, x.Restriction, x.Addresses, x.Note, x.Incidents
	a.Codes = x.Codes
	if a.Scope == "Restricted" && strings.TrimSpace(a.Restriction) == "" {
		return nil, fail("restriction", "is required when scope is Restricted")
	}
	for _, f := range strings.Fields(x.References) {
		parts := strings.Split(f, ",")
		if len(parts) != 3 || parts[0] == "" || parts[1] == "" {
			return nil, fail("references", "%q is not sender,identifier,sent", f)
		}
		a.References = append(a.References, Reference{Sender: parts[0], Identifier: parts[1], Sent: parts[2]})
	}
	if (a.MsgType == "Update" || a.MsgType == "Cancel") && len(a.References) == 0 {
		return nil, fail("references", "is required for a %s", a.MsgType)
	}
	if len(x.Infos) == 0 && a.MsgType != "Cancel" {
		return nil, fail("info", "is required")
	}
	for i, xi := range x.Infos {
		info, err := convertInfo(fmt.Sprintf("info[%d]", i), &xi)
		if err != nil {
			return nil, err
		}
		a.Infos = append(a.Infos, info)
	}
	return &a, nil
}

func convertInfo(key string, x *xmlInfo) (Info, error) {
	var in Info
	var err error
	in.Language = strings.TrimSpace(x.Language)
	if in.Language == "" {
		in.Language = "en-US" // CAP's default
	}
	if len(x.Categories) == 0 {
		return in, fail(key+".category", "is required")
	}
	for _, c := range x.Categories {
		c = strings.TrimSpace(c)
		if err := oneOf(key+".category", c, Categorie); err != nil {
			return in, err
		}
		in.Categories = append(in.Categories, c)
	}
	if in.Event, err = required(key+".event", x.Event); err != nil {
		return in, err
	}
	if in.Urgency, err = required(key+".urgency", x.Urgency); err != nil {
		return in, err
	}
	if in.Severity, err = required(key+".severity", x.Severity); err != nil {
		return in, err
	}
	if in.Certainty, err = required(key+".certainty", x.Certainty); err != nil {
		return in, err
	}
	if in.Effective, err = optionalTime(key+".effective", x.Effective); err != nil {
		return in, err
	}
	if in.Onset, err = optionalTime(key+".onset", x.Onset); err != nil {
		return in, err
	}
	if in.Expires, err = optionalTime(key+".expires", x.Expires); err != nil {
		return in, err
	}
	in.ResponseType, in.Audience, in.SenderName = x.ResponseType, x.Audience, strings.TrimSpace(x.SenderName)
	in.Headline, in.Description = strings.TrimSpace(x.Headline), strings.TrimSpace(x.Description)
	in.Instruction, in.Web, in.Contact = strings.TrimSpace(x.Instruction), strings.TrimSpace(x.Web), strings.TrimSpace(x.Contact)
	for _, p := range x.Parameters {
		in.Parameters = append(in.Parameters, Parameter{Name: strings.TrimSpace(p.Name), Value: p.Value})
	}
	for _, ar := range x.Areas {
		in.Areas = append(in.Areas, strings.TrimSpace(ar.Desc))
	}
	return in, nil
}
