package config

import (
	"os"
	"regexp"
	"testing"
)

// docKey is the first cell of a row of the keys table: | `http.listen` | ...
var docKey = regexp.MustCompile("(?m)^\\| `([a-z0-9_.\\[\\]]+)` \\|")

// TestConfigurationReferenceMatchesTheCode keeps docs/configuration.md in step with Config:
// a key added to the structs without a line in the reference fails, and so does a documented key
// the file no longer accepts.
func TestConfigurationReferenceMatchesTheCode(t *testing.T) {
	doc, err := os.ReadFile("../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, m := range docKey.FindAllStringSubmatch(string(doc), -1) {
		documented[m[1]] = true
	}
	code := map[string]bool{}
	for _, k := range Keys() {
		code[k] = true
		if !documented[k] {
			t.Errorf("key %s is not documented in docs/configuration.md (add a row: | `%s` | default | meaning |)", k, k)
		}
	}
	envVars := regexp.MustCompile(`^[A-Z][A-Z0-9_]+$`)
	for k := range documented {
		if !code[k] && !envVars.MatchString(k) {
			t.Errorf("docs/configuration.md documents %s, which the config does not accept", k)
		}
	}
	if len(code) < 80 {
		t.Fatalf("only %d keys found in Config: the walk is broken", len(code))
	}
}
