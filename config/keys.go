package config

import (
	"bytes"
	"net/url"
	"reflect"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Keys lists every key the config file accepts, in the file's own terms: dotted paths, with
// "[]" after a list of entries (comuni[].offices[].email). Sections are not listed, only the
// keys that hold a value; the docs test and `config print` rely on it.
func Keys() []string {
	var keys []string
	walkKeys(reflect.TypeOf(Config{}), "", &keys)
	return keys
}

var durationType = reflect.TypeOf(time.Duration(0))

func walkKeys(t reflect.Type, prefix string, keys *[]string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := yamlName(f)
		if name == "" {
			continue
		}
		key := prefix + name
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch {
		case ft == durationType:
			*keys = append(*keys, key)
		case ft.Kind() == reflect.Struct:
			walkKeys(ft, key+".", keys)
		case ft.Kind() == reflect.Slice && elemStruct(ft.Elem()):
			walkKeys(ft.Elem(), key+"[].", keys)
		default:
			*keys = append(*keys, key)
		}
	}
}

func elemStruct(t reflect.Type) bool {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Kind() == reflect.Struct
}

// yamlName is the field's key in the file, "" when the field is not read from it.
func yamlName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	tag := f.Tag.Get("yaml")
	name, _, _ := strings.Cut(tag, ",")
	if name == "-" {
		return ""
	}
	if name == "" {
		return strings.ToLower(f.Name)
	}
	return name
}

// Print renders the effective configuration as YAML that Load reads back, with secrets masked:
// every key whose name holds a token, password, secret or API key, and the password of
// database_url. Validation refuses the mask as a CTI token (the bearer token would then be
// public), so those must be written back first.
func Print(c *Config) ([]byte, error) {
	var root yaml.Node
	if err := root.Encode(c); err != nil {
		return nil, err
	}
	maskSecrets(&root)
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&root); err != nil {
		return nil, err
	}
	return buf.Bytes(), enc.Close()
}

// Masked replaces a secret's value in `config print`.
const Masked = "********"

// IsSecret reports whether a key's value must not be printed: a name ending in token, password,
// secret or api_key (auth_token, relay_password, api_key_secret), not one that only mentions
// a secret (token_ttl, api_key_sid).
func IsSecret(name string) bool {
	name = strings.ToLower(name)
	for _, w := range []string{"token", "password", "secret", "api_key"} {
		if name == w || strings.HasSuffix(name, "_"+w) {
			return true
		}
	}
	return false
}

func maskSecrets(n *yaml.Node) {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			switch {
			case v.Kind == yaml.ScalarNode && v.Value != "" && IsSecret(k.Value):
				v.Value, v.Tag, v.Style = Masked, "!!str", 0
			case v.Kind == yaml.ScalarNode && k.Value == "database_url" && v.Value != "":
				if u, err := url.Parse(v.Value); err == nil {
					v.Value = u.Redacted()
				} else {
					v.Value = Masked
				}
			}
		}
	}
	for _, c := range n.Content {
		maskSecrets(c)
	}
}
