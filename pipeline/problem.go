package pipeline

import (
	"fmt"
	"sort"
	"strings"
)

// A Problem is one thing wrong with a pipeline spec, located in its file.
type Problem struct {
	File   string `json:"file"`
	Line   int    `json:"line"`   // 1-based; 0 when the problem has no place in the file
	Column int    `json:"column"` // 1-based; 0 when unknown
	Path   string `json:"path"`   // the setting, as in "stages[2].batch_size"; "" for the whole file
	Msg    string `json:"message"`
}

func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", p.Line, p.Column)
	}
	b.WriteString(": ")
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Error lists every problem found in a spec, in file order. Loading and
// validation report all problems at once, not the first one only.
type Error struct {
	Problems []Problem
}

func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	if len(lines) == 1 {
		return lines[0]
	}
	return fmt.Sprintf("%d problems:\n%s", len(lines), strings.Join(lines, "\n"))
}

// problems collects Problems and turns them into an *Error.
type problems struct {
	file string
	list []Problem
}

func (ps *problems) add(line, col int, path, format string, args ...any) {
	ps.list = append(ps.list, Problem{File: ps.file, Line: line, Column: col, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// err returns nil when there are no problems, else an *Error with them
// sorted by position (problems without one last, in the order found).
func (ps *problems) err() error {
	if len(ps.list) == 0 {
		return nil
	}
	list := append([]Problem(nil), ps.list...)
	sort.SliceStable(list, func(i, j int) bool {
		a, b := list[i], list[j]
		if (a.Line == 0) != (b.Line == 0) {
			return b.Line == 0
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	return &Error{Problems: list}
}
