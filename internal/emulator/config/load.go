package config

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/floodgate-dev/floodgate/internal/suggest"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/floodgate-dev/floodgate/internal/emulator/platform"
)

// Problem is one configuration error: where, which field, what is wrong
// and how to fix it. Load and Validate join Problems with errors.Join.
type Problem struct {
	File  string
	Pos   Pos // zero when unknown (defaults, JSON)
	Field string
	Msg   string
	Fix   string
}

func (p *Problem) Error() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		b.WriteByte(':')
	}
	if p.Pos.Line > 0 {
		b.WriteString(p.Pos.String())
		b.WriteByte(':')
	}
	if b.Len() > 0 {
		b.WriteByte(' ')
	}
	if p.Field != "" {
		b.WriteString(p.Field)
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	if p.Fix != "" {
		b.WriteString(" (fix: ")
		b.WriteString(p.Fix)
		b.WriteByte(')')
	}
	return b.String()
}

// Load reads, decodes strictly, defaults and validates the YAML file at path.
func Load(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("emulator config: %w", err)
	}
	return Parse(path, b)
}

// Parse decodes data (named name in errors; relative secret_file paths
// resolve against its directory), applies defaults and validates.
// Unknown keys, wrong types and invalid values are errors with positions.
func Parse(name string, data []byte) (Config, error) {
	c := Config{file: name, pos: map[string]Pos{}}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			c.applyDefaults()
			return c, c.Validate()
		}
		return Config{}, &Problem{File: name, Msg: strings.TrimPrefix(err.Error(), "yaml: "), Fix: "check the YAML syntax near that line"}
	}
	d := &decoder{file: name, pos: c.pos}
	d.decode(&doc, reflect.ValueOf(&c).Elem(), "")
	if len(d.errs) > 0 {
		return Config{}, errors.Join(d.errs...)
	}
	c.applyDefaults()
	// Like secret_file, a relative export_dir is relative to the file.
	if c.ExportDir != "" && !filepath.IsAbs(c.ExportDir) && c.file != "" {
		c.ExportDir = filepath.Join(filepath.Dir(c.file), c.ExportDir)
	}
	if err := c.readSecrets(); err != nil {
		return Config{}, err
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

func (c *Config) readSecrets() error {
	var errs []error
	for i := range c.Orgs {
		for j := range c.Orgs[i].Clients {
			cl := &c.Orgs[i].Clients[j]
			if cl.SecretFile == "" {
				continue
			}
			field := fmt.Sprintf("orgs[%d].clients[%d].secret_file", i, j)
			if cl.Secret != "" {
				errs = append(errs, c.problem(field, "both secret and secret_file are set", "keep only one of them"))
				continue
			}
			p := cl.SecretFile
			if !filepath.IsAbs(p) && c.file != "" {
				p = filepath.Join(filepath.Dir(c.file), p)
			}
			b, err := os.ReadFile(p)
			if err != nil {
				errs = append(errs, c.problem(field, err.Error(), "point secret_file at a readable file holding the secret"))
				continue
			}
			cl.Secret = strings.TrimRight(string(b), "\r\n")
		}
	}
	return errors.Join(errs...)
}

var durationType = reflect.TypeFor[Duration]()

// decoder walks a YAML node tree and a Go value together, so that every
// error carries the node's position. yaml.v3's own KnownFields mode gives
// lines only and stops at the first problem.
type decoder struct {
	file string
	pos  map[string]Pos
	errs []error
}

func (d *decoder) fail(n *yaml.Node, field, msg, fix string) {
	d.errs = append(d.errs, &Problem{File: d.file, Pos: Pos{n.Line, n.Column}, Field: field, Msg: msg, Fix: fix})
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) > 0 {
			d.decode(n.Content[0], v, path)
		}
		return
	case yaml.AliasNode:
		d.decode(n.Alias, v, path)
		return
	}
	if path != "" {
		d.pos[path] = Pos{n.Line, n.Column}
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		v.Set(reflect.Zero(v.Type()))
		return
	}
	if v.Kind() == reflect.Pointer {
		p := reflect.New(v.Type().Elem())
		d.decode(n, p.Elem(), path)
		v.Set(p)
		return
	}
	if v.Type() == durationType {
		if n.Kind != yaml.ScalarNode {
			d.fail(n, path, "want a duration", `write it like "60s" or "250ms"`)
			return
		}
		dur, err := time.ParseDuration(n.Value)
		if err != nil {
			d.fail(n, path, fmt.Sprintf("%q is not a duration", n.Value), `write it with a unit, like "60s" or "250ms"`)
			return
		}
		v.SetInt(int64(dur))
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.fail(n, path, "want a list", "write it as a YAML list (- item) or [a, b]")
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			d.decode(item, s.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
		v.Set(s)
	case reflect.Map:
		if n.Kind != yaml.MappingNode || v.Type().Key().Kind() != reflect.String {
			d.fail(n, path, "want a mapping of keys to values", "write key: value pairs")
			return
		}
		m := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			field := join(path, k.Value)
			if m.MapIndex(reflect.ValueOf(k.Value).Convert(v.Type().Key())).IsValid() {
				d.fail(k, field, "duplicate key", "keep one "+k.Value)
				continue
			}
			e := reflect.New(v.Type().Elem()).Elem()
			d.decode(n.Content[i+1], e, field)
			d.pos[field] = Pos{k.Line, k.Column}
			m.SetMapIndex(reflect.ValueOf(k.Value).Convert(v.Type().Key()), e)
		}
		v.Set(m)
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			d.fail(n, path, "want a string", "write a single value")
			return
		}
		v.SetString(n.Value)
	case reflect.Int, reflect.Int64:
		i, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64)
		if n.Kind != yaml.ScalarNode || err != nil {
			d.fail(n, path, fmt.Sprintf("%q is not an integer", n.Value), "write a whole number")
			return
		}
		v.SetInt(i)
	case reflect.Float64:
		f, err := strconv.ParseFloat(n.Value, 64)
		if n.Kind != yaml.ScalarNode || err != nil {
			d.fail(n, path, fmt.Sprintf("%q is not a number", n.Value), "write a number such as 0.01")
			return
		}
		v.SetFloat(f)
	case reflect.Bool:
		switch n.Value {
		case "true":
			v.SetBool(true)
		case "false":
			v.SetBool(false)
		default:
			d.fail(n, path, fmt.Sprintf("%q is not a boolean", n.Value), "write true or false")
		}
	default:
		d.fail(n, path, "unsupported field type "+v.Type().String(), "")
	}
}

