package catalog

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/floodgate-dev/floodgate/internal/emulator/platform"
)

// createdFields are the fields a server sets on create. Where a create's
// body model is the entity model itself (Note, DataSchema), the typings
// mark some of them required because responses always carry them: a
// create need not send those.
var createdFields = map[string]bool{
	"id": true, "selfUri": true, "version": true, "dateCreated": true, "createdDate": true,
	"createdBy": true, "dateModified": true, "modifiedDate": true, "modifiedBy": true,
}

// requiredFields returns the fields of a create's body model that the
// typings mark required, less those the server sets on an entity model.
func requiredFields(p *op) []string {
	if p.body == nil || p.body.Kind != KindModel {
		return nil
	}
	m := p.body.Model
	entity := p.ret != nil && p.ret.Kind == KindModel && p.ret.Model == m
	var out []string
	for i := range m.Fields {
		if f := &m.Fields[i]; f.Required && !(entity && createdFields[f.Name]) {
			out = append(out, f.Name)
		}
	}
	return out
}

// Kind of answer an operation gets, from its method and path shape.
type opKind uint8

const (
	kindItemGet    opKind = iota // GET …/{id}
	kindItemUpdate               // PUT/PATCH …/{id}
	kindItemDelete               // DELETE …/{id}
	kindCreate                   // POST …/coll where GET …/coll/{id} exists
	kindList                     // GET …/coll answering an entity listing
	kindDocGet                   // GET of a literal path (settings, /me)
	kindDocUpdate                // PUT/PATCH of a literal path
	kindDocDelete                // DELETE of a literal path
	kindAction                   // any other POST: answers its return type
)

// Paging of list routes: the platform's usual default page size, and the
// emulator's own bounds (the platform's vary by route).
const (
	defaultPageSize = 25
	maxPageSize     = 10000
	maxPageNumber   = 1000000
)

// Options configure a Service.
type Options struct {
	// Catalog is the catalogue served (default: the embedded one).
	Catalog *Catalog
	// MaxEntities bounds the store (default 100,000).
	MaxEntities int
	// Now is the clock for server-side dates (default time.Now).
	Now func() time.Time
	// Seed gives each of Orgs that many deterministic entities per
	// collection (see Collections), at start and after Reset.
	Seed map[string]int
	Orgs []string
}

// Service answers every catalogued operation from a bounded store. It is
// safe for concurrent use.
type Service struct {
	cat   *Catalog
	store *Store
	now   func() time.Time
	ops   []*op
	seeds map[string]int
	orgs  []string
}

type op struct {
	Op
	kind     opKind
	ret      *Type
	body     *Type
	entities *Type // element type of a listing's entities
	hasID    bool  // the return model declares "id"
	// required lists the body fields a create must send: those the SDK's
	// typings do not mark optional.
	required []string

	once     sync.Once
	template []byte // synthetic body without id and selfUri
	synth    map[string]any
}

