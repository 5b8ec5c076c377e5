package manifest

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"
)

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(Schema))
	if err != nil {
		t.Fatalf("slipway.schema.json is not JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource("slipway.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("slipway.schema.json")
	if err != nil {
		t.Fatalf("compile slipway.schema.json: %v", err)
	}
	return s
}

// instance is a YAML text as the JSON value an editor's language server
// validates.
func instance(t *testing.T, text []byte) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(text, &v); err != nil {
		t.Fatalf("YAML: %v", err)
	}
	j, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
	if err != nil {
		t.Fatal(err)
	}
	return inst
}

// manifests are every slipway.yaml in the sample app and the packages'
// test data: the examples, and the config package's.
func manifests(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, root := range []string{"../../sample-app", "../../internal"} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err == nil && d.Name() == FileName && d.Type().IsRegular() {
				out = append(out, path)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, e := range examples {
		if !slices.Contains(out, filepath.Clean(e)) && !slices.Contains(out, "../../internal/manifest/"+e) {
			t.Fatalf("the walk missed %s: %v", e, out)
		}
	}
	return out
}

func TestSchemaAcceptsEveryExample(t *testing.T) {
	s := compileSchema(t)
	for _, file := range manifests(t) {
		t.Run(file, func(t *testing.T) {
			text, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			first, _, _ := strings.Cut(string(text), "\n")
			if !strings.HasPrefix(first, "# yaml-language-server: $schema=") {
				t.Errorf("first line %q: want the yaml-language-server schema comment", first)
			}
			if err := s.Validate(instance(t, text)); err != nil {
				t.Errorf("schema refuses %s:\n%v", file, err)
			}
			if _, err := Load(file); err != nil {
				t.Errorf("Load refuses what the schema accepts:\n%v", err)
			}
		})
	}
}

func TestSchemaRefusesWhatParseRefuses(t *testing.T) {
	s := compileSchema(t)
	for _, tt := range badFiles {
		if !tt.schema {
			continue
		}
		t.Run(tt.name, func(t *testing.T) {
			if err := s.Validate(instance(t, []byte(tt.text))); err == nil {
				t.Errorf("schema accepts what Parse refuses (%s):\n%s", tt.want, tt.text)
			}
		})
	}
}

// The schema and the Go types have the same keys, the same kind of value
// at each, and the same bounds on integers: neither can drift.
func TestSchemaAndTypesAgree(t *testing.T) {
	var root map[string]any
	if err := json.Unmarshal(Schema, &root); err != nil {
		t.Fatal(err)
	}
	fromSchema := map[string]map[string]any{}
	schemaKeys(root, root, "", fromSchema)
	fromGo := map[string]reflect.StructField{}
	goKeys(reflect.TypeFor[Manifest](), "", fromGo)

	if a, b := sortedKeys(fromSchema), sortedKeys(fromGo); !slices.Equal(a, b) {
		t.Fatalf("keys differ:\nschema: %v\nGo:     %v", a, b)
	}
	for key, f := range fromGo {
		s := fromSchema[key]
		if got, want := s["type"], jsonType(f.Type); !typeIncludes(got, want) {
			t.Errorf("%s: schema type %v, Go %s (%s)", key, got, f.Type, want)
		}
		if r := f.Tag.Get("range"); r != "" {
			lo, hi, _ := strings.Cut(r, "-")
			if num(s["minimum"]) != lo || num(s["maximum"]) != hi {
				t.Errorf("%s: schema bounds %v-%v, Go %s", key, s["minimum"], s["maximum"], r)
			}
		}
		if e := f.Tag.Get("enum"); e != "" {
			var got []string
			for _, v := range s["enum"].([]any) {
				got = append(got, num(v))
			}
			if strings.Join(got, ",") != e {
				t.Errorf("%s: schema enum %v, Go %s", key, got, e)
			}
		}
	}
}

// schemaKeys collects every property of the schema by dotted path, each
// with its $ref resolved into it.
func schemaKeys(root, s map[string]any, path string, out map[string]map[string]any) {
	props, _ := s["properties"].(map[string]any)
	for k, v := range props {
		sub := resolved(root, v.(map[string]any))
		out[join(path, k)] = sub
		schemaKeys(root, sub, join(path, k), out)
	}
}

func resolved(root, s map[string]any) map[string]any {
	ref, ok := s["$ref"].(string)
	if !ok {
		return s
	}
	name := strings.TrimPrefix(ref, "#/$defs/")
	def := resolved(root, root["$defs"].(map[string]any)[name].(map[string]any))
	merged := map[string]any{}
	for k, v := range def {
		merged[k] = v
	}
	for k, v := range s {
		if k != "$ref" {
			merged[k] = v
		}
	}
	return merged
}

// goKeys collects every file key of the Go types by dotted path.
func goKeys(t reflect.Type, path string, out map[string]reflect.StructField) {
	for i := range t.NumField() {
		f := t.Field(i)
		k := yamlKey(f)
		if k == "" {
			continue
		}
		out[join(path, k)] = f
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct && ft != durationType {
			goKeys(ft, join(path, k), out)
		}
	}
}

func jsonType(t reflect.Type) string {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == durationType, t.Kind() == reflect.String:
		return "string"
	case t.Kind() == reflect.Int:
		return "integer"
	case t.Kind() == reflect.Slice:
		return "array"
	}
	return "object" // structs and maps
}

func typeIncludes(schemaType any, want string) bool {
	switch st := schemaType.(type) {
	case string:
		return st == want
	case []any:
		return slices.Contains(st, any(want))
	}
	return false
}

func num(v any) string {
	if f, ok := v.(float64); ok {
		return strconv.Itoa(int(f))
	}
	return "?"
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
