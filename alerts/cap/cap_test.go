package cap

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

func sample(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile("testdata/blocco.xml")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestParseValid(t *testing.T) {
	a, err := Parse([]byte(sample(t)))
	if err != nil {
		t.Fatal(err)
	}
	if a.Identifier != "FI-2026-1127-001" || a.Sender != "mobilita@comune.fi.it" || a.MsgType != "Alert" || a.Status != "Actual" || a.Scope != "Public" {
		t.Fatalf("%+v", a)
	}
	if !a.Sent.Equal(time.Date(2026, 11, 27, 6, 0, 0, 0, time.UTC)) {
		t.Fatalf("sent %v", a.Sent)
	}
	if len(a.Infos) != 2 || a.Infos[0].Language != "it-IT" || a.Infos[0].Expires == nil || a.Infos[0].Headline != "Blocco del traffico venerdì 28" {
		t.Fatalf("infos %+v", a.Infos)
	}
	if v, ok := a.Infos[0].Param("TOPICS"); !ok || v != "traffico" {
		t.Fatalf("param %q %v", v, ok)
	}
	if a.Infos[1].Expires != nil || a.Infos[0].Areas[0] != "Firenze, entro i viali" {
		t.Fatalf("%+v", a.Infos)
	}
}

func TestParseRefuses(t *testing.T) {
	base := sample(t)
	without := func(tag string) string {
		i := strings.Index(base, "<"+tag+">")
		j := strings.Index(base, "</"+tag+">")
		return base[:i] + base[j+len(tag)+3:]
	}
	replace := func(old, new string) string { return strings.Replace(base, old, new, 1) }
	cases := []struct {
		name, doc, field, msg string
	}{
		{"cap 1.1", replace("cap:1.2", "cap:1.1"), "", "CAP 1.1 is not supported"},
		{"no namespace", replace(` xmlns="urn:oasis:names:tc:emergency:cap:1.2"`, ""), "", "no namespace"},
		{"other namespace", replace("urn:oasis:names:tc:emergency:cap:1.2", "urn:example:cap"), "", "not CAP 1.2"},
		{"not an alert", "<feed xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\"/>", "", "not a CAP <alert>"},
		{"not xml", "{\"category\":\"x\"}", "", "not XML"},
		{"empty", "  ", "", "empty document"},
		{"truncated", base[:len(base)/2], "", "malformed XML"},
		{"two roots", base + "<alert/>", "", "second root"},
		{"identifier", without("identifier"), "identifier", "is required"},
		{"sender", without("sender"), "sender", "is required"},
		{"sent", without("sent"), "sent", "is required"},
		{"bad sent", replace("2026-11-27T07:00:00+01:00", "27/11/2026"), "sent", "not a CAP date"},
		{"status", without("status"), "status", "is required"},
		{"bad status", replace("<status>Actual", "<status>Real"), "status", "not one of"},
		{"msgType", without("msgType"), "msgType", "is required"},
		{"scope", without("scope"), "scope", "is required"},
		{"empty scope", replace("<scope>Public</scope>", "<scope> </scope>"), "scope", "is empty"},
		{"restricted", replace("<scope>Public", "<scope>Restricted"), "restriction", "is required"},
		{"no info", base[:strings.Index(base, "<info>")] + "</alert>", "info", "is required"},
		{"update without references", replace("<msgType>Alert", "<msgType>Update"), "references", "is required"},
		{"bad reference", replace("<scope>Public</scope>", "<scope>Public</scope><references>only-one-part</references>"), "references", "not sender,identifier,sent"},
		{"event", without("event"), "info[0].event", "is required"},
		{"category", strings.Replace(base, "<category>Transport</category>", "", 1), "info[0].category", "is required"},
		{"bad category", replace("<category>Transport", "<category>Traffic"), "info[0].category", "not one of"},
		{"urgency", without("urgency"), "info[0].urgency", "is required"},
		{"bad expires", replace("2099-11-28T19:00:00+01:00", "tomorrow"), "info[0].expires", "not a CAP date"},
		{"identifier with space", replace("FI-2026-1127-001", "FI 2026"), "identifier", "must not contain"},
	}
	for _, c := range cases {
		_, err := Parse([]byte(c.doc))
		var ce *Error
		if !errors.As(err, &ce) || ce.Field != c.field || !strings.Contains(ce.Message, c.msg) {
			t.Errorf("%s: got %v, want field %q with %q", c.name, err, c.field, c.msg)
		}
	}
}

func TestCancelNeedsNoInfo(t *testing.T) {
	doc := `<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>X2</identifier><sender>s@x</sender>
<sent>2026-11-27T08:00:00+01:00</sent><status>Actual</status><msgType>Cancel</msgType><scope>Public</scope>
<references>s@x,X1,2026-11-27T07:00:00+01:00 s@x,X0,2026-11-26T07:00:00+01:00</references></alert>`
	a, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if len(a.References) != 2 || a.References[0].Identifier != "X1" || a.References[1].Sender != "s@x" {
		t.Fatalf("%+v", a.References)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(sample(f))
	f.Add(`<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>a</identifier></alert>`)
	f.Add(`<?xml version="1.0"?><!DOCTYPE alert [<!ENTITY x "y">]><alert>&x;</alert>`)
	f.Add("<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.1\"/>")
	f.Fuzz(func(t *testing.T, doc string) {
		a, err := Parse([]byte(doc))
		if err != nil {
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		if a.Identifier == "" || a.Sender == "" || a.Sent.IsZero() || a.Status == "" || a.MsgType == "" || a.Scope == "" {
			t.Fatalf("accepted an incomplete alert: %+v", a)
		}
		if a.MsgType != "Cancel" && len(a.Infos) == 0 {
			t.Fatal("accepted an alert without info")
		}
		for _, in := range a.Infos {
			if in.Event == "" || len(in.Categories) == 0 || in.Urgency == "" || in.Severity == "" || in.Certainty == "" {
				t.Fatalf("accepted an incomplete info: %+v", in)
			}
		}
	})
}
