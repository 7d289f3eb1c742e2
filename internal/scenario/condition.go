package scenario

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"
)

// maxConditionNodes bounds a condition's syntax tree: conditions are a
// line of a plan, and a bound keeps a hostile plan from stalling the
// compiler.
const maxConditionNodes = 1000

// Condition is a boolean expr-lang expression over a JSON document (a
// response body or a notification frame), compiled once at load time.
// It is safe for concurrent use.
type Condition struct {
	src      string
	prog     *vm.Program
	usesVars bool
	usesText bool
}

// ConditionError is a condition that does not compile. Line and Col are
// 1-based, within the condition's text.
type ConditionError struct {
	Line, Col int
	Msg       string
}

func (e *ConditionError) Error() string { return e.Msg }

// CompileCondition compiles src, which must yield a boolean.
func CompileCondition(src string) (*Condition, error) {
	if strings.TrimSpace(src) == "" {
		return nil, &ConditionError{1, 1, "the condition is empty; write one such as state == \"FULFILLED\""}
	}
	prog, err := expr.Compile(src, expr.AsBool(), expr.AllowUndefinedVariables(), expr.MaxNodes(maxConditionNodes))
	if err != nil {
		var fe *file.Error
		if errors.As(err, &fe) {
			return nil, &ConditionError{max(fe.Line, 1), fe.Column + 1, fe.Message}
		}
		msg := err.Error()
		if strings.HasPrefix(msg, "expected bool") {
			msg = "the condition must be true or false, " + strings.TrimPrefix(msg, "expected bool, but ") +
				`; compare it, e.g. state == "FULFILLED"`
		}
		return nil, &ConditionError{1, 1, msg}
	}
	return &Condition{src: src, prog: prog, usesVars: strings.Contains(src, "$vars"), usesText: strings.Contains(src, "$text")}, nil
}

// Source returns the condition as written.
func (c *Condition) Source() string { return c.src }

// String is Source.
func (c *Condition) String() string { return c.src }

// UsesVars reports whether the condition reads $vars, so callers build
// that map only when it is needed.
func (c *Condition) UsesVars() bool { return c.usesVars }

// UsesText reports whether the condition reads $text, the body as text,
// so callers add it only when it is needed.
func (c *Condition) UsesText() bool { return c.usesText }

// Eval runs the condition over env (see DocumentEnv). A name env lacks
// is nil, so `state == "X"` is false, not an error, until state appears.
func (c *Condition) Eval(env map[string]any) (bool, error) {
	out, err := expr.Run(c.prog, env)
	if err != nil {
		return false, fmt.Errorf("condition %s: %w", c.src, err)
	}
	b, ok := out.(bool)
	if !ok {
		return false, fmt.Errorf("condition %s yields %T, not true or false", c.src, out)
	}
	return b, nil
}

// DocumentEnv returns the environment conditions see for a JSON document:
// its top-level fields by name, and the whole document as $body. A body
// that is not a JSON object leaves only $body (the decoded value, or the
// text when it is not JSON at all). Callers add $status, $vars and
// $text (the body as text, for conditions that use it).
func DocumentEnv(doc []byte) map[string]any {
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		return map[string]any{"$body": string(doc)}
	}
	env, ok := v.(map[string]any)
	if !ok {
		env = map[string]any{}
	}
	env["$body"] = v
	return env
}
