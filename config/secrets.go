package config

import (
	"fmt"
	"reflect"
	"unicode/utf8"
)

// MinMetricsTokenLength is the shortest metrics.token taken without a warning: the bearer token
// lets any address read /metrics.
const MinMetricsTokenLength = 16

// Usable returns a secret that may verify what a client sends: "" for the mask `config print`
// writes in its place, which anyone who saw a printed configuration knows. A verifier given ""
// refuses every request (a Twilio webhook, a /metrics bearer) instead of accepting the mask.
func Usable(secret string) string {
	if secret == Masked {
		return ""
	}
	return secret
}

// Warnings are what the configuration allows but an operator should hear about at start-up and
// from `config check`: secrets still holding the mask of `config print` (what they guard is shut,
// or what they log in to refuses them, until the real value is written back), and tokens too
// short to be a credential.
func (c *Config) Warnings() []string {
	w := c.CTI.Warnings()
	for _, key := range maskedSecrets(reflect.ValueOf(*c), "") {
		if key == "cti.token" || len(key) > 12 && key[:12] == "cti.sources[" {
			continue // in CTI.Warnings, with what it means for the PBX
		}
		w = append(w, key+" is the mask `config print` shows: write the real secret back (until then it is refused or never matches)")
	}
	if n := utf8.RuneCountInString(c.Metrics.Token); c.Metrics.Token != "" && c.Metrics.Token != Masked && n < MinMetricsTokenLength {
		w = append(w, fmt.Sprintf("metrics.token has %d characters: use at least %d random ones, it lets any address read /metrics", n, MinMetricsTokenLength))
	}
	return w
}

// maskedSecrets lists the keys (as `config print` names them) of the secrets in v equal to Masked.
func maskedSecrets(v reflect.Value, prefix string) []string {
	var keys []string
	switch v.Kind() {
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			name := yamlName(t.Field(i))
			if name == "" {
				continue
			}
			f := v.Field(i)
			if f.Kind() == reflect.String && IsSecret(name) && f.String() == Masked {
				keys = append(keys, prefix+name)
				continue
			}
			keys = append(keys, maskedSecrets(f, prefix+name+".")...)
		}
	case reflect.Slice:
		key := prefix[:len(prefix)-1] // the slice's own key, without the dot
		for i := range v.Len() {
			keys = append(keys, maskedSecrets(v.Index(i), fmt.Sprintf("%s[%d].", key, i))...)
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			keys = append(keys, maskedSecrets(iter.Value(), fmt.Sprintf("%s%v.", prefix, iter.Key()))...)
		}
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			keys = append(keys, maskedSecrets(v.Elem(), prefix)...)
		}
	}
	return keys
}

func alphanumeric(s string) bool {
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			return false
		}
	}
	return s != ""
}
