package platform

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", "quote\" back\\slash", "ctl\x00\x1f\n\t", "<&>", "é\u2028\u2029", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := AppendString(nil, s); string(got) != string(want) {
			t.Errorf("AppendString(%q) = %s, want %s", s, got, want)
		}
	})
}

func TestErrorBodyJSON(t *testing.T) {
	t.Parallel()
	e := ErrorBody{Message: "m", Code: "c", Status: 400, MessageWithParams: "x {p}", MessageParams: []Param{{"p", "v"}},
		ContextID: "id", Details: []Detail{{FieldName: "f", ErrorCode: "e"}, {ErrorCode: "only"}}}
	got := string(e.AppendJSON(nil))
	want := `{"message":"m","code":"c","status":400,"messageWithParams":"x {p}","messageParams":{"p":"v"},"contextId":"id","details":[{"fieldName":"f","errorCode":"e"},{"errorCode":"only"}],"errors":[]}`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if !json.Valid([]byte(got)) {
		t.Error("invalid JSON")
	}
}

func TestNewID(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 1000 {
		id := NewID()
		if len(id) != 36 || id[14] != '4' || id[8] != '-' || seen[id] {
			t.Fatalf("bad or repeated id %q", id)
		}
		seen[id] = true
	}
}

func TestDecodeJSONRejectsInvalidUTF8(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		body string
		ok   bool
	}{
		{`{"name":"Zoë"}`, true},
		{`{"name":"emoji 🙂"}`, true},
		{"{\"name\":\"\xff\"}", false},
		{"{\"name\":\"trunc\xc3\"}", false},
		{"{\"n\xe2\x82\":1}", false},
		{"{\"name\":\"surrogate \xed\xa0\x80\"}", false},
	} {
		r := httptest.NewRequest(http.MethodPost, "/x", strings.NewReader(tc.body))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		var v map[string]any
		ok := DecodeJSON(w, r, &Call{ContextID: "ctx"}, &v)
		if ok != tc.ok {
			t.Errorf("%q: ok = %v, want %v (%d %s)", tc.body, ok, tc.ok, w.Code, w.Body)
			continue
		}
		if !ok && (w.Code != 400 || !strings.Contains(w.Body.String(), `"code":"bad.request"`) || !strings.Contains(w.Body.String(), "UTF-8")) {
			t.Errorf("%q: answered %d %s", tc.body, w.Code, w.Body)
		}
	}
}
