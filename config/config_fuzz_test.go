package config

import "testing"

// FuzzParse: any bytes give a config or an error, never a panic; a config that parses is valid.
func FuzzParse(f *testing.F) {
	f.Add([]byte(DemoYAML))
	f.Add([]byte("comuni: [{id: a, name: A}]"))
	f.Add([]byte("comuni: [{id: a, name: A}]\nbusiness_hours: {open: \"09:00\", close: \"08:00\"}"))
	f.Add([]byte("comuni: [{id: a, name: A}]\nfax: {gateways: [{sender: \"@fax.example\", subject_pattern: \"(\"}]}"))
	f.Add([]byte(":\n- - ["))
	f.Add([]byte("comuni: [{id: a, name: A}]\nhttp:\n  listen: [a, b]\n"))
	f.Add([]byte("comuni: [{id: a, name: A}]\nhtpp: {listen: 127.0.0.1:1}\nsmtp: {read_timeout: soon}\n"))
	f.Add([]byte("a: &x [1]\ncomuni: *x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data)
		if err != nil {
			return
		}
		if c.Location == nil || len(c.Comuni) == 0 || len(c.Categories) == 0 {
			t.Fatalf("parsed config is incomplete: %+v", c)
		}
	})
}
