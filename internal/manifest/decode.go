package manifest

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// decoder fills a Manifest from the YAML tree, field by field through the
// yaml tags, recording where every key is and every problem.
type decoder struct {
	*problems
	keys map[string]keyPos
}

var durationType = reflect.TypeFor[time.Duration]()

func pos(n *yaml.Node) Pos { return Pos{n.Line, n.Column} }

// value decodes n into v; path names it in messages ("health.interval").
func (d *decoder) value(path string, n *yaml.Node, v reflect.Value, tag reflect.StructTag) {
	switch {
	case v.Type() == durationType:
		d.duration(path, n, v, tag.Get("zero") == "ok")
	case v.Kind() == reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.value(path, n, v.Elem(), tag)
	case v.Kind() == reflect.Struct:
		d.mapping(path, n, v)
	case v.Kind() == reflect.Map:
		d.stringMap(path, n, v)
	case v.Kind() == reflect.Slice:
		d.command(path, n, v)
	case v.Kind() == reflect.Int:
		d.integer(path, n, v, tag)
	case v.Kind() == reflect.String:
		if n.Tag != "!!str" {
			d.at(pos(n), "%s: want a string, got %s", path, describe(n))
			return
		}
		v.SetString(n.Value)
	default:
		panic("manifest: no decoding for " + v.Type().String())
	}
}

// keysOf returns the file keys of a struct type, in declaration order.
func keysOf(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		if k := yamlKey(t.Field(i)); k != "" {
			out = append(out, k)
		}
	}
	return out
}

