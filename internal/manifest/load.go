package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"

	"gopkg.in/yaml.v3"
)

// Find returns the slipway.yaml that applies in dir: the first one from
// dir up to the root of its git repository, or "" when there is none.
// Outside a git repository only dir itself is looked at. The path is
// absolute.
func Find(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("find %s: %w", FileName, err)
	}
	top := gitRoot(dir)
	if top == "" {
		top = dir
	}
	for d := dir; ; d = filepath.Dir(d) {
		path := filepath.Join(d, FileName)
		switch st, err := os.Stat(path); {
		case err == nil && st.Mode().IsRegular():
			return path, nil
		case err != nil && !errors.Is(err, fs.ErrNotExist):
			return "", fmt.Errorf("find %s: %w", FileName, err)
		}
		if d == top || filepath.Dir(d) == d {
			return "", nil
		}
	}
}

// gitRoot is the nearest directory from dir upwards holding .git (a
// directory, or a file in a worktree), or "".
func gitRoot(dir string) string {
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Lstat(filepath.Join(d, ".git")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			return ""
		}
	}
}

// Load reads the manifest at path; problems name the file as path.
func Load(path string) (*Manifest, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Default(), fmt.Errorf("read manifest: %w", err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return Default(), fmt.Errorf("read manifest: %w", err)
	}
	return Parse(path, data, filepath.Dir(abs))
}

// Parse reads data, a manifest named name in messages whose relative paths
// start at dir. The returned manifest is never nil: on problems it holds
// what could be read and the defaults elsewhere, and the error is Errors,
// every problem in the order of the file.
func Parse(name string, data []byte, dir string) (*Manifest, error) {
	m := Default()
	m.File, m.keys = name, map[string]keyPos{}
	var err error
	if m.Dir, err = filepath.Abs(dir); err != nil {
		return m, fmt.Errorf("read %s: %w", name, err)
	}
	m.Root = gitRoot(m.Dir)
	if m.Root == "" {
		m.Root = m.Dir
	}
	p := &problems{file: name}
	root := document(p, data)
	if root == nil { // the paths are the defaults: what is wrong is the file
		m.resolve(&problems{file: name})
		return m, p.err()
	}
	d := &decoder{problems: p, keys: m.keys}
	d.mapping("", root, reflect.ValueOf(m).Elem())
	m.check(p)
	m.resolve(p)
	return m, p.err()
}

var syntaxErr = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// document parses data as one YAML document and returns its top node, or
// nil after recording why there is none.
func document(p *problems, data []byte) *yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	err := dec.Decode(&doc)
	if err != nil && err != io.EOF {
		p.errs = append(p.errs, syntaxError(p.file, data, err))
		return nil
	}
	if err == io.EOF || len(doc.Content) == 0 || doc.Content[0].Tag == "!!null" {
		p.at(Pos{}, "the file is empty: describe the app, e.g. app: shop and port: 8080 (every key: slipway.schema.json)")
		return nil
	}
	var next yaml.Node
	if dec.Decode(&next) == nil {
		p.at(Pos{Line: next.Line}, "a second YAML document (---): put everything in one")
	}
	top := deref(doc.Content[0])
	if top.Kind != yaml.MappingNode {
		p.at(pos(top), "want a mapping of keys such as app, build and port, got %s", describe(top))
		return nil
	}
	return top
}

// syntaxError turns the YAML library's "yaml: line 3: ..." into
// "slipway.yaml:3: ...", adding what a tab in the line means.
func syntaxError(file string, data []byte, err error) *Error {
	m := syntaxErr.FindStringSubmatch(err.Error())
	if m == nil {
		return &Error{File: file, Msg: "not YAML: " + err.Error()}
	}
	line, _ := strconv.Atoi(m[1])
	msg := m[2]
	if lines := bytes.Split(data, []byte("\n")); line >= 1 && line <= len(lines) && bytes.HasPrefix(bytes.TrimLeft(lines[line-1], " "), []byte("\t")) {
		msg += " (the line is indented with a tab: YAML indents with spaces)"
	}
	return &Error{File: file, Pos: Pos{Line: line}, Msg: msg}
}
