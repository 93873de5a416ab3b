// Package mimetree reads the MIME structure of a message in place: header
// blocks and their fields, media types and their parameters, and the tree
// of entities located by byte offsets. It is the one MIME reader under
// pkg/explode (what gets checked) and pkg/rebuild (what gets replaced), so
// both see the same parts; the MIME library enmime stays the independent
// second reading they compare against. Everything here runs in time linear
// in its input and copies no body bytes.
package mimetree

import (
	"bytes"
	"strings"
)

// Field is one field of a header block, located by byte offsets into the
// buffer it was read from.
type Field struct {
	// Name is the name as written, blanks around it trimmed; "" for a line
	// that is neither a field nor a continuation (no colon, an empty name,
	// or a continuation with nothing before it), which Block keeps.
	Name string
	// Value is the field body unfolded and trimmed (set by Fields, not by
	// Block).
	Value string
	Start int // first byte of the field
	Colon int // offset of the colon; -1 for a line without a name
	End   int // offset after the field's last line break
}

// RawName returns the bytes before the colon as written ("" without one).
func (f Field) RawName(b []byte) []byte {
	if f.Colon < 0 {
		return nil
	}
	return b[f.Start:f.Colon]
}

// LineEnd returns the offset of the next '\n' at or after pos in b[:end],
// or end, and the offset after it.
func LineEnd(b []byte, pos, end int) (nl, next int) {
	if i := bytes.IndexByte(b[pos:end], '\n'); i >= 0 {
		return pos + i, pos + i + 1
	}
	return end, end
}

// TrimCR drops a CR before a line's end offset.
func TrimCR(b []byte, start, nl int) int {
	if nl > start && b[nl-1] == '\r' {
		return nl - 1
	}
	return nl
}

// SplitHeader finds the header block of the entity in b[start:end]: it
// returns the offset after the header's last line and the offset where the
// body starts (after the blank line). An entity without a blank line is all
// header; one that starts with a blank line has an empty header.
func SplitHeader(b []byte, start, end int) (hdrEnd, bodyStart int) {
	for pos := start; pos < end; {
		nl, next := LineEnd(b, pos, end)
		if TrimCR(b, pos, nl) == pos {
			return pos, next
		}
		pos = next
	}
	return end, end
}

// Block splits the header block b[start:end] into its fields, in order,
// values not unfolded: a line that starts with a blank continues the field
// before it; any other line starts one, named when it holds a colon after
// a non-blank name. Every byte of the block belongs to exactly one field,
// so that the fields can be written back as they were.
func Block(b []byte, start, end int) []Field {
	var fields []Field
	for pos := start; pos < end; {
		nl, next := LineEnd(b, pos, end)
		line := b[pos:TrimCR(b, pos, nl)]
		if n := len(fields); n > 0 && len(line) > 0 && (line[0] == ' ' || line[0] == '\t') {
			fields[n-1].End = next
			pos = next
			continue
		}
		f := Field{Start: pos, Colon: -1, End: next}
		if i := bytes.IndexByte(line, ':'); i > 0 && line[0] != ' ' && line[0] != '\t' {
			if name := strings.TrimSpace(string(line[:i])); name != "" {
				f.Name, f.Colon = name, pos+i
			}
		}
		fields = append(fields, f)
		pos = next
	}
	return fields
}

// Fields returns the named fields of the header block b[start:end] with
// their values unfolded; lines that are no field, and their
// continuations, are left out. Unfolding costs time linear in the block
// however many continuation lines a field has.
func Fields(b []byte, start, end int) []Field {
	all := Block(b, start, end)
	fields := all[:0]
	for _, f := range all {
		if f.Name == "" {
			continue
		}
		f.Value = Unfold(b[f.Colon+1 : f.End])
		fields = append(fields, f)
	}
	return fields
}

// Unfold joins the lines of a field value with one blank, each trimmed,
// empty ones dropped, in time linear in len(v).
func Unfold(v []byte) string {
	if i := bytes.IndexByte(v, '\n'); i < 0 || i == len(v)-1 {
		return string(bytes.TrimSpace(v)) // one line: one copy
	}
	var out []byte
	for len(v) > 0 {
		line := v
		if i := bytes.IndexByte(v, '\n'); i >= 0 {
			line, v = v[:i], v[i+1:]
		} else {
			v = nil
		}
		if line = bytes.TrimSpace(line); len(line) > 0 {
			if len(out) > 0 {
				out = append(out, ' ')
			}
			out = append(out, line...)
		}
	}
	return string(out)
}

// Lookup returns the first field called name (case-insensitively).
func Lookup(fields []Field, name string) (Field, bool) {
	for _, f := range fields {
		if strings.EqualFold(f.Name, name) {
			return f, true
		}
	}
	return Field{}, false
}

// Value returns the value of the first field called name, or "".
func Value(fields []Field, name string) string {
	f, _ := Lookup(fields, name)
	return f.Value
}

// Values returns the values of every field called name
// (case-insensitively), in order.
func Values(fields []Field, name string) []string {
	var out []string
	for _, f := range fields {
		if strings.EqualFold(f.Name, name) {
			out = append(out, f.Value)
		}
	}
	return out
}
