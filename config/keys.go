package config

import (
	"reflect"
	"strings"
	"time"
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
