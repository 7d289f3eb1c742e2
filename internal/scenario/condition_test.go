package scenario

import (
	"errors"
	"strings"
	"testing"
)

func TestConditionEval(t *testing.T) {
	t.Parallel()
	job := []byte(`{"state":"READY","totalRecordings":3,"entities":[{"id":"a"},{"id":"b"}],"eventBody":{"state":"FULFILLED"}}`)
	tests := []struct {
		cond string
		doc  []byte
		vars map[string]any
		want bool
	}{
		{`state == "READY"`, job, nil, true},
		{`state == "FULFILLED"`, job, nil, false},
		{`state in ["FAILED", "CANCELLED"]`, job, nil, false},
		{`totalRecordings >= 3 && state != "FAILED"`, job, nil, true},
		{`eventBody.state == "FULFILLED"`, job, nil, true},
		{`any(entities, .id == "b")`, job, nil, true},
		{`any(entities, .id == $vars.want)`, job, map[string]any{"want": "a"}, true},
		{`$status == 202`, job, nil, true},
		{`missing == "x"`, job, nil, false}, // absent fields are nil, not errors
		{`$body == "not json"`, []byte("not json"), nil, true},
		{`len($body) == 2`, []byte(`[1,2]`), nil, true},
		{`date(t) > date($vars.since)`, []byte(`{"t":"2026-11-22T10:00:01.000Z"}`), map[string]any{"since": "2026-11-22T10:00:00.000Z"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.cond, func(t *testing.T) {
			t.Parallel()
			c, err := CompileCondition(tt.cond)
			if err != nil {
				t.Fatal(err)
			}
			env := DocumentEnv(tt.doc)
			env["$status"] = 202
			if tt.vars != nil {
				env["$vars"] = tt.vars
			}
			got, err := c.Eval(env)
			if err != nil || got != tt.want {
				t.Errorf("Eval = %v, %v; want %v", got, err, tt.want)
			}
			if c.UsesVars() != strings.Contains(tt.cond, "$vars") {
				t.Errorf("UsesVars = %v", c.UsesVars())
			}
		})
	}
}

func TestConditionCompileErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		src       string
		line, col int
		msg       string
	}{
		{`state ==`, 1, 8, "unexpected token EOF"},
		{`state == "READY`, 1, 16, "literal not terminated"},
		{`(state == "x"`, 1, 13, "unexpected token EOF"},
		{`1 + 1`, 1, 1, "must be true or false"},
		{`   `, 1, 1, "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			t.Parallel()
			_, err := CompileCondition(tt.src)
			var ce *ConditionError
			if !errors.As(err, &ce) {
				t.Fatalf("CompileCondition(%q) = %v, want *ConditionError", tt.src, err)
			}
			if ce.Line != tt.line || ce.Col != tt.col || !strings.Contains(ce.Msg, tt.msg) {
				t.Errorf("got %d:%d %q, want %d:%d containing %q", ce.Line, ce.Col, ce.Msg, tt.line, tt.col, tt.msg)
			}
		})
	}
}

func TestConditionRuntimeError(t *testing.T) {
	t.Parallel()
	c, err := CompileCondition(`state > 3`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Eval(DocumentEnv([]byte(`{"state":"READY"}`))); err == nil || !strings.Contains(err.Error(), "state > 3") {
		t.Errorf("comparing a string with a number: %v, want an error naming the condition", err)
	}
}
