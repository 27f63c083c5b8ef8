package config

import (
	"strings"
	"testing"
)

func TestAppIOKeysComeFromTheFileOrTheEnvironment(t *testing.T) {
	t.Setenv("SPORTELLO_APP_IO_KEY_SESTO_FIORENTINO", "fromenv")
	c, err := Parse([]byte(`
app_io: {base_url: "http://127.0.0.1:9/"}
comuni:
  - {id: firenze, name: F, app_io: {api_key: fromfile}}
  - {id: sesto-fiorentino, name: S, app_io: {api_key: other}}
  - {id: prato, name: P}
`))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Comuni[0].AppIO.APIKey; got != "fromfile" {
		t.Errorf("firenze key = %q", got)
	}
	if got := c.Comuni[1].AppIO.APIKey; got != "fromenv" {
		t.Errorf("the environment did not override sesto-fiorentino's key: %q", got)
	}
	if c.Comuni[2].AppIO.APIKey != "" || !c.AppIOEnabled() {
		t.Errorf("prato has no key; App IO is enabled by the others")
	}
	if c.AppIO.BaseURL != "http://127.0.0.1:9" {
		t.Errorf("base_url = %q (the trailing slash must go)", c.AppIO.BaseURL)
	}
	d, err := Parse([]byte("comuni: [{id: a, name: A}]"))
	if err != nil {
		t.Fatal(err)
	}
	if d.AppIO.BaseURL != DefaultAppIOBaseURL || d.AppIOEnabled() {
		t.Errorf("default: %+v enabled=%v", d.AppIO, d.AppIOEnabled())
	}
}

func TestAppIOBadValuesAreNamed(t *testing.T) {
	for yml, key := range map[string]string{
		"comuni: [{id: a, name: A}]\napp_io: {base_url: ftp://x}":      "app_io.base_url",
		"comuni: [{id: a, name: A}]\napp_io: {timeout: 1ms}":           "app_io.timeout",
		"comuni: [{id: a, name: A, app_io: {api_key: \"two words\"}}]": "comuni[0].app_io.api_key",
		"comuni: [{id: a, name: A}]\napp_io: {status_every: 1ms}":      "app_io.status_every",
	} {
		_, err := Parse([]byte(yml))
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("%q: error %v does not name %q", yml, err, key)
		}
	}
}
