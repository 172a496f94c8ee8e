package filter

import (
	"fmt"
	"strings"
)

// Error is a compilation error: the expression does not parse, or asks for
// something the link type cannot provide.
type Error struct {
	// Line and Col locate the offending token, both counted from 1 (Col in
	// bytes).
	Line, Col int
	// Msg says what was expected or what is wrong.
	Msg string
}

// Error formats the error as "filter: LINE:COL: MSG".
func (e *Error) Error() string {
	return fmt.Sprintf("filter: %d:%d: %s", e.Line, e.Col, e.Msg)
}

// posError is an error at a byte offset, converted to an *Error once the
// expression is known.
type posError struct {
	pos int
	msg string
}

func (e *posError) Error() string { return e.msg }

func errAt(pos int, format string, args ...any) error {
	return &posError{pos: pos, msg: fmt.Sprintf(format, args...)}
}

// locate turns a posError into an *Error with line and column.
func locate(expr string, err error) error {
	pe, ok := err.(*posError)
	if !ok {
		return err
	}
	pos := min(max(pe.pos, 0), len(expr))
	line := 1 + strings.Count(expr[:pos], "\n")
	col := pos - strings.LastIndexByte(expr[:pos], '\n')
	return &Error{Line: line, Col: col, Msg: pe.msg}
}