type fieldRef struct {
	index []int
	name  string
}

func yamlFields(t reflect.Type) []fieldRef {
	var out []fieldRef
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		if tag == ",inline" {
			for _, sub := range yamlFields(f.Type) {
				out = append(out, fieldRef{append([]int{i}, sub.index...), sub.name})
			}
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if name == "" || name == "-" {
			continue
		}
		out = append(out, fieldRef{[]int{i}, name})
	}
	return out
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "want a mapping of keys to values", "write key: value pairs")
		return
	}
	fields := yamlFields(v.Type())
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		key := k.Value
		field := join(path, key)
		if seen[key] {
			d.fail(k, field, "duplicate key", "keep one "+key)
			continue
		}
		seen[key] = true
		var ref *fieldRef
		for j := range fields {
			if fields[j].name == key {
				ref = &fields[j]
				break
			}
		}
		if ref == nil {
			names := make([]string, len(fields))
			for j, f := range fields {
				names[j] = f.name
			}
			fix := "known keys here: " + strings.Join(names, ", ")
			if s := closest(key, names); s != "" {
				fix = fmt.Sprintf("did you mean %q? ", s) + fix
			}
			d.fail(k, field, "unknown key", fix)
			continue
		}
		d.pos[field] = Pos{k.Line, k.Column}
		d.decode(val, v.FieldByIndex(ref.index), field)
		d.pos[field] = Pos{k.Line, k.Column}
	}
}

// closest returns the candidate s is a likely typo of, if any.
func closest(s string, candidates []string) string { return suggest.Closest(s, candidates) }

func defaultCode(status int) string {
	if c := platform.DefaultCode(status); c != "" {
		return c
	}
	return "error"
}
