package dataset

import (
	"bufio"
	"errors"
	"fmt"
	"io"
)

// csvRecord is one parsed CSV record.
type csvRecord struct {
	line   int64    // 1-based line on which the record starts
	raw    []byte   // the record's text, without its line break
	fields []string // unquoted values
	quoted []bool   // field i was quoted (a quoted field is never null)
}

// csvParser splits RFC 4180 CSV into records: fields separated by delim,
// optionally quoted with '"' (a quote inside a quoted field is doubled), a
// quoted field may span lines, records end with "\n" or "\r\n". A quote
// inside an unquoted field is kept as text. Blank lines are skipped unless
// keepBlank is set.
type csvParser struct {
	br       *bufio.Reader
	delim    byte
	maxBytes int
	line     int64 // lines consumed
	// keepBlank returns a blank line as a record of one empty field (in a
	// one-column file it is a null).
	keepBlank bool
	field     []byte
}

func newCSVParser(r io.Reader, delim byte, maxBytes int) *csvParser {
	return &csvParser{br: bufio.NewReaderSize(r, 64<<10), delim: delim, maxBytes: maxBytes}
}

// csvSyntaxError is a malformed record: the record was consumed, and the
// parser goes on at the next one.
type csvSyntaxError struct {
	line int64
	msg  string
}

func (e *csvSyntaxError) Error() string { return e.msg }

// next parses the next record into rec (reusing its slices). It returns
// io.EOF at the end, a *csvSyntaxError for a malformed record (rec.line
// and rec.raw are set), or the reader's error.
func (p *csvParser) next(rec *csvRecord) error {
	rec.fields, rec.quoted, rec.raw = rec.fields[:0], rec.quoted[:0], rec.raw[:0]
	for { // skip blank lines
		b, err := p.br.Peek(1)
		if err != nil {
			return err // io.EOF: no more records
		}
		n := 0
		switch b[0] {
		case '\n':
			n = 1
		case '\r':
			if b2, _ := p.br.Peek(2); len(b2) == 2 && b2[1] == '\n' {
				n = 2
			}
		}
		if n == 0 {
			break
		}
		if _, err := p.br.Discard(n); err != nil {
			return err
		}
		p.line++
		if p.keepBlank {
			rec.line = p.line
			rec.fields, rec.quoted = append(rec.fields, ""), append(rec.quoted, false)
			return nil
		}
	}
	rec.line = p.line + 1
	fail := func(msg string) error {
		return &csvSyntaxError{line: rec.line, msg: msg}
	}
	tooLong := func() error {
		// Skip to the end of the physical line.
		for {
			c, err := p.br.ReadByte()
			if err != nil || c == '\n' {
				if err == nil {
					p.line++
				}
				break
			}
		}
		return fail(fmt.Sprintf("row longer than %d bytes (max_row_bytes)", p.maxBytes))
	}
	for {
		// Start of a field.
		p.field = p.field[:0]
		c, err := p.br.ReadByte()
		quoted := err == nil && c == '"'
		if quoted {
			rec.raw = append(rec.raw, c)
			startLine := p.line + 1
			for {
				c, err = p.br.ReadByte()
				if err != nil {
					if errors.Is(err, io.EOF) {
						return &csvSyntaxError{line: rec.line, msg: fmt.Sprintf("quoted field opened on line %d is not closed at the end of the file", startLine)}
					}
					return err
				}
				rec.raw = append(rec.raw, c)
				if len(rec.raw) > p.maxBytes {
					return tooLong()
				}
				if c == '\n' {
					p.line++
				}
				if c != '"' {
					p.field = append(p.field, c)
					continue
				}
				n, _ := p.br.Peek(1)
				if len(n) == 1 && n[0] == '"' {
					_, _ = p.br.ReadByte()
					rec.raw = append(rec.raw, '"')
					p.field = append(p.field, '"')
					continue
				}
				break // closing quote
			}
			c, err = p.br.ReadByte()
			if err == nil && c == '\r' {
				if n, _ := p.br.Peek(1); len(n) == 1 && n[0] == '\n' {
					c, err = p.br.ReadByte()
				}
			}
			if err == nil && c != p.delim && c != '\n' {
				rec.raw = append(rec.raw, c)
				for { // skip the rest of the line
					c, err = p.br.ReadByte()
					if err != nil || c == '\n' {
						break
					}
					rec.raw = append(rec.raw, c)
				}
				if err == nil {
					p.line++
				}
				return fail(fmt.Sprintf("text after the closing quote of field %d", len(rec.fields)+1))
			}
		} else {
			for err == nil && c != p.delim && c != '\n' {
				if c == '\r' {
					if n, _ := p.br.Peek(1); len(n) == 1 && n[0] == '\n' {
						c, err = p.br.ReadByte()
						break
					}
				}
				p.field = append(p.field, c)
				rec.raw = append(rec.raw, c)
				if len(rec.raw) > p.maxBytes {
					return tooLong()
				}
				c, err = p.br.ReadByte()
			}
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		rec.fields = append(rec.fields, string(p.field))
		rec.quoted = append(rec.quoted, quoted)
		if err != nil || c == '\n' { // end of the record
			if err == nil {
				p.line++
			}
			return nil
		}
		rec.raw = append(rec.raw, p.delim)
	}
}
