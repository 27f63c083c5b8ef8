package twilioemu

import "testing"

// FuzzParseTwiML: any document either parses into verbs Twilio knows or is refused with an
// error; it never panics.
func FuzzParseTwiML(f *testing.F) {
	for _, s := range []string{
		`<Response><Say>ciao</Say></Response>`,
		`<?xml version="1.0"?><Response><Gather numDigits="1" action="/x"><Say>1</Say></Gather><Hangup/></Response>`,
		`<Response><Dial timeout="2"><Client><Identity>a</Identity><Parameter name="c" value="1"/></Client></Dial></Response>`,
		`<Response><Enqueue waitUrl="/w">q</Enqueue></Response>`,
		`<Response><Dial><Fax>1</Fax></Dial></Response>`,
		`<Other/>`, `<Response>`, ``,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		verbs, err := parseTwiML(doc)
		if err != nil {
			return
		}
		for _, v := range verbs {
			if !voiceVerbs[v.Name] {
				t.Fatalf("accepted <%s>", v.Name)
			}
		}
	})
}
