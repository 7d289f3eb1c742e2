package jmx

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// ErrNotJMX is wrapped by Parse's error when the input is not a JMeter
// plan: not XML, or XML whose root is not <jmeterTestPlan>.
var ErrNotJMX = errors.New("jmx: not a JMeter test plan")

// Limits that keep a hostile or broken file from exhausting the reader.
const (
	maxDepth    = 64      // nested hashTrees, and nested properties
	maxElements = 100_000 // test elements in one plan
	maxProps    = 500_000 // properties in one plan
)

// Element is one test element of a JMeter plan: a Thread Group, an HTTP
// Request, a Header Manager... Its children are the elements of the
// hashTree that follows it in the file. An Element is plain data.
type Element struct {
	// Tag is the XML element name, e.g. "HTTPSamplerProxy".
	Tag string
	// TestClass and GUIClass are the element's testclass and guiclass
	// attributes; their short names are stable from JMeter 2.13 to 5.x.
	// TestClass is Tag when the attribute is missing.
	TestClass, GUIClass string
	// Name is the testname shown in JMeter's tree.
	Name string
	// Enabled is false for elements disabled in JMeter (enabled="false").
	Enabled bool
	// Line is the element's line in the file.
	Line     int
	Props    []*Prop
	Children []*Element
	Parent   *Element
}

// Prop is one property of an element: stringProp, intProp, longProp,
// boolProp, doubleProp, floatProp (Value set), elementProp (ElementType
// and Props set) or collectionProp (Props holds the items).
type Prop struct {
	// Kind is the XML element name: "stringProp", "elementProp"...
	Kind        string
	Name        string
	Value       string
	ElementType string
	Props       []*Prop
}

// Prop returns e's top-level property called name, or nil.
func (e *Element) Prop(name string) *Prop { return findProp(e.Props, name) }

// Str returns the value of e's top-level property called name, trimmed
// of surrounding white space ("" when absent).
func (e *Element) Str(name string) string {
	if p := e.Prop(name); p != nil {
		return strings.TrimSpace(p.Value)
	}
	return ""
}

// Bool returns the boolean property name, or def when absent or empty.
func (e *Element) Bool(name string, def bool) bool {
	if p := e.Prop(name); p != nil {
		switch strings.ToLower(strings.TrimSpace(p.Value)) {
		case "true":
			return true
		case "false":
			return false
		}
	}
	return def
}

// Prop returns p's sub-property called name (elementProp), or nil.
func (p *Prop) Prop(name string) *Prop {
	if p == nil {
		return nil
	}
	return findProp(p.Props, name)
}

// Str returns the trimmed value of p's sub-property name.
func (p *Prop) Str(name string) string {
	if q := p.Prop(name); q != nil {
		return strings.TrimSpace(q.Value)
	}
	return ""
}

func findProp(ps []*Prop, name string) *Prop {
	for _, p := range ps {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// Parse reads a JMeter plan (.jmx): the <jmeterTestPlan> root, its
// hashTree of test elements, and their properties. It returns the Test
// Plan element (normally the root's only element). It never panics;
// malformed XML, a wrong root and absurd nesting are errors.
func Parse(r io.Reader) (*Element, error) {
	p := &parser{d: xml.NewDecoder(r)}
	// JMeter writes UTF-8 but older files may say ISO-8859-1: accept any
	// declared charset as bytes, which is right for ASCII content.
	p.d.CharsetReader = func(_ string, in io.Reader) (io.Reader, error) { return in, nil }
	root, err := p.plan()
	if err != nil {
		return nil, err
	}
	return root, nil
}

type parser struct {
	d        *xml.Decoder
	elements int
	nprops   int
}

func (p *parser) line() int {
	l, _ := p.d.InputPos()
	return l
}

func (p *parser) errorf(format string, args ...any) error {
	return fmt.Errorf("jmx: line %d: %s", p.line(), fmt.Sprintf(format, args...))
}

// next returns the next start or end element, skipping text, comments
// and processing instructions.
func (p *parser) next() (xml.Token, error) {
	for {
		t, err := p.d.Token()
		if err != nil {
			return nil, err
		}
		switch t.(type) {
		case xml.StartElement, xml.EndElement:
			return t, nil
		}
	}
}

func (p *parser) plan() (*Element, error) {
	var root xml.StartElement
	for {
		t, err := p.d.Token()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil, fmt.Errorf("%w: the file is empty or holds no XML element", ErrNotJMX)
			}
			return nil, fmt.Errorf("%w: %v", ErrNotJMX, err)
		}
		if se, ok := t.(xml.StartElement); ok {
			root = se
			break
		}
	}
	if root.Name.Local != "jmeterTestPlan" {
		return nil, fmt.Errorf("%w: the root element is <%s>, want <jmeterTestPlan>; give a .jmx file saved by JMeter", ErrNotJMX, root.Name.Local)
	}
	var elems []*Element
	for {
		t, err := p.next()
		if err != nil {
			return nil, p.wrap(err)
		}
		switch t := t.(type) {
		case xml.EndElement:
			if len(elems) == 0 {
				return nil, fmt.Errorf("%w: <jmeterTestPlan> holds no Test Plan element", ErrNotJMX)
			}
			// Anything after the root is not our business.
			return planRoot(elems), nil
		case xml.StartElement:
			if t.Name.Local != "hashTree" {
				if err := p.d.Skip(); err != nil {
					return nil, p.wrap(err)
				}
				continue
			}
			es, err := p.hashTree(nil, 1)
			if err != nil {
				return nil, err
			}
			elems = append(elems, es...)
		}
	}
}

