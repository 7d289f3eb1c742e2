package catalog

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
)

//go:embed catalog.json.gz
var embedded []byte

// File is the catalogue as generated and embedded: the SDK version it came
// from, every operation and every model.
type File struct {
	SDK    string             `json:"sdk"`
	Ops    []Op               `json:"ops"`
	Models map[string][]Field `json:"models"`
}

// Op is one operation of the platform API.
type Op struct {
	// Group is the SDK's API class without "Api" ("Users", "Routing").
	Group string
	// Name is the SDK's method name ("getUser").
	Name string
	// Method and Path as the SDK calls them; Path has {param} segments.
	Method, Path string
	// Returns is the declared return type ("Models.User",
	// "Array<Models.X>", "object"), "" for none.
	Returns string
	// Body is the declared request body type, "" for none.
	Body string
	// BodyOptional is set when the SDK sends the body only if given
	// (opts.body).
	BodyOptional bool
	// Query lists the query parameters the SDK sends.
	Query []string
}

// MarshalJSON writes an Op as an array, keeping the catalogue small.
func (o Op) MarshalJSON() ([]byte, error) {
	opt := 0
	if o.BodyOptional {
		opt = 1
	}
	return json.Marshal([]any{o.Group, o.Name, o.Method, o.Path, o.Returns, o.Body, o.Query, opt})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (o *Op) UnmarshalJSON(b []byte) error {
	var q []string
	var opt int
	if err := json.Unmarshal(b, &[]any{&o.Group, &o.Name, &o.Method, &o.Path, &o.Returns, &o.Body, &q, &opt}); err != nil {
		return err
	}
	o.Query, o.BodyOptional = q, opt == 1
	return nil
}

// Field is one field of a model.
type Field struct {
	Name, Type string
	Required   bool
}

// MarshalJSON writes a Field as [name, type] or [name, type, 1] when required.
func (f Field) MarshalJSON() ([]byte, error) {
	if f.Required {
		return json.Marshal([]any{f.Name, f.Type, 1})
	}
	return json.Marshal([]any{f.Name, f.Type})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (f *Field) UnmarshalJSON(b []byte) error {
	var req int
	if err := json.Unmarshal(b, &[]any{&f.Name, &f.Type, &req}); err != nil {
		return err
	}
	f.Required = req == 1
	return nil
}

// Catalog is a loaded catalogue with every declared type parsed. It is
// immutable and safe for concurrent use.
type Catalog struct {
	SDK    string
	Ops    []Op
	models map[string]*Model
	types  map[string]*Type
}

// Model is a parsed model: its fields in declaration order.
type Model struct {
	Name   string
	Fields []ModelField
	byName map[string]*ModelField
}

// ModelField is a model's field with its parsed type.
type ModelField struct {
	Name     string
	Type     *Type
	Required bool
}

// Field returns the named field, or nil.
func (m *Model) Field(name string) *ModelField { return m.byName[name] }

// Kind is a JSON shape a declared type stands for.
type Kind uint8

// The declared types of index.d.ts.
const (
	KindAny Kind = iota // any, object: any JSON value or object
	KindString
	KindNumber
	KindBoolean
	KindObject // "object": any JSON object
	KindArray
	KindMap // { [key: string]: T; }
	KindModel
)

// Type is a parsed declared type.
type Type struct {
	Kind  Kind
	Elem  *Type  // KindArray, KindMap
	Model *Model // KindModel
	Decl  string // as declared
}

var (
	defaultOnce sync.Once
	defaultCat  *Catalog
	defaultErr  error
)

// Default returns the embedded catalogue, parsed once.
func Default() (*Catalog, error) {
	defaultOnce.Do(func() { defaultCat, defaultErr = Parse(embedded) })
	return defaultCat, defaultErr
}

// Parse reads a gzipped catalogue File and resolves every type.
func Parse(gz []byte) (*Catalog, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	var f File
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	c := &Catalog{SDK: f.SDK, Ops: f.Ops, models: make(map[string]*Model, len(f.Models)), types: map[string]*Type{}}
	for name, fields := range f.Models {
		c.models[name] = &Model{Name: name, Fields: make([]ModelField, len(fields)), byName: make(map[string]*ModelField, len(fields))}
	}
	for name, fields := range f.Models {
		m := c.models[name]
		for i, fd := range fields {
			t, err := c.parseType(fd.Type)
			if err != nil {
				return nil, fmt.Errorf("catalog: model %s.%s: %w", name, fd.Name, err)
			}
			m.Fields[i] = ModelField{Name: fd.Name, Type: t, Required: fd.Required}
			m.byName[fd.Name] = &m.Fields[i]
		}
	}
	for _, op := range f.Ops {
		for _, d := range []string{op.Returns, op.Body} {
			if d == "" {
				continue
			}
			if _, err := c.parseType(d); err != nil {
				return nil, fmt.Errorf("catalog: %s %s: %w", op.Method, op.Path, err)
			}
		}
	}
	return c, nil
}

// Type returns the parsed form of a declared type, or nil for "" or an
// unknown declaration.
func (c *Catalog) Type(decl string) *Type { return c.types[decl] }

// Model returns the named model, or nil.
func (c *Catalog) Model(name string) *Model { return c.models[name] }

// Models returns how many models the catalogue has.
func (c *Catalog) Models() int { return len(c.models) }

func (c *Catalog) parseType(decl string) (*Type, error) {
	if t, ok := c.types[decl]; ok {
		return t, nil
	}
	t := &Type{Decl: decl}
	switch {
	case decl == "string":
		t.Kind = KindString
	case decl == "number":
		t.Kind = KindNumber
	case decl == "boolean":
		t.Kind = KindBoolean
	case decl == "object":
		t.Kind = KindObject
	case decl == "any" || decl == "AuthData":
		t.Kind = KindAny
	case strings.HasPrefix(decl, "Array<") && strings.HasSuffix(decl, ">"):
		t.Kind = KindArray
		e, err := c.parseType(decl[len("Array<") : len(decl)-1])
		if err != nil {
			return nil, err
		}
		t.Elem = e
	case strings.HasPrefix(decl, "{ [key: string]: ") && strings.HasSuffix(decl, "; }"):
		t.Kind = KindMap
		e, err := c.parseType(decl[len("{ [key: string]: ") : len(decl)-len("; }")])
		if err != nil {
			return nil, err
		}
		t.Elem = e
	case strings.HasPrefix(decl, "Models."):
		m := c.models[decl[len("Models."):]]
		if m == nil {
			return nil, fmt.Errorf("unknown model %s", decl)
		}
		t.Kind, t.Model = KindModel, m
	default:
		return nil, fmt.Errorf("unsupported declared type %q", decl)
	}
	c.types[decl] = t
	return t, nil
}
