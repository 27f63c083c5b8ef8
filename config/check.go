package config

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// checkTree walks the parsed YAML against the Config structs before decoding, so that a mistake
// is reported in the file's own terms: the dotted key, what was expected, what was found and the
// line, instead of yaml.v3's Go type names ("cannot unmarshal !!seq into string").
func checkTree(root *yaml.Node) Errors {
	if root == nil || root.Kind == 0 {
		return nil
	}
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return nil
		}
		root = root.Content[0]
	}
	var errs Errors
	checkNode(root, reflect.TypeOf(Config{}), "", &errs)
	return errs
}

func checkNode(n *yaml.Node, t reflect.Type, key string, errs *Errors) {
	if n.Kind == yaml.AliasNode {
		return // not followed: an alias bomb would explode here; the decoder guards against them
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // an empty value keeps the default
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	bad := func(reason string) {
		*errs = append(*errs, &Error{Key: keyOrTop(key), Reason: reason, Line: n.Line})
	}
	switch {
	case t == durationType:
		if n.Kind != yaml.ScalarNode {
			bad("expected a duration like 30s, got " + describe(n))
		} else if tag := n.ShortTag(); tag == "!!int" || tag == "!!float" {
			// The YAML decoder refuses a bare number for a duration, 0 included.
			bad(fmt.Sprintf("expected a duration with a unit like 0s, 30s or 5m, got %s", n.Value))
		} else if _, err := time.ParseDuration(n.Value); err != nil {
			if _, ierr := strconv.ParseInt(n.Value, 10, 64); ierr != nil {
				bad(fmt.Sprintf("expected a duration like 30s or 5ms, got %q", n.Value))
			}
		}
	case t.Kind() == reflect.Struct:
		if n.Kind != yaml.MappingNode {
			bad("expected keys and values, got " + describe(n))
			return
		}
		fields := map[string]reflect.Type{}
		for i := 0; i < t.NumField(); i++ {
			if name := yamlName(t.Field(i)); name != "" {
				fields[name] = t.Field(i).Type
			}
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			ft, ok := fields[k.Value]
			if !ok {
				reason := fmt.Sprintf("unknown key %q (line %d)", k.Value, k.Line)
				if s := closest(k.Value, fields); s != "" {
					reason += fmt.Sprintf("; did you mean %q?", s)
				}
				*errs = append(*errs, &Error{Key: key, Reason: reason})
				continue
			}
			checkNode(v, ft, join(key, k.Value), errs)
		}
	case t.Kind() == reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			bad("expected a list, got " + describe(n))
			return
		}
		for i, item := range n.Content {
			checkNode(item, t.Elem(), fmt.Sprintf("%s[%d]", key, i), errs)
		}
	case t.Kind() == reflect.Map:
		if n.Kind != yaml.MappingNode {
			bad("expected keys and values, got " + describe(n))
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			checkNode(n.Content[i+1], t.Elem(), join(key, n.Content[i].Value), errs)
		}
	case t.Kind() == reflect.String:
		if n.Kind != yaml.ScalarNode {
			bad("expected text, got " + describe(n))
		}
	case t.Kind() == reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
			bad("expected true or false, got " + describe(n))
		}
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
			bad("expected a whole number, got " + describe(n))
		}
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") {
			bad("expected a number, got " + describe(n))
		}
	}
}

func keyOrTop(key string) string {
	if key == "" {
		return "(top level)"
	}
	return key
}

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// describe names what the file holds at a node, in words a config author uses.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "keys and values"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!int", "!!float":
			return "the number " + n.Value
		case "!!bool":
			return n.Value
		default:
			return fmt.Sprintf("the text %q", n.Value)
		}
	}
	return "something else"
}

// closest suggests the known key nearest to a misspelt one (at most two edits away).
func closest(name string, known map[string]reflect.Type) string {
	names := make([]string, 0, len(known))
	for k := range known {
		names = append(names, k)
	}
	sort.Strings(names)
	best, bestDist := "", 3
	for _, k := range names {
		if d := editDistance(strings.ToLower(name), k); d < bestDist {
			best, bestDist = k, d
		}
	}
	return best
}

// editDistance is the optimal string alignment distance: insertions, deletions, substitutions
// and swaps of two neighbours ("htpp" for "http") cost one each.
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