// fieldOf is the field of struct type t whose file key is key.
func fieldOf(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		if f := t.Field(i); yamlKey(f) == key {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func yamlKey(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	k, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if k == "-" {
		return ""
	}
	return k
}

// mapping decodes a YAML mapping into struct v: unknown and duplicate
// keys are problems; null is an empty mapping.
func (d *decoder) mapping(path string, n *yaml.Node, v reflect.Value) {
	if n.Tag == "!!null" {
		return
	}
	known := keysOf(v.Type())
	if n.Kind != yaml.MappingNode {
		what := ""
		if path != "" {
			what = path + ": "
		}
		d.at(pos(n), "%swant a mapping of keys such as %s, got %s", what, strings.Join(known[:min(3, len(known))], ", "), describe(n))
		return
	}
	d.entries(path, n, func(k, val *yaml.Node) {
		f, ok := fieldOf(v.Type(), k.Value)
		if !ok {
			in := ""
			if path != "" {
				in = " in " + path
			}
			d.at(pos(k), "unknown key %q%s%s", k.Value, in, suggest(path, k.Value, known))
			return
		}
		sub := join(path, k.Value)
		d.keys[sub] = keyPos{pos(k), pos(val)}
		d.value(sub, val, v.FieldByIndex(f.Index), f.Tag)
	})
}

// entries calls fn for each key and value of mapping n, aliases followed,
// after refusing duplicate and non-string keys.
func (d *decoder) entries(path string, n *yaml.Node, fn func(k, v *yaml.Node)) {
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := deref(n.Content[i]), deref(n.Content[i+1])
		switch {
		case k.Kind != yaml.ScalarNode || k.Tag == "!!null":
			d.at(pos(k), "%s: want a key name, got %s", orTop(path), describe(k))
		case k.Tag == "!!merge":
			d.at(pos(k), "merge keys (<<) are not supported: write the keys out")
		case seen[k.Value] != 0:
			d.at(pos(k), "duplicate key %q (first at line %d)", k.Value, seen[k.Value])
		default:
			seen[k.Value] = k.Line
			fn(k, val)
		}
	}
}

// stringMap decodes a mapping of names to scalar values (numbers and
// booleans as written) into a map[string]string.
func (d *decoder) stringMap(path string, n *yaml.Node, v reflect.Value) {
	if n.Tag == "!!null" {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.at(pos(n), "%s: want a mapping of names to values, e.g. %s: {LOG_LEVEL: info}, got %s", path, path[strings.LastIndex(path, ".")+1:], describe(n))
		return
	}
	if v.IsNil() {
		v.Set(reflect.MakeMap(v.Type()))
	}
	d.entries(path, n, func(k, val *yaml.Node) {
		sub := path + "." + k.Value
		d.keys[sub] = keyPos{pos(k), pos(val)}
		if val.Kind != yaml.ScalarNode || val.Tag == "!!null" {
			d.at(pos(val), "%s: want a value (a string, number or true/false), got %s", sub, describe(val))
			return
		}
		v.SetMapIndex(reflect.ValueOf(k.Value), reflect.ValueOf(val.Value))
	})
}

// command decodes a list of words: the program and its arguments. A
// single string would need a shell to split, so it is refused with the
// list to write instead.
func (d *decoder) command(path string, n *yaml.Node, v reflect.Value) {
	key := path[strings.LastIndex(path, ".")+1:]
	if n.Kind == yaml.ScalarNode && n.Tag == "!!str" {
		d.at(pos(n), "%s: write the command as a list of words, e.g. %s: %s (a string would need a shell to split it)", path, key, asList(n.Value))
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.at(pos(n), "%s: want a list of words such as [\"npm\", \"test\"], got %s", path, describe(n))
		return
	}
	if len(n.Content) == 0 {
		d.at(pos(n), "%s: the list is empty: give at least the program to run, e.g. [\"npm\", \"test\"]", path)
		return
	}
	words := make([]string, 0, len(n.Content))
	for _, w := range n.Content {
		w = deref(w)
		if w.Kind != yaml.ScalarNode || w.Tag == "!!null" {
			d.at(pos(w), "%s: want a word (a string), got %s", path, describe(w))
			return
		}
		words = append(words, w.Value)
	}
	v.Set(reflect.ValueOf(words))
}

// asList is s written as a YAML flow list of its words, or run by sh -c
// when it uses the shell.
func asList(s string) string {
	words := strings.Fields(s)
	if strings.ContainsAny(s, "|&;<>()$`\\\"'*?[]#~=%{}") || len(words) == 0 {
		words = []string{"sh", "-c", s}
	}
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = strconv.Quote(w)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

func (d *decoder) integer(path string, n *yaml.Node, v reflect.Value, tag reflect.StructTag) {
	want := "an integer"
	lo, hi := 0, 0
	if r := tag.Get("range"); r != "" {
		a, b, _ := strings.Cut(r, "-")
		lo, _ = strconv.Atoi(a)
		hi, _ = strconv.Atoi(b)
		want = fmt.Sprintf("an integer from %d to %d", lo, hi)
	}
	var enum []string
	if e := tag.Get("enum"); e != "" {
		enum = strings.Split(e, ",")
		want = "one of " + strings.Join(enum[:len(enum)-1], ", ") + " or " + enum[len(enum)-1]
	}
	var i int
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || n.Decode(&i) != nil ||
		(hi != 0 && (i < lo || i > hi)) || (enum != nil && !slices.Contains(enum, strconv.Itoa(i))) {
		d.at(pos(n), "%s: want %s, got %s", path, want, describe(n))
		return
	}
	v.SetInt(int64(i))
}

func (d *decoder) duration(path string, n *yaml.Node, v reflect.Value, zeroOK bool) {
	want := "a positive duration such as 10s or 5m"
	if zeroOK {
		want = "a duration such as 0s, 10s or 5m"
	}
	var t time.Duration
	var err error
	if n.Kind == yaml.ScalarNode && n.Tag == "!!str" {
		t, err = time.ParseDuration(n.Value)
	}
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" || err != nil || t < 0 || (t == 0 && !zeroOK) {
		d.at(pos(n), "%s: want %s, got %s", path, want, describe(n))
		return
	}
	v.SetInt(int64(t))
}

// describe says what a node holds, for "got ...".
func describe(n *yaml.Node) string {
	switch {
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case n.Tag == "!!null":
		return "nothing"
	case n.Tag == "!!str":
		return strconv.Quote(n.Value)
	}
	return n.Value
}

// deref follows an alias to its anchor.
func deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func orTop(path string) string {
	if path == "" {
		return "slipway.yaml"
	}
	return path
}
