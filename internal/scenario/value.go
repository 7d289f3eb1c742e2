package scenario

import (
	"encoding/json"
	"github.com/tidwall/gjson"
	"strconv"
	"unicode/utf8"
)

// Kind is the JSON type of a Value. The zero Kind is Unset.
type Kind uint8

const (
	Unset  Kind = iota // no value: the variable was not set this iteration
	String             // text
	Number             // a JSON number, kept as written
	Bool               // true or false
	Null               // JSON null
	JSON               // a JSON object or array, kept as raw JSON text
)

// Value is a variable's value: text, or a JSON value extracted from a
// response with its type kept, so that a number extracted from one body
// is written as a number into the next. The zero Value is unset.
type Value struct {
	kind Kind
	s    string // the text (String) or the raw JSON (every other kind)
}

// StringValue returns a String value.
func StringValue(s string) Value { return Value{String, s} }

// IntValue returns a Number value.
func IntValue(i int64) Value { return Value{Number, strconv.FormatInt(i, 10)} }

// NumberValue returns a Number value for raw, which must be a JSON number.
func NumberValue(raw string) Value { return Value{Number, raw} }

// BoolValue returns a Bool value.
func BoolValue(b bool) Value { return Value{Bool, strconv.FormatBool(b)} }

// NullValue returns JSON null.
func NullValue() Value { return Value{Null, "null"} }

// RawJSONValue returns a JSON object or array value; raw must be valid JSON.
func RawJSONValue(raw string) Value { return Value{JSON, raw} }

// Kind returns v's type.
func (v Value) Kind() Kind { return v.kind }

// IsSet reports whether v holds a value.
func (v Value) IsSet() bool { return v.kind != Unset }

// Text returns v as text: a string as is, anything else as its JSON.
func (v Value) Text() string { return v.s }

// String is Text, for fmt.
func (v Value) String() string { return v.s }

// appendText appends v as text.
func (v Value) appendText(dst []byte) []byte { return append(dst, v.s...) }

// appendJSON appends v as a JSON value: strings quoted, the rest raw.
func (v Value) appendJSON(dst []byte) []byte {
	if v.kind == String {
		dst = append(dst, '"')
		dst = appendJSONEscaped(dst, v.s)
		return append(dst, '"')
	}
	return append(dst, v.s...)
}

// Any returns v as a Go value for conditions: string, float64, bool, nil,
// or the decoded object or array.
func (v Value) Any() any {
	switch v.kind {
	case String:
		return v.s
	case Number:
		f, _ := strconv.ParseFloat(v.s, 64)
		return f
	case Bool:
		return v.s == "true"
	case JSON:
		var x any
		if json.Unmarshal([]byte(v.s), &x) == nil {
			return x
		}
	}
	return nil
}

// appendJSONEscaped appends s escaped for the inside of a JSON string.
// Unlike encoding/json it leaves <, > and & alone; invalid UTF-8 becomes
// U+FFFD.
func appendJSONEscaped(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b = append(b, '\\', byte(r))
		case r == '\n':
			b = append(b, '\\', 'n')
		case r == '\r':
			b = append(b, '\\', 'r')
		case r == '\t':
			b = append(b, '\\', 't')
		case r < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[r>>4], hex[r&0xf])
		default:
			b = utf8.AppendRune(b, r)
		}
	}
	return b
}

// AppendJSONString appends s as a quoted JSON string.
func AppendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	b = appendJSONEscaped(b, s)
	return append(b, '"')
}

// Elements returns the elements of a JSON array value, each typed as
// extraction types values; any other set value is one element, and an
// unset one none. It is what a repeat over a list iterates.
func Elements(v Value) []Value {
	switch {
	case !v.IsSet():
		return nil
	case v.kind != JSON || !gjson.Parse(v.s).IsArray():
		return []Value{v}
	}
	var out []Value
	gjson.Parse(v.s).ForEach(func(_, r gjson.Result) bool {
		out = append(out, resultValue(r))
		return true
	})
	return out
}
