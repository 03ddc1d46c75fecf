package runbooks

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Problem is one thing wrong with a runbook file, written for the person who edits it.
type Problem struct {
	File string
	// Line is 1-based; 0 means the problem concerns the whole file.
	Line    int
	Message string
}

// String formats the problem as "file:line: message", the way compilers do, so editors
// can jump to it.
func (p Problem) String() string {
	if p.Line <= 0 {
		return fmt.Sprintf("%s: %s", p.File, p.Message)
	}
	return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Message)
}

// Problems lists every problem found while loading runbooks, ordered by file and line.
// Loading functions return it as a *Problems error; errors.As works with a target of
// either *Problems or Problems.
type Problems []Problem

// Error joins the problems, one per line.
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// As lets errors.As fill a Problems (value) target from a *Problems error.
func (ps *Problems) As(target any) bool {
	if t, ok := target.(*Problems); ok && ps != nil {
		*t = *ps
		return true
	}
	return false
}

// err returns the problems as an error, or nil when there are none (never a typed nil).
func (ps Problems) err() error {
	if len(ps) == 0 {
		return nil
	}
	sorted := ps.sorted()
	return &sorted
}

// sorted returns a copy ordered by file then line, keeping the order of problems found
// on the same line.
func (ps Problems) sorted() Problems {
	out := slices.Clone(ps)
	slices.SortStableFunc(out, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line))
	})
	return out
}