// New builds the service.
func New(o Options) (*Service, error) {
	if o.Catalog == nil {
		c, err := Default()
		if err != nil {
			return nil, err
		}
		o.Catalog = c
	}
	if o.MaxEntities <= 0 {
		o.MaxEntities = 100000
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Service{cat: o.Catalog, store: NewStore(o.MaxEntities), now: o.Now, seeds: o.Seed, orgs: o.Orgs}
	items := map[string]bool{}
	for _, o := range s.cat.Ops {
		if o.Method == http.MethodGet && lastIsParam(o.Path) {
			items[parent(o.Path)] = true
		}
	}
	for _, c := range s.cat.Ops {
		p := &op{Op: c, ret: s.cat.Type(c.Returns), body: s.cat.Type(c.Body)}
		param := lastIsParam(c.Path)
		switch c.Method {
		case http.MethodGet:
			p.kind = kindDocGet
			if param {
				p.kind = kindItemGet
			} else if e := listed(p.ret); e != nil {
				p.kind, p.entities = kindList, e
			}
		case http.MethodPut, http.MethodPatch:
			p.kind = kindDocUpdate
			if param {
				p.kind = kindItemUpdate
			}
		case http.MethodDelete:
			p.kind = kindDocDelete
			if param {
				p.kind = kindItemDelete
			}
		default:
			p.kind = kindAction
			if c.Method == http.MethodPost && !param && items[c.Path] {
				p.kind = kindCreate
			}
		}
		p.hasID = p.ret != nil && p.ret.Kind == KindModel && p.ret.Model.Field("id") != nil
		if p.kind == kindCreate {
			p.required = requiredFields(p)
		}
		s.ops = append(s.ops, p)
	}
	if err := s.seedAll(); err != nil {
		return nil, err
	}
	return s, nil
}

// seedAll fills every org's seeded collections, in a fixed order.
func (s *Service) seedAll() error {
	for _, org := range s.orgs {
		for _, name := range slices.Sorted(maps.Keys(s.seeds)) {
			if err := s.seed(org, name, s.seeds[name]); err != nil {
				return err
			}
		}
	}
	return nil
}

// Ops returns the catalogued operations, indexed as Serve takes them.
func (s *Service) Ops() []Op { return s.cat.Ops }

// Catalog returns the catalogue served.
func (s *Service) Catalog() *Catalog { return s.cat }

// Entities returns how many entities the store holds.
func (s *Service) Entities() int { return s.store.Len() }

// Reset forgets every created or deleted entity and seeds the orgs
// again.
func (s *Service) Reset() {
	s.store.Reset()
	_ = s.seedAll() // it succeeded in New, with the same seeds
}

// Family returns the endpoint family of a catalogued path: its first
// segment after /api/v2 ("users", "routing"), with "recording" folded into
// the hand-built routes' "recordings".
func Family(path string) string {
	rest := strings.TrimPrefix(path, "/api/v2/")
	seg, _, _ := strings.Cut(rest, "/")
	switch {
	case seg == "recording":
		return "recordings"
	case seg == "" || rest == path:
		return "unknown"
	}
	return seg
}

func lastIsParam(path string) bool { return strings.HasSuffix(path, "}") }

func parent(path string) string {
	if i := strings.LastIndexByte(path, '/'); i > 0 {
		return path[:i]
	}
	return path
}

func lastSegment(path string) string { return path[strings.LastIndexByte(path, '/')+1:] }

// listed returns the element type of a paged listing (a model with
// "entities": Array<T>), or nil.
func listed(t *Type) *Type {
	if t == nil || t.Kind != KindModel {
		return nil
	}
	f := t.Model.Field("entities")
	if f == nil || f.Type.Kind != KindArray {
		return nil
	}
	return f.Type.Elem
}

// Serve answers catalogued operation i. With synthesize, an entity nobody
// created answers a synthetic body; otherwise 404.
func (s *Service) Serve(i int, w http.ResponseWriter, r *http.Request, c *platform.Call, synthesize bool) {
	p := s.ops[i]
	path := strings.TrimSuffix(r.URL.Path, "/")
	switch p.kind {
	case kindItemGet, kindDocGet:
		raw, st := s.store.get(c.OrgID, path)
		switch {
		case st == present:
			platform.WriteRawJSON(w, http.StatusOK, raw)
		case st == deleted || (!synthesize && p.kind == kindItemGet):
			platform.NotFound(w, c.ContextID)
		default:
			s.writeSynthetic(w, p, path)
		}
	case kindList:
		s.list(w, r, c, p, path)
	case kindCreate:
		body, ok := s.decode(w, r, c, p)
		if !ok || !s.complete(w, c, p, body) {
			return
		}
		id := platform.NewID()
		raw, _ := s.store.update(c.OrgID, path+"/"+id, path, func(map[string]any, state) (map[string]any, error) {
			return s.entity(p, nil, body, id, path+"/"+id), nil
		})
		s.answer(w, p, raw)
	case kindItemUpdate, kindDocUpdate:
		body, ok := s.decode(w, r, c, p)
		if !ok {
			return
		}
		raw, err := s.store.update(c.OrgID, path, parent(path), func(old map[string]any, st state) (map[string]any, error) {
			if old == nil {
				if st == deleted || (!synthesize && p.kind == kindItemUpdate) {
					return nil, errNotFound
				}
				old = s.synthetic(p, path)
			}
			id := idOf(old, path)
			if r.Method == http.MethodPut {
				// PUT replaces what the caller may set; server-side fields stay.
				kept := map[string]any{}
				for _, k := range serverFields {
					if v, ok := old[k]; ok {
						kept[k] = v
					}
				}
				old = kept
			}
			return s.entity(p, old, body, id, path), nil
		})
		if err != nil {
			platform.NotFound(w, c.ContextID)
			return
		}
		s.answer(w, p, raw)
	case kindItemDelete, kindDocDelete:
		if st := s.store.remove(c.OrgID, path, parent(path)); st == deleted || (st == absent && !synthesize && p.kind == kindItemDelete) {
			platform.NotFound(w, c.ContextID)
			return
		}
		s.answer(w, p, nil)
	case kindAction:
		if _, ok := s.decode(w, r, c, p); !ok {
			return
		}
		s.answer(w, p, nil)
	}
}

var errNotFound = errors.New("catalog: not found")

// serverFields are the fields the server sets, which a PUT keeps.
var serverFields = []string{"id", "selfUri", "version", "dateCreated", "createdDate"}

// synthID is a synthetic entity's id: the path's last segment for an
// item route, a UUID derived from the path for a document (/users/me).
func synthID(p *op, path string) string {
	if lastIsParam(p.Path) {
		return lastSegment(path)
	}
	return DeterministicID(path)
}

func idOf(body map[string]any, path string) string {
	if id, ok := body["id"].(string); ok && id != "" {
		return id
	}
	return lastSegment(path)
}

// answer writes raw (an entity) when the operation returns one, else the
// synthetic body of its return type, or 204 when it returns nothing.
func (s *Service) answer(w http.ResponseWriter, p *op, raw []byte) {
	switch {
	case p.ret == nil:
		w.WriteHeader(http.StatusNoContent)
	case raw != nil && p.ret.Kind == KindModel:
		platform.WriteRawJSON(w, http.StatusOK, raw)
	default:
		p.once.Do(func() { s.prepare(p) })
		s.writeSynthetic(w, p, "")
	}
}

// prepare caches the operation's synthetic body: its id and selfUri are
// filled per request, the rest is the same for every entity.
func (s *Service) prepare(p *op) {
	if p.ret == nil {
		return
	}
	v := Synthesize(p.ret, p.Path)
	if m, ok := v.(map[string]any); ok {
		p.synth = m
		if p.hasID {
			rest := make(map[string]any, len(m))
			for k, x := range m {
				if k != "id" && k != "selfUri" {
					rest[k] = x
				}
			}
			v = rest
		}
	}
	p.template, _ = json.Marshal(v)
}

// synthetic returns a fresh copy of the synthetic entity at path.
func (s *Service) synthetic(p *op, path string) map[string]any {
	p.once.Do(func() { s.prepare(p) })
	var m map[string]any
	_ = json.Unmarshal(p.template, &m)
	if m == nil {
		m = map[string]any{}
	}
	if p.hasID {
		m["id"] = synthID(p, path)
		if p.ret.Model.Field("selfUri") != nil {
			m["selfUri"] = path
		}
	}
	return m
}

// writeSynthetic writes the synthetic body; path (when the model has an
// id) gives its id (the last segment) and selfUri.
func (s *Service) writeSynthetic(w http.ResponseWriter, p *op, path string) {
	p.once.Do(func() { s.prepare(p) })
	if p.ret == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if !p.hasID || path == "" || len(p.template) < 2 || p.template[0] != '{' {
		platform.WriteRawJSON(w, http.StatusOK, p.template)
		return
	}
	id := synthID(p, path)
	// The template is written as it is, after a small prefix: no copy of
	// the body per request.
	var buf [256]byte
	b := append(buf[:0], `{"id":`...)
	b = appendJSONString(b, id)
	if p.ret.Model.Field("selfUri") != nil {
		b = append(b, `,"selfUri":`...)
		b = appendJSONString(b, path)
	}
	rest := p.template[1:]
	if len(p.template) > 2 {
		b = append(b, ',')
	}
	h := w.Header()
	h[platform.HeaderContentType] = platform.JSONContentType
	h["Content-Length"] = []string{strconv.Itoa(len(b) + len(rest))}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
	_, _ = w.Write(rest)
}

func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// entity builds the stored body of p's entity at path: the required fields
// of its model (synthetic), the server-side fields, then old's and body's
// fields the model declares with values of the declared types.
func (s *Service) entity(p *op, old, body map[string]any, id, path string) map[string]any {
	return s.entityAt(p, old, body, id, path, s.now().UTC().Format("2006-01-02T15:04:05.000Z"))
}

// entityAt is entity with now as the server-side dates.
func (s *Service) entityAt(p *op, old, body map[string]any, id, path, now string) map[string]any {
	out := map[string]any{}
	if p.ret == nil || p.ret.Kind != KindModel {
		for k, v := range body {
			out[k] = v
		}
		return out
	}
	m := p.ret.Model
	for i := range m.Fields {
		if f := &m.Fields[i]; f.Required {
			out[f.Name] = synth(f.Type, f.Name, p.Path, fullDepth+1)
		}
	}
	for _, src := range []map[string]any{old, body} {
		for k, v := range src {
			if f := m.Field(k); f != nil && v != nil && check(f.Type, v, k) == nil {
				out[k] = v
			}
		}
	}
	version := 1
	switch v := old["version"].(type) {
	case int:
		version = v + 1
	case float64:
		version = int(v) + 1
	case string: // MessagingSetting declares a string version
		if n, err := strconv.Atoi(v); err == nil {
			version = n + 1
		}
	}
	// Server-side fields are set where the model declares them with the
	// value's type: MessagingSetting's version is a string.
	set := func(name string, v any) {
		f := m.Field(name)
		if f == nil {
			return
		}
		_, isString := v.(string)
		if isString == (f.Type.Kind == KindString) && (isString || f.Type.Kind == KindNumber) {
			out[name] = v
		}
	}
	set("id", id)
	set("selfUri", path)
	set("version", version)
	set("version", strconv.Itoa(version))
	set("dateModified", now)
	set("modifiedDate", now)
	if old == nil {
		set("dateCreated", now)
		set("createdDate", now)
	}
	return out
}

// decode reads and checks the request body against the operation's body
// type: 400 bad.request naming the first field that does not fit.
func (s *Service) decode(w http.ResponseWriter, r *http.Request, c *platform.Call, p *op) (map[string]any, bool) {
	if p.body == nil {
		_, _ = io.Copy(io.Discard, r.Body)
		return nil, true
	}
	if p.BodyOptional && r.ContentLength == 0 {
		return nil, true // the SDK sends no body when an optional one is unset
	}
	var v any
	if !platform.DecodeJSON(w, r, c, &v) {
		return nil, false
	}
	if m := Check(p.body, v); m != nil {
		platform.WriteErrorBody(w, &platform.ErrorBody{Status: http.StatusBadRequest, Code: platform.CodeBadRequest,
			Message: m.Error(), ContextID: c.ContextID,
			Details: []platform.Detail{{FieldName: m.Field, ErrorCode: platform.DetailType}}})
		return nil, false
	}
	obj, _ := v.(map[string]any)
	return obj, true
}

// complete answers 400 bad.request, as the platform does, when a create's
// body lacks (or nulls) a required field, naming each one missing. An
// optional body left out is not checked: the typings let it be.
func (s *Service) complete(w http.ResponseWriter, c *platform.Call, p *op, body map[string]any) bool {
	if body == nil && p.BodyOptional {
		return true
	}
	var probs platform.Problems
	for _, f := range p.required {
		if body[f] == nil {
			probs.Required(f)
		}
	}
	if probs.Empty() {
		return true
	}
	probs.Write(w, c)
	return false
}

// project returns body as an element of a listing of t: a listing may
// declare a narrower model than the one created (DomainEntityListing
// lists Greetings as DomainEntity), so undeclared fields are left out and
// missing required ones synthesised.
func project(t *Type, body map[string]any) any {
	if t == nil || t.Kind != KindModel {
		return body
	}
	out := make(map[string]any, len(body))
	for i := range t.Model.Fields {
		f := &t.Model.Fields[i]
		if v, ok := body[f.Name]; ok && check(f.Type, v, f.Name) == nil {
			out[f.Name] = v
		} else if f.Required {
			out[f.Name] = synth(f.Type, f.Name, t.Model.Name, fullDepth+1)
		}
	}
	return out
}

// list answers the platform's paging envelope over the collection at path.
func (s *Service) list(w http.ResponseWriter, r *http.Request, c *platform.Call, p *op, path string) {
	q := r.URL.Query()
	size, ok := pageParam(w, c, q, "pageSize", defaultPageSize, maxPageSize)
	if !ok {
		return
	}
	number, ok := pageParam(w, c, q, "pageNumber", 1, maxPageNumber)
	if !ok {
		return
	}
	bodies, total := s.store.list(c.OrgID, path, (number-1)*size, size)
	entities := make([]any, len(bodies))
	for i, b := range bodies {
		entities[i] = project(p.entities, b)
	}
	p.once.Do(func() { s.prepare(p) })
	out := make(map[string]json.RawMessage, len(p.synth)+9)
	for k, v := range p.synth {
		if k != "entities" {
			out[k], _ = json.Marshal(v)
		}
	}
	out["entities"], _ = json.Marshal(entities)
	pages := (total + size - 1) / size
	m := p.ret.Model
	uri := func(n int) json.RawMessage {
		return appendJSONString(nil, path+"?pageSize="+strconv.Itoa(size)+"&pageNumber="+strconv.Itoa(n))
	}
	// Envelope fields are set only where the listing declares them with
	// the envelope's type (InsightsTrend has entities and a model "total").
	set := func(name string, v json.RawMessage) {
		if f := m.Field(name); f != nil && (f.Type.Kind == KindString) == (v[0] == '"') &&
			(f.Type.Kind == KindString || f.Type.Kind == KindNumber) {
			out[name] = v
		}
	}
	num := func(n int) json.RawMessage { return json.RawMessage(strconv.Itoa(n)) }
	for _, k := range []string{"nextUri", "previousUri", "cursor", "nextPage", "previousPage"} {
		delete(out, k)
	}
	set("pageSize", num(size))
	set("pageNumber", num(number))
	set("total", num(total))
	set("pageCount", num(pages))
	set("firstUri", uri(1))
	set("selfUri", uri(number))
	set("lastUri", uri(max(pages, 1)))
	if number < pages {
		set("nextUri", uri(number+1))
	}
	if number > 1 {
		set("previousUri", uri(number-1))
	}
	// Not json.Marshal: it would escape the URIs' "&" as \u0026.
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(out)
	platform.WriteRawJSON(w, http.StatusOK, bytes.TrimSuffix(b.Bytes(), []byte("\n")))
}

func pageParam(w http.ResponseWriter, c *platform.Call, q map[string][]string, name string, def, most int) (int, bool) {
	v := q[name]
	if len(v) == 0 || v[0] == "" {
		return def, true
	}
	n, err := strconv.Atoi(v[0])
	if err != nil || n < 1 || n > most {
		platform.WriteErrorBody(w, &platform.ErrorBody{Status: http.StatusBadRequest, Code: platform.CodeInvalidValue,
			Message: "Invalid value for " + name + ": " + strconv.Quote(v[0]) + " is not an integer from 1 to " + strconv.Itoa(most) + ".", ContextID: c.ContextID,
			Details: []platform.Detail{{FieldName: name, ErrorCode: platform.DetailInvalid}}})
		return 0, false
	}
	return n, true
}
