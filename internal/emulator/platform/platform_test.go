package platform

import (
	"encoding/json"
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
