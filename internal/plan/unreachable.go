package plan

import (
	"time"

	"go.yaml.in/yaml/v3"
)

// Unreachable is when a run gives up on a target it cannot connect to
// (the plan's abort_on_unreachable key): after After consecutive
// attempts that could not connect (refused, reset before any answer,
// unreachable), with no response in between. The zero value never
// aborts.
type Unreachable struct {
	// After is the count of consecutive failed attempts that aborts the
	// run; 0 never aborts.
	After int
	// Within limits the check to the run's first Within; 0 checks the
	// whole run.
	Within time.Duration
}

// DefaultUnreachable is Plan.Unreachable when the plan does not set
// abort_on_unreachable: a target that refuses the run's first 50
// attempts is down, but one that falls over later under load is a
// finding, and the run goes on to measure it.
var DefaultUnreachable = Unreachable{After: 50, Within: 10 * time.Second}

// unreachable decodes abort_on_unreachable:
//
//	abort_on_unreachable = "true"            // DefaultUnreachable.After, whole run
//	                     | "false"           // never
//	                     | count             // count, whole run
//	                     | "{" after: count [, within: duration] "}"
func (d *decoder) unreachable(n *yaml.Node) Unreachable {
	const what = "abort_on_unreachable"
	n = resolve(n)
	if n.Kind == yaml.MappingNode {
		f, ok := d.mapping(n, n, what, []string{"after", "within"})
		if !ok {
			return DefaultUnreachable
		}
		u := Unreachable{After: DefaultUnreachable.After}
		if v := f.val("after"); v != nil {
			if i, ok := d.integer(v, what+".after", 1); ok {
				u.After = i
			}
		}
		if v := f.val("within"); v != nil {
			if w, ok := d.duration(v, what+".within", false); ok {
				u.Within = w
			}
		}
		return u
	}
	v, ok := d.scalar(n, what, "true, false, a count or {after: 50, within: 10s}")
	if !ok {
		return DefaultUnreachable
	}
	switch v.tag {
	case boolTag:
		var b bool
		if decodeAs(v, &b) == nil {
			if !b {
				return Unreachable{}
			}
			return Unreachable{After: DefaultUnreachable.After}
		}
	case intTag:
		if i, ok := d.integer(n, what, 1); ok {
			return Unreachable{After: i}
		}
		return DefaultUnreachable
	}
	d.errorf(n, "%s must be true, false, a count of consecutive failed connections such as 50, or {after: 50, within: 10s}; got %s", what, describe(n))
	return DefaultUnreachable
}