// planRoot picks the Test Plan among the top-level elements: JMeter 2.x
// and 3.x save a WorkBench beside it, which runs nothing. Without a Test
// Plan (a selection saved on its own), the elements are wrapped in one.
func planRoot(elems []*Element) *Element {
	var plans []*Element
	for _, e := range elems {
		if shortClass(e.TestClass) == "TestPlan" {
			plans = append(plans, e)
		}
	}
	if len(plans) == 1 {
		return plans[0]
	}
	if len(elems) == 1 {
		return elems[0]
	}
	root := &Element{Tag: "TestPlan", TestClass: "TestPlan", Name: "Test Plan", Enabled: true, Children: elems}
	for _, e := range elems {
		e.Parent = root
	}
	return root
}

func (p *parser) wrap(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return p.errorf("the file ends inside an element; it is truncated")
	}
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("jmx: line %d: malformed XML: %s", se.Line, se.Msg)
	}
	return fmt.Errorf("jmx: line %d: %w", p.line(), err)
}

// hashTree reads the elements of a hashTree up to its end tag: each test
// element, then the hashTree holding its children.
func (p *parser) hashTree(parent *Element, depth int) ([]*Element, error) {
	if depth > maxDepth {
		return nil, p.errorf("test elements nest deeper than %d levels", maxDepth)
	}
	var out []*Element
	var last *Element
	for {
		t, err := p.next()
		if err != nil {
			return nil, p.wrap(err)
		}
		switch t := t.(type) {
		case xml.EndElement:
			return out, nil
		case xml.StartElement:
			if t.Name.Local == "hashTree" {
				kids, err := p.hashTree(last, depth+1)
				if err != nil {
					return nil, err
				}
				if last != nil {
					last.Children = append(last.Children, kids...)
				}
				last = nil
				continue
			}
			if p.elements++; p.elements > maxElements {
				return nil, p.errorf("more than %d test elements; split the plan", maxElements)
			}
			e := &Element{Tag: t.Name.Local, Enabled: true, Parent: parent, Line: p.line()}
			for _, a := range t.Attr {
				switch a.Name.Local {
				case "testclass":
					e.TestClass = a.Value
				case "guiclass":
					e.GUIClass = a.Value
				case "testname":
					e.Name = a.Value
				case "enabled":
					e.Enabled = !strings.EqualFold(strings.TrimSpace(a.Value), "false")
				}
			}
			if e.TestClass == "" {
				e.TestClass = e.Tag
			}
			if e.Props, err = p.props(depth); err != nil {
				return nil, err
			}
			out = append(out, e)
			last = e
		}
	}
}

// props reads properties up to the end tag of the element they are in.
func (p *parser) props(depth int) ([]*Prop, error) {
	if depth > maxDepth {
		return nil, p.errorf("properties nest deeper than %d levels", maxDepth)
	}
	var out []*Prop
	for {
		t, err := p.next()
		if err != nil {
			return nil, p.wrap(err)
		}
		switch t := t.(type) {
		case xml.EndElement:
			return out, nil
		case xml.StartElement:
			if p.nprops++; p.nprops > maxProps {
				return nil, p.errorf("more than %d properties; split the plan", maxProps)
			}
			pr, err := p.prop(t, depth+1)
			if err != nil {
				return nil, err
			}
			if pr != nil {
				out = append(out, pr)
			}
		}
	}
}

// prop reads one property whose start tag is se. Unknown kinds (objProp,
// JMeter's serialised Java objects) are skipped and give nil.
func (p *parser) prop(se xml.StartElement, depth int) (*Prop, error) {
	pr := &Prop{Kind: se.Name.Local}
	for _, a := range se.Attr {
		switch a.Name.Local {
		case "name":
			pr.Name = a.Value
		case "elementType":
			pr.ElementType = a.Value
		}
	}
	switch pr.Kind {
	case "elementProp", "collectionProp":
		var err error
		if pr.Props, err = p.props(depth); err != nil {
			return nil, err
		}
		return pr, nil
	case "stringProp", "intProp", "longProp", "boolProp", "doubleProp", "floatProp",
		// Some elements (Throughput Controller) save JMeter's property
		// objects by their class name, with <name> and <value> children.
		"FloatProperty", "DoubleProperty", "IntegerProperty", "LongProperty", "StringProperty", "BooleanProperty":
	default:
		if err := p.d.Skip(); err != nil {
			return nil, p.wrap(err)
		}
		return nil, nil
	}
	// A scalar property holds text, or (doubleProp, floatProp in
	// TestBean elements) <name>, <value> and <savedValue> children.
	var text bytes.Buffer
	var child string
	var childText bytes.Buffer
	for {
		t, err := p.d.Token()
		if err != nil {
			return nil, p.wrap(err)
		}
		switch t := t.(type) {
		case xml.CharData:
			if child == "" {
				text.Write(t)
			} else {
				childText.Write(t)
			}
		case xml.StartElement:
			if child != "" {
				if err := p.d.Skip(); err != nil {
					return nil, p.wrap(err)
				}
				continue
			}
			child = t.Name.Local
			childText.Reset()
		case xml.EndElement:
			if child == "" {
				if pr.Value == "" {
					pr.Value = text.String()
				}
				return pr, nil
			}
			switch child {
			case "name":
				if pr.Name == "" {
					pr.Name = childText.String()
				}
			case "value":
				pr.Value = childText.String()
			}
			child = ""
		}
	}
}
