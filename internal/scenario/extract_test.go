package scenario

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

func TestExtract(t *testing.T) {
	t.Parallel()
	body := []byte(`{"id":"job-1","count":3,"ok":true,"none":null,"entities":[{"id":"a"},{"id":"b"}],"obj":{"x":1}}`)
	hdr := http.Header{"Location": {"/api/v2/recording/jobs/job-1"}}
	tests := []struct {
		spec      string
		kind      Kind
		text      string
		wantError string
	}{
		{"id", String, "job-1", ""},
		{"$.id", String, "job-1", ""},
		{"count", Number, "3", ""},
		{"ok", Bool, "true", ""},
		{"none", Null, "null", ""},
		{"entities.1.id", String, "b", ""},
		{"entities.#.id", JSON, `["a","b"]`, ""},
		{"obj", JSON, `{"x":1}`, ""},
		{"$", JSON, string(body), ""},
		{"header:Location", String, "/api/v2/recording/jobs/job-1", ""},
		{"header: location", String, "/api/v2/recording/jobs/job-1", ""},
		{"jobId", 0, "", `extract v (jobId): not found in {"id":"job-1"`},
		{"entities.5.id", 0, "", "not found"},
		{"header:Retry-After", 0, "", "the response has no Retry-After header"},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			t.Parallel()
			x, err := ParseExtractor("v", tt.spec, 0)
			if err != nil {
				t.Fatal(err)
			}
			v, err := x.Extract(body, hdr.Get)
			if tt.wantError != "" {
				if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), tt.wantError) {
					t.Fatalf("Extract = %v, want ErrNotFound containing %q", err, tt.wantError)
				}
				return
			}
			if err != nil || v.Kind() != tt.kind || v.Text() != tt.text {
				t.Errorf("Extract = %v kind %d (%v), want %q kind %d", v, v.Kind(), err, tt.text, tt.kind)
			}
		})
	}
}

func TestExtractFromNonJSONBody(t *testing.T) {
	t.Parallel()
	x, _ := ParseExtractor("id", "id", 0)
	_, err := x.Extract([]byte("<html>Bad Gateway</html>"), nil)
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "the body is not JSON: <html>Bad Gateway</html>") {
		t.Errorf("Extract = %v", err)
	}
	_, err = x.Extract(nil, nil)
	if err == nil || !strings.Contains(err.Error(), "(empty body)") {
		t.Errorf("Extract from an empty body = %v", err)
	}
	long := []byte(`{"x":"` + strings.Repeat("é", 200) + `"}`)
	_, err = x.Extract(long, nil)
	if err == nil || !strings.Contains(err.Error(), "(408 bytes)") || strings.ContainsRune(err.Error(), '\uFFFD') {
		t.Errorf("a long body is cut with its size: %v", err)
	}
}

func TestParseExtractorErrors(t *testing.T) {
	t.Parallel()
	for spec, msg := range map[string]string{
		"":           "empty path",
		"$.":         "empty path",
		"header:":    "bad header name",
		"header:a b": "bad header name",
		"$[0].id":    "array indexes with dots",
		"  ":         "empty path",
	} {
		if _, err := ParseExtractor("v", spec, 0); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("ParseExtractor(%q) = %v, want %q", spec, err, msg)
		}
	}
}

// TestElements: a JSON array's elements are typed as extraction types
// values; another value is one element, an unset one none.
func TestElements(t *testing.T) {
	arr := RawJSONValue(`["a", 2, true, null, {"k": 1}, [3]]`)
	got := Elements(arr)
	want := []Value{StringValue("a"), NumberValue("2"), BoolValue(true), NullValue(), RawJSONValue(`{"k": 1}`), RawJSONValue(`[3]`)}
	if len(got) != len(want) {
		t.Fatalf("%d elements, want %d: %v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("element %d: %#v, want %#v", i, got[i], want[i])
		}
	}
	if e := Elements(StringValue("x")); len(e) != 1 || e[0] != StringValue("x") {
		t.Errorf("a string: %v", e)
	}
	if e := Elements(RawJSONValue(`{"a":1}`)); len(e) != 1 {
		t.Errorf("an object is one element: %v", e)
	}
	if e := Elements(Value{}); e != nil {
		t.Errorf("unset: %v", e)
	}
}

// TestRegexExtractor: regex: takes the first group of the first match
// (the whole match without a group), as text; no match is ErrNotFound.
func TestRegexExtractor(t *testing.T) {
	body := []byte(`<input type="hidden" name="token" value="abc123"><input name="id" value="7">`)
	for _, c := range []struct{ spec, want string }{
		{`regex:name="token" value="([^"]+)"`, "abc123"},
		{`regex:name="id" value="(\d+)"`, "7"},
		{`regex:value="\d+"`, `value="7"`},
	} {
		x, err := ParseExtractor("v", c.spec, 0)
		if err != nil {
			t.Fatal(err)
		}
		v, err := x.Extract(body, nil)
		if err != nil || v != StringValue(c.want) {
			t.Errorf("%s: %v (%v), want %q", c.spec, v, err, c.want)
		}
	}
	x, _ := ParseExtractor("v", `regex:name="nope" value="(.*?)"`, 0)
	if _, err := x.Extract(body, nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("no match: %v, want ErrNotFound", err)
	}
	if _, err := ParseExtractor("v", `regex:(?<=a)b`, 0); err == nil || !strings.Contains(err.Error(), "RE2") {
		t.Errorf("lookbehind: %v, want an error naming RE2", err)
	}
}
